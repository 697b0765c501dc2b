//! The chat providers: WhatsApp Business Cloud API, Facebook Messenger and SMS/MMS over
//! Twilio. Customers' messages come in as the providers' webhooks and leave as calls to
//! their APIs; in between, everything is the chat hub's (`crate::chat`).
//!
//! - `config`: the accounts at each provider, resolved from the config file.
//! - `signature`: the webhooks' signatures (`X-Hub-Signature-256`, `X-Twilio-Signature`),
//!   checked over the raw body in constant time, before anything is parsed.
//! - `whatsapp`, `facebook`, `twilio_sms`: each provider's payloads, pure: the webhook's
//!   body to inbound messages, and a reply to the provider's API request.
//! - `webhooks`: the open `/webhooks/{channel}` routes.
//! - `outbox_sender`: the task that sends the hub's outbox to the providers, durable, one
//!   sender per row at a time.
//! - `media_fetcher`: the task that fetches the files customers send into chat files.
//! - `leased_worker`: the claim, sleep and wake loop those two tasks share.
//!
//! **Architecture invariant:** nothing is stored for a webhook whose signature is wrong or
//! missing, or whose body does not parse: the signature is checked over the raw bytes
//! first, then the whole body is parsed, then its messages are handed to the hub.

pub mod config;
pub mod facebook;
mod leased_worker;
pub mod media_fetcher;
pub mod outbox_sender;
pub mod provider_request;
pub mod signature;
pub mod twilio_sms;
pub mod webhooks;
pub mod whatsapp;

/// One customer message as a provider delivered it, before the hub decides where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderMessage {
    /// The customer: an E.164 phone number (`+…`) or a Facebook page-scoped id.
    pub customer: String,
    /// The office's address the customer wrote to: our WhatsApp display number, our page
    /// id, our SMS number.
    pub office_address: String,
    /// The customer's name as the provider knows it.
    pub contact_name: Option<String>,
    /// The text; empty for a message that is only an attachment.
    pub text: String,
    /// Media the provider holds for us (a link or the provider's media id), as JSON
    /// `[{"url"|"id", "content_type"}]`; `None` for none.
    pub attachment: Option<serde_json::Value>,
    /// The provider's id of the message (`wamid.…`, `m_…`, `SM…`): a webhook the provider
    /// retries carries the same id, and the hub stores it once.
    pub provider_id: String,
    /// WhatsApp's reply address: the office number's id in the Graph API
    /// (`metadata.phone_number_id`), which the reply is posted to.
    pub reply_via: Option<String>,
}

/// Why a webhook's body was refused (400); `Display` is the answer's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);
