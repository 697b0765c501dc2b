//! The providers' webhooks: `/webhooks/whatsapp`, `/webhooks/facebook`, `/webhooks/sms`.
//!
//! Open (no session: the providers sign their requests instead), outside `/api`. A POST
//! goes through, in this order, and stops at the first refusal, so nothing is stored for
//! a refused request:
//! 1. the channel: unknown → 404; not in the config file → 404 naming `chat.<channel>`;
//! 2. the size: over `BODY_LIMIT` → 413;
//! 3. the signature over the raw body (`signature`), in constant time: wrong or missing
//!    → 401;
//! 4. the whole body parsed (`whatsapp`, `facebook`, `twilio_sms`): malformed → 400; a
//!    media link that is not https left out and said in the message's text instead
//!    (`https_media_only`); every message checked against the hub's limits: one too long
//!    → 413;
//! 5. each message to `ChatHub::receive` with the provider's message id, so a webhook
//!    the provider retries is stored once. A store failure answers 500 and the provider
//!    retries; what was stored before it is recognised by its id.
//!
//! `GET /webhooks/whatsapp` and `/webhooks/facebook` answer Meta's verification
//! handshake: `hub.mode=subscribe` with the configured `hub.verify_token` (compared in
//! constant time) gets `hub.challenge` back; anything else 403.

use super::signature::{self, SignatureError};
use super::{Malformed, ProviderMessage, facebook, twilio_sms, whatsapp};
use crate::chat::{ChatError, Inbound, MAX_TEXT_CHARS};
use crate::http::{AppError, AppState};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use switchboard_dsl::ast::Channel;

/// The largest webhook body taken. Meta batches many messages into one webhook, so this
/// is well above one message's size.
pub const BODY_LIMIT: u64 = 1024 * 1024;

/// The webhook routes, merged into the app's router (`http::app`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/{channel}", get(verify).post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT as usize))
}

/// The channel a webhook path names.
fn channel(name: &str) -> Result<Channel, AppError> {
    match name {
        "whatsapp" => Ok(Channel::WhatsApp),
        "facebook" => Ok(Channel::Facebook),
        "sms" => Ok(Channel::Sms),
        "livechat" => Err(AppError::NotFound(
            "live chat has no webhook: the website's widget talks to /chat/ws".into(),
        )),
        other => Err(AppError::NotFound(format!(
            "no chat channel `{other}`; the webhooks are /webhooks/whatsapp, \
             /webhooks/facebook and /webhooks/sms"
        ))),
    }
}

fn not_configured(channel: Channel) -> AppError {
    let key = channel.as_str();
    let keys = match channel {
        Channel::WhatsApp => "verify-token, app-secret, access-token and phone-number-id",
        Channel::Facebook => "verify-token, app-secret and page-access-token",
        _ => "provider: twilio, account-sid and auth-token (and chat.public-url)",
    };
    AppError::NotFound(format!(
        "the {key} channel is not set up: add `chat.{key}` to the config file ({keys}) \
         and restart"
    ))
}

/// `GET /webhooks/{channel}`: Meta's verification handshake.
async fn verify(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    let channel = channel(&name)?;
    let accounts = &state.chat_config.channels;
    let token = match channel {
        Channel::WhatsApp => accounts.whatsapp.as_ref().map(|a| &a.verify_token),
        Channel::Facebook => accounts.facebook.as_ref().map(|a| &a.verify_token),
        _ => {
            return Ok((
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "POST")],
                "the SMS webhook takes the provider's POSTs only",
            )
                .into_response());
        }
    }
    .ok_or_else(|| not_configured(channel))?;
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("hub.mode") != Some("subscribe") {
        return Err(AppError::Forbidden(
            "this is the provider's verification: it needs hub.mode=subscribe".into(),
        ));
    }
    let given = get("hub.verify_token").unwrap_or("");
    if !token.matches(given.as_bytes()) {
        return Err(AppError::Forbidden(format!(
            "hub.verify_token is not the configured `chat.{}.verify-token`",
            channel.as_str()
        )));
    }
    let challenge = get("hub.challenge").unwrap_or("").to_string();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        challenge,
    )
        .into_response())
}

/// `POST /webhooks/{channel}`: the provider's messages.
async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    let channel = channel(&name)?;
    let accounts = &state.chat_config.channels;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Refusal::TooLarge(format!(
            "the webhook's body is over {BODY_LIMIT} bytes; nothing was stored"
        )),
        _ => AppError::BadRequest(format!("the webhook's body could not be read: {e}")).into(),
    })?;
    let header = |name: &str| headers.get(name).map(|v| v.as_bytes());
    let messages = match channel {
        Channel::WhatsApp | Channel::Facebook => {
            let app_secret = match channel {
                Channel::WhatsApp => accounts.whatsapp.as_ref().map(|a| &a.app_secret),
                _ => accounts.facebook.as_ref().map(|a| &a.app_secret),
            }
            .ok_or_else(|| not_configured(channel))?;
            signature::check_meta(app_secret, &body, header(signature::META_HEADER))
                .map_err(refused)?;
            match channel {
                Channel::WhatsApp => whatsapp::parse(&body),
                _ => facebook::parse(&body),
            }
            .map_err(malformed)?
        }
        _ => {
            let account = accounts
                .sms
                .as_ref()
                .ok_or_else(|| not_configured(channel))?;
            // Twilio signs the URL it called: ours as the config spells it, the path and
            // any query.
            let public_url = accounts.public_url.as_deref().unwrap_or("");
            let url = match uri.query() {
                Some(q) => format!("{public_url}{}?{q}", uri.path()),
                None => format!("{public_url}{}", uri.path()),
            };
            // The form's pairs are what the signature covers; decoding them is not yet
            // reading the message.
            let pairs = twilio_sms::form_pairs(&body).map_err(|e| {
                // Not even a form: no signature can match it.
                match header(signature::TWILIO_HEADER) {
                    None => refused(SignatureError::Missing("X-Twilio-Signature")),
                    Some(_) => malformed(e),
                }
            })?;
            signature::check_twilio(
                &account.auth_token,
                &url,
                &pairs,
                header(signature::TWILIO_HEADER),
            )
            .map_err(refused)?;
            vec![twilio_sms::parse(&pairs).map_err(malformed)?]
        }
    };
    let messages: Vec<ProviderMessage> = messages.into_iter().map(https_media_only).collect();
    // Every message passes before any is stored.
    for m in &messages {
        let chars = m.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(Refusal::TooLarge(format!(
                "message {} has {chars} characters; at most {MAX_TEXT_CHARS} are taken; \
                 nothing was stored",
                m.provider_id
            )));
        }
    }
    let mut stored = 0;
    let mut duplicates = 0;
    // Where each message went: a provider ignores it; a load test and a log reader
    // match it to the agents' events.
    let mut conversations = Vec::new();
    for m in messages {
        if m.text.trim().is_empty() && m.attachment.is_none() {
            // An empty SMS: nothing a customer said, and nothing to show an agent.
            continue;
        }
        let provider_id = m.provider_id.clone();
        match state.chat.receive(inbound(channel, m)).await {
            Ok(r) => {
                conversations.push(r.conversation_id);
                if r.duplicate {
                    duplicates += 1;
                } else {
                    stored += 1;
                }
            }
            Err(ChatError::Blocked) => {
                tracing::info!(
                    channel = channel.as_str(),
                    provider_id,
                    "a message from a blocked address was dropped"
                );
            }
            Err(ChatError::Invalid(words)) => return Err(AppError::BadRequest(words).into()),
            Err(e) => {
                return Err(AppError::Internal(format!(
                    "storing a {} message: {e}",
                    channel.as_str()
                ))
                .into());
            }
        }
    }
    Ok(match channel {
        Channel::Sms => (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            twilio_sms::EMPTY_TWIML,
        )
            .into_response(),
        _ => axum::Json(serde_json::json!({
            "stored": stored,
            "duplicates": duplicates,
            "conversations": conversations,
        }))
        .into_response(),
    })
}

/// What an agent reads in place of a provider's media link that is not https.
pub const LINK_NOT_HTTPS: &str =
    "(a file the provider sent with a link that is not https: not shown)";

/// `m` with only the media whose link is https (or that has no link: WhatsApp's media
/// ids): the agents' pages show a provider's link as a link to click, and a link from a
/// webhook is the sender's text as far as the browser is concerned (`javascript:`, a
/// plain-http page on the way). Each other one is left out of the attachment and said in
/// the text instead (`LINK_NOT_HTTPS`), so the agent still knows a file came.
pub fn https_media_only(mut m: ProviderMessage) -> ProviderMessage {
    let Some(serde_json::Value::Array(media)) = m.attachment.take() else {
        return m;
    };
    let (kept, dropped): (Vec<_>, Vec<_>) =
        media.into_iter().partition(|item| match item.get("url") {
            Some(serde_json::Value::String(url)) => is_https_link(url),
            Some(serde_json::Value::Null) | None => true,
            Some(_) => false,
        });
    for _ in &dropped {
        if !m.text.is_empty() {
            m.text.push('\n');
        }
        m.text.push_str(LINK_NOT_HTTPS);
    }
    m.attachment = (!kept.is_empty()).then_some(serde_json::Value::Array(kept));
    m
}

/// Whether `url` is an https link a browser reads as written: `https://` (any case), a
/// host, and no spaces, control characters or backslashes (which browsers rewrite).
pub fn is_https_link(url: &str) -> bool {
    let Some(scheme) = url.get(..8) else {
        return false;
    };
    let rest = &url[8..];
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    scheme.eq_ignore_ascii_case("https://")
        && !host.is_empty()
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
}

fn inbound(channel: Channel, m: ProviderMessage) -> Inbound {
    Inbound {
        channel,
        customer: m.customer,
        office_address: Some(m.office_address),
        contact_name: m.contact_name,
        contact_email: None,
        address: None,
        text: m.text,
        attachment: m.attachment.map(|a| a.to_string()),
        provider_id: Some(m.provider_id),
        language: None,
    }
}

/// A refused webhook: the app's errors, and 413 for a body or message over the limits.
#[derive(Debug)]
enum Refusal {
    App(AppError),
    TooLarge(String),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        Refusal::App(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::App(e) => e.into_response(),
            Refusal::TooLarge(words) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(serde_json::json!({ "error": words })),
            )
                .into_response(),
        }
    }
}

fn refused(e: SignatureError) -> AppError {
    AppError::Unauthorized(format!("{e}; nothing was stored"))
}

fn malformed(e: Malformed) -> AppError {
    AppError::BadRequest(format!("{e}; nothing was stored"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_links_with_a_host_count_as_https() {
        for ok in [
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
            "HTTPS://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg?_nc_cat=1",
            "https://example.com",
        ] {
            assert!(is_https_link(ok), "{ok}");
        }
        for bad in [
            "http://example.com/a.jpg",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//example.com/a.jpg",
            "https:/example.com",
            "https://",
            "https:///a.jpg",
            " https://example.com",
            "https://example.com/a b.jpg",
            "https://example.com\\@evil.test/",
            "https://example.com/\u{0}",
            "ftp://example.com/a.jpg",
            "",
        ] {
            assert!(!is_https_link(bad), "{bad:?}");
        }
    }

    fn message(text: &str, attachment: Option<serde_json::Value>) -> ProviderMessage {
        ProviderMessage {
            customer: "+16465550123".into(),
            office_address: "+12605550100".into(),
            contact_name: None,
            text: text.into(),
            attachment,
            provider_id: "SM1".into(),
            reply_via: None,
        }
    }

    #[test]
    fn a_media_link_that_is_not_https_becomes_words_and_the_rest_is_kept() {
        let media = serde_json::json!([
            {"url": "http://example.com/a.jpg", "content_type": "image/jpeg"},
            {"url": "https://example.com/b.jpg", "content_type": "image/jpeg"},
            {"id": "1046239480374823", "content_type": "image/png"},
            {"kind": "fallback", "url": null},
        ]);
        let m = https_media_only(message("Here you go", Some(media)));
        assert_eq!(m.text, format!("Here you go\n{LINK_NOT_HTTPS}"));
        assert_eq!(
            m.attachment,
            Some(serde_json::json!([
                {"url": "https://example.com/b.jpg", "content_type": "image/jpeg"},
                {"id": "1046239480374823", "content_type": "image/png"},
                {"kind": "fallback", "url": null},
            ]))
        );
        // Only unsafe links: no attachment left, the words say what came.
        let only = serde_json::json!([{"url": "javascript:alert(1)"}]);
        let m = https_media_only(message("", Some(only)));
        assert_eq!((m.text.as_str(), m.attachment), (LINK_NOT_HTTPS, None));
        // Nothing to check: unchanged.
        assert_eq!(https_media_only(message("Hi", None)), message("Hi", None));
    }
}
