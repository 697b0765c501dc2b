//! WhatsApp Business Cloud API: the webhook's JSON to customer messages, and a reply to
//! the Graph API request that sends it.
//!
//! Followed: Meta's "Webhooks > messages" reference of the Cloud API. A webhook is
//! `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
//! "value": {"metadata": {"display_phone_number", "phone_number_id"}, "contacts":
//! [{"profile": {"name"}, "wa_id"}], "messages": [{"from", "id", "timestamp", "type",
//! "text": {"body"} | "image"|"audio"|"video"|"document"|"sticker": {"id", "mime_type",
//! "caption"?}}], "statuses": [...]}}]}]}`. Status updates (sent, delivered, read) carry
//! no message and are acknowledged without storing anything.

use super::{Malformed, ProviderMessage};
use crate::chat_channels::config::WhatsAppAccount;
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
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Metadata {
    display_phone_number: String,
    phone_number_id: String,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    from: String,
    id: String,
    #[serde(rename = "type", default)]
    kind: String,
    text: Option<Text>,
    image: Option<Media>,
    audio: Option<Media>,
    video: Option<Media>,
    document: Option<Media>,
    sticker: Option<Media>,
}

#[derive(Deserialize)]
struct Text {
    body: String,
}

/// A customer's media. Newer webhooks also carry a `url`; it is not read: Meta serves it
/// only with the access token, so it is no link an agent's browser could open.
#[derive(Deserialize)]
struct Media {
    id: String,
    mime_type: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
}

/// The customer messages of one webhook body, in the order sent. A body that is not the
/// Cloud API's JSON is `Malformed`; a message of a kind without text or media (a
/// reaction, a location) is kept with its kind as text, so nothing a customer sent is
/// silently dropped.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderMessage>, Malformed> {
    let webhook: Webhook = serde_json::from_slice(body)
        .map_err(|e| Malformed(format!("not a WhatsApp Cloud API webhook: {e}")))?;
    if webhook.object != "whatsapp_business_account" {
        return Err(Malformed(format!(
            "`object` is `{}`; a WhatsApp webhook has `whatsapp_business_account`",
            webhook.object
        )));
    }
    let mut out = Vec::new();
    for change in webhook.entry.iter().flat_map(|e| &e.changes) {
        if change.field != "messages" || change.value.messages.is_empty() {
            continue;
        }
        let value = &change.value;
        let metadata = value.metadata.as_ref().ok_or_else(|| {
            Malformed("a `messages` change without `metadata` (the office's number)".into())
        })?;
        for m in &value.messages {
            let contact = value.contacts.iter().find(|c| c.wa_id == m.from);
            let media = [&m.image, &m.audio, &m.video, &m.document, &m.sticker]
                .into_iter()
                .flatten()
                .next();
            let text = match (&m.text, media) {
                (Some(t), _) => t.body.clone(),
                (None, Some(media)) => media.caption.clone().unwrap_or_default(),
                (None, None) => format!(
                    "[{}]",
                    if m.kind.is_empty() {
                        "unsupported"
                    } else {
                        &m.kind
                    }
                ),
            };
            let attachment = media.map(|media| {
                serde_json::json!([{
                    "id": media.id,
                    "content_type": media.mime_type,
                    "filename": media.filename,
                }])
            });
            if m.id.is_empty() || m.from.is_empty() {
                return Err(Malformed("a message without `id` or `from`".into()));
            }
            out.push(ProviderMessage {
                customer: e164(&m.from),
                office_address: e164(&metadata.display_phone_number),
                contact_name: contact.and_then(|c| c.profile.as_ref()?.name.clone()),
                text,
                attachment,
                provider_id: m.id.clone(),
                reply_via: Some(metadata.phone_number_id.clone()),
            });
        }
    }
    Ok(out)
}

/// A WhatsApp id or display number as E.164: digits only, with `+`.
fn e164(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

/// The Graph API request that sends `text` to the customer `to` (E.164) from the
/// office's number (`phone-number-id` in the config).
pub fn reply(account: &WhatsAppAccount, to: &str, text: &str) -> ProviderRequest {
    let body = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.trim_start_matches('+'),
        "type": "text",
        "text": {"preview_url": false, "body": text},
    });
    ProviderRequest {
        url: format!("{}/{}/messages", account.api_url, account.phone_number_id),
        auth: Auth::Bearer(account.access_token.clone()),
        body: Body::Json(body),
    }
}

/// The images WhatsApp shows as a picture; any other file goes as a document.
const WHATSAPP_IMAGES: &[&str] = &["image/jpeg", "image/png"];

/// The Graph API request sending `file` to `to`, the agent's `text` (if any) as its
/// caption: an image message for a JPEG or PNG, a document (with its file name) for
/// anything else. WhatsApp fetches `file.url` itself.
pub fn file_reply(
    account: &WhatsAppAccount,
    to: &str,
    text: &str,
    file: &crate::chat::file_links::FileLink,
) -> ProviderRequest {
    let (kind, mut media) = if file.is_image_of(WHATSAPP_IMAGES) {
        ("image", serde_json::json!({"link": file.url}))
    } else {
        (
            "document",
            serde_json::json!({"link": file.url, "filename": file.name}),
        )
    };
    if !text.is_empty() {
        media["caption"] = text.into();
    }
    let body = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.trim_start_matches('+'),
        "type": kind,
        kind: media,
    });
    ProviderRequest {
        url: format!("{}/{}/messages", account.api_url, account.phone_number_id),
        auth: Auth::Bearer(account.access_token.clone()),
        body: Body::Json(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    /// A text and an image in one webhook, shaped as Meta's reference shows them.
    const TEXT_AND_IMAGE: &str = r#"{
      "object": "whatsapp_business_account",
      "entry": [{
        "id": "102290129340398",
        "changes": [{
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [
              {"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
               "timestamp": "1739321024", "type": "text", "text": {"body": "Is the shop open on Sunday?"}},
              {"from": "16505551234", "id": "wamid.IMAGE1", "timestamp": "1739321030", "type": "image",
               "image": {"caption": "This one", "mime_type": "image/jpeg",
                         "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
                         "id": "2754859441498128"}}
            ]
          },
          "field": "messages"
        }]
      }]
    }"#;

    const STATUS_ONLY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{
      "messaging_product":"whatsapp","metadata":{"display_phone_number":"15556459128","phone_number_id":"590968830767958"},
      "statuses":[{"id":"wamid.X","status":"delivered","timestamp":"1750857384","recipient_id":"5516992318222"}]},
      "field":"messages"}]}]}"#;

    #[test]
    fn texts_and_media_become_messages_with_their_provider_ids() {
        let messages = parse(TEXT_AND_IMAGE.as_bytes()).unwrap();
        assert_eq!(messages.len(), 2);
        let text = &messages[0];
        assert_eq!(text.customer, "+16505551234");
        assert_eq!(text.office_address, "+15550783881");
        assert_eq!(text.contact_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(text.text, "Is the shop open on Sunday?");
        assert!(text.provider_id.starts_with("wamid.HBgL"));
        assert_eq!(text.reply_via.as_deref(), Some("106540352242922"));
        assert_eq!(text.attachment, None);
        let image = &messages[1];
        assert_eq!(image.text, "This one");
        assert_eq!(
            image.attachment.as_ref().unwrap()[0]["id"],
            "2754859441498128"
        );
        assert_eq!(
            image.attachment.as_ref().unwrap()[0]["content_type"],
            "image/jpeg"
        );
    }

    #[test]
    fn status_updates_store_nothing_and_other_json_is_malformed() {
        assert_eq!(parse(STATUS_ONLY.as_bytes()).unwrap(), vec![]);
        assert!(
            parse(b"{\"object\":\"page\",\"entry\":[]}")
                .unwrap_err()
                .0
                .contains("whatsapp_business_account")
        );
        assert!(parse(b"{\"object\": ").is_err());
        assert!(parse(b"[1,2]").is_err());
    }

    #[test]
    fn a_reply_is_a_bearer_post_to_the_numbers_messages() {
        let account = WhatsAppAccount {
            verify_token: Secret::new("v"),
            app_secret: Secret::new("s"),
            access_token: Secret::new("EAAG-token"),
            phone_number_id: "106540352242922".into(),
            api_url: "http://127.0.0.1:9/v21.0".into(),
        };
        let r = reply(&account, "+16505551234", "Yes, 10 to 4.");
        assert_eq!(r.url, "http://127.0.0.1:9/v21.0/106540352242922/messages");
        assert_eq!(r.auth, Auth::Bearer(Secret::new("EAAG-token")));
        let Body::Json(json) = r.body else {
            panic!("a JSON body")
        };
        assert_eq!(json["to"], "16505551234");
        assert_eq!(json["messaging_product"], "whatsapp");
        assert_eq!(json["text"]["body"], "Yes, 10 to 4.");
    }
}
