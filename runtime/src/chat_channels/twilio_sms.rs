//! SMS and MMS over Twilio: the messaging webhook's form to a customer message, and a
//! reply to the Messages API request.
//!
//! Followed: Twilio's "Messaging webhook request" reference. A webhook is an
//! `application/x-www-form-urlencoded` POST with `MessageSid`, `AccountSid`, `From`,
//! `To`, `Body`, `NumMedia` and, per attachment `N` from 0, `MediaUrlN` and
//! `MediaContentTypeN` (among others not used here). It is answered with empty TwiML,
//! `<Response/>`: the reply, if any, goes out later through the outbox.

use super::{Malformed, ProviderMessage};
use crate::chat_channels::config::TwilioAccount;
use crate::chat_channels::provider_request::{Auth, Body, ProviderRequest};

/// The answer that tells Twilio the message was taken and nothing is sent back now.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/// The form's pairs, in the order sent: what the signature is computed over.
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, Malformed> {
    if std::str::from_utf8(body).is_err() {
        return Err(Malformed("the form is not UTF-8".into()));
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

/// The customer message of a webhook's form pairs.
pub fn parse(pairs: &[(String, String)]) -> Result<ProviderMessage, Malformed> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &str| {
        get(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            Malformed(format!(
                "the form has no `{name}`; this is not a Twilio messaging webhook"
            ))
        })
    };
    let sid = required("MessageSid")?;
    let from = required("From")?;
    let to = required("To")?;
    let media_count = match get("NumMedia") {
        None => 0,
        Some(n) => n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 10)
            .ok_or_else(|| Malformed(format!("`NumMedia` is `{n}`, not a number of 0 to 10")))?,
    };
    let mut media = Vec::new();
    for i in 0..media_count {
        let url = get(&format!("MediaUrl{i}")).ok_or_else(|| {
            Malformed(format!(
                "`NumMedia` is {media_count} but `MediaUrl{i}` is missing"
            ))
        })?;
        media.push(serde_json::json!({
            "url": url,
            "content_type": get(&format!("MediaContentType{i}")),
        }));
    }
    Ok(ProviderMessage {
        customer: from.trim().to_string(),
        office_address: to.trim().to_string(),
        contact_name: None,
        text: get("Body").unwrap_or("").to_string(),
        attachment: (!media.is_empty()).then_some(serde_json::Value::Array(media)),
        provider_id: sid.trim().to_string(),
        reply_via: None,
    })
}

/// The Messages API request that sends `text` from the office number `from` to `to`.
pub fn reply(account: &TwilioAccount, from: &str, to: &str, text: &str) -> ProviderRequest {
    ProviderRequest {
        url: format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            account.api_url, account.account_sid
        ),
        auth: Auth::Basic {
            user: account.account_sid.clone(),
            password: account.auth_token.clone(),
        },
        body: Body::Form(vec![
            ("To".into(), to.into()),
            ("From".into(), from.into()),
            ("Body".into(), text.into()),
        ]),
    }
}

/// The Messages API request sending `file` (as an MMS) and `text` (which may be empty)
/// from the office's number `from` to `to`. Twilio fetches `MediaUrl` itself.
pub fn file_reply(
    account: &TwilioAccount,
    from: &str,
    to: &str,
    text: &str,
    file: &crate::chat::file_links::FileLink,
) -> ProviderRequest {
    let mut request = reply(account, from, to, text);
    if let Body::Form(pairs) = &mut request.body {
        pairs.push(("MediaUrl".into(), file.url.clone()));
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    /// An MMS with one picture, spelt and ordered as Twilio posts it.
    const MMS: &str = "ToCountry=US&MediaContentType0=image%2Fjpeg&ToState=NY&SmsMessageSid=MM1f0e8b3b5c0c4e0f9a2b3c4d5e6f7a8b\
        &NumMedia=1&ToCity=NEW+YORK&FromZip=10001&SmsSid=MM1f0e8b3b5c0c4e0f9a2b3c4d5e6f7a8b&FromState=NY\
        &SmsStatus=received&FromCity=NEW+YORK&Body=Here+is+the+receipt+%F0%9F%A7%BE&FromCountry=US&To=%2B12125550100\
        &ToZip=10001&NumSegments=1&MessageSid=MM1f0e8b3b5c0c4e0f9a2b3c4d5e6f7a8b\
        &AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B16465550123\
        &MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0123456789abcdef0123456789abcdef%2FMessages%2FMM1f0e%2FMedia%2FME1&ApiVersion=2010-04-01";

    #[test]
    fn an_mms_becomes_a_message_with_its_media() {
        let pairs = form_pairs(MMS.as_bytes()).unwrap();
        let m = parse(&pairs).unwrap();
        assert_eq!(m.customer, "+16465550123");
        assert_eq!(m.office_address, "+12125550100");
        assert_eq!(m.text, "Here is the receipt 🧾");
        assert_eq!(m.provider_id, "MM1f0e8b3b5c0c4e0f9a2b3c4d5e6f7a8b");
        let media = m.attachment.unwrap();
        assert_eq!(media[0]["content_type"], "image/jpeg");
        assert!(media[0]["url"].as_str().unwrap().ends_with("/Media/ME1"));
    }

    #[test]
    fn a_form_without_the_messaging_fields_is_malformed() {
        let pairs = form_pairs(b"From=%2B16465550123&Body=hi").unwrap();
        assert!(parse(&pairs).unwrap_err().0.contains("MessageSid"));
        let pairs = form_pairs(b"MessageSid=SM1&From=a&To=b&NumMedia=2&MediaUrl0=x").unwrap();
        assert!(parse(&pairs).unwrap_err().0.contains("MediaUrl1"));
        assert!(form_pairs(b"Body=\xff\xfe").is_err());
    }

    #[test]
    fn a_reply_is_a_basic_auth_form_to_the_accounts_messages() {
        let account = TwilioAccount {
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: Secret::new("tok"),
            api_url: "http://127.0.0.1:9".into(),
        };
        let r = reply(&account, "+12125550100", "+16465550123", "Got it, thanks");
        assert_eq!(
            r.url,
            "http://127.0.0.1:9/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        );
        assert_eq!(
            r.body,
            Body::Form(vec![
                ("To".into(), "+16465550123".into()),
                ("From".into(), "+12125550100".into()),
                ("Body".into(), "Got it, thanks".into()),
            ])
        );
    }
}
