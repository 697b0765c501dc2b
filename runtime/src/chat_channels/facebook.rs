//! Facebook Messenger: the page webhook's JSON to customer messages, and a reply to the
//! Send API request.
//!
//! Followed: Meta's Messenger Platform "Webhook events > messages" reference. A webhook
//! is `{"object": "page", "entry": [{"id", "time", "messaging": [{"sender": {"id": PSID},
//! "recipient": {"id": PAGE_ID}, "timestamp", "message": {"mid", "text"?,
//! "attachments"?: [{"type", "payload": {"url"}}], "is_echo"?}}]}]}`. Deliveries, reads
//! and postbacks carry no `message`; echoes (`is_echo`) are the page's own messages sent
//! back to it; neither is a customer's message and nothing is stored for them.

use super::{Malformed, ProviderMessage};
use crate::chat_channels::config::MessengerAccount;
use crate::chat_channels::provider_request::{Auth, Body, ProviderRequest};
use serde::Deserialize;

#[derive(Deserialize)]
struct Webhook {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    messaging: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    sender: Party,
    recipient: Party,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Party {
    id: String,
}

#[derive(Deserialize)]
struct Message {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    is_echo: bool,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<AttachmentPayload>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    url: Option<String>,
}

/// The customer messages of one webhook body, in the order sent.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderMessage>, Malformed> {
    let webhook: Webhook = serde_json::from_slice(body)
        .map_err(|e| Malformed(format!("not a Messenger webhook: {e}")))?;
    if webhook.object != "page" {
        return Err(Malformed(format!(
            "`object` is `{}`; a Messenger webhook has `page`",
            webhook.object
        )));
    }
    let mut out = Vec::new();
    for event in webhook.entry.iter().flat_map(|e| &e.messaging) {
        let Some(m) = &event.message else { continue };
        if m.is_echo {
            continue;
        }
        if m.mid.is_empty() || event.sender.id.is_empty() {
            return Err(Malformed("a message without `mid` or `sender.id`".into()));
        }
        let attachment = (!m.attachments.is_empty()).then(|| {
            serde_json::Value::Array(
                m.attachments
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "kind": a.kind,
                            "url": a.payload.as_ref().and_then(|p| p.url.clone()),
                        })
                    })
                    .collect(),
            )
        });
        out.push(ProviderMessage {
            customer: event.sender.id.clone(),
            office_address: event.recipient.id.clone(),
            contact_name: None,
            text: m.text.clone().unwrap_or_default(),
            attachment,
            provider_id: m.mid.clone(),
            reply_via: None,
        });
    }
    Ok(out)
}

/// The Send API request that answers the customer `psid` with `text`. `RESPONSE`: a
/// reply to a message the customer sent, which the platform allows within its window.
pub fn reply(account: &MessengerAccount, psid: &str, text: &str) -> ProviderRequest {
    ProviderRequest {
        url: format!("{}/me/messages", account.api_url),
        auth: Auth::Bearer(account.page_access_token.clone()),
        body: Body::Json(serde_json::json!({
            "recipient": {"id": psid},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        })),
    }
}

/// The images Messenger shows as a picture; any other file goes as a file.
const MESSENGER_IMAGES: &[&str] = &["image/jpeg", "image/png", "image/gif"];

/// The Send API request sending `file` to `psid`: an `image` attachment for a JPEG, PNG
/// or GIF, a `file` for anything else. Messenger fetches `file.url` itself. A Messenger
/// message carries a text or an attachment, never both, so a file goes without words
/// (the outbox sender refuses a reply that has both rather than drop its text).
pub fn file_reply(
    account: &MessengerAccount,
    psid: &str,
    file: &crate::chat::file_links::FileLink,
) -> ProviderRequest {
    let kind = if file.is_image_of(MESSENGER_IMAGES) {
        "image"
    } else {
        "file"
    };
    ProviderRequest {
        url: format!("{}/me/messages", account.api_url),
        auth: Auth::Bearer(account.page_access_token.clone()),
        body: Body::Json(serde_json::json!({
            "recipient": {"id": psid},
            "messaging_type": "RESPONSE",
            "message": {"attachment": {
                "type": kind,
                "payload": {"url": file.url, "is_reusable": false},
            }},
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    /// A text, an image, an echo of the page's own reply and a read receipt, as the
    /// Messenger reference shapes them.
    const BATCH: &str = r#"{
      "object": "page",
      "entry": [{
        "id": "1234567890", "time": 1458692752478,
        "messaging": [
          {"sender": {"id": "6783412098765432"}, "recipient": {"id": "1234567890"},
           "timestamp": 1458692752478,
           "message": {"mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
                       "text": "Do you ship to Canada?"}},
          {"sender": {"id": "6783412098765432"}, "recipient": {"id": "1234567890"},
           "timestamp": 1458692752500,
           "message": {"mid": "m_IMAGE", "attachments": [{"type": "image",
                       "payload": {"url": "https://scontent.example/photo.jpg"}}]}},
          {"sender": {"id": "1234567890"}, "recipient": {"id": "6783412098765432"},
           "timestamp": 1458692752600,
           "message": {"mid": "m_ECHO", "is_echo": true, "text": "We do."}},
          {"sender": {"id": "6783412098765432"}, "recipient": {"id": "1234567890"},
           "timestamp": 1458692752700, "read": {"watermark": 1458668856253}}
        ]
      }]
    }"#;

    #[test]
    fn customers_messages_are_kept_and_echoes_and_receipts_skipped() {
        let messages = parse(BATCH.as_bytes()).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].customer, "6783412098765432");
        assert_eq!(messages[0].office_address, "1234567890");
        assert_eq!(messages[0].text, "Do you ship to Canada?");
        assert!(messages[0].provider_id.starts_with("m_AG5H"));
        assert_eq!(messages[1].text, "");
        let attachment = messages[1].attachment.as_ref().unwrap();
        assert_eq!(attachment[0]["kind"], "image");
        assert_eq!(attachment[0]["url"], "https://scontent.example/photo.jpg");
    }

    #[test]
    fn other_json_is_malformed() {
        assert!(parse(br#"{"object":"whatsapp_business_account","entry":[]}"#).is_err());
        assert!(parse(br#"{"object":"page","entry":[{"messaging":[{"sender":{}}]}]}"#).is_err());
        assert!(parse(b"not json").is_err());
    }

    #[test]
    fn a_reply_goes_to_the_send_api_with_the_page_token() {
        let account = MessengerAccount {
            verify_token: Secret::new("v"),
            app_secret: Secret::new("s"),
            page_access_token: Secret::new("page-token"),
            api_url: "http://127.0.0.1:9/v21.0".into(),
        };
        let r = reply(&account, "6783412098765432", "We do.");
        assert_eq!(r.url, "http://127.0.0.1:9/v21.0/me/messages");
        assert_eq!(r.auth, Auth::Bearer(Secret::new("page-token")));
        let Body::Json(json) = r.body else {
            panic!("a JSON body")
        };
        assert_eq!(json["recipient"]["id"], "6783412098765432");
        assert_eq!(json["message"]["text"], "We do.");
    }
}
