//! Reading conversations: `GET /api/chat/conversations` (the person's recents or
//! archive), `GET /api/chat/conversations/{id}` (one with its messages) and
//! `GET /api/chat/conversations/{id}/information` (the contact and their history with
//! every agent) — and the JSON shapes every chat route answers conversations and
//! messages in.
//!
//! Times are given twice: `at` in RFC 3339 (UTC, to the second) for people, `at_ms`
//! (milliseconds since the epoch) for ordering and for the page's own formatting.

use super::api_error::from_hub;
use super::{Agent, ChatApiError, ChatQuery, conversation_id};
use crate::chat::{
    ChatConversation, ConversationDetail, ConversationSummary, Information, MessageView,
};
use crate::http::{AppState, time};
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};
use switchboard_dsl::Plan;

/// `GET /api/chat/conversations`' query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `1` (or `true`) for the archive, `0` (the default) for the recents.
    #[serde(default)]
    pub archived: Option<String>,
}

/// A conversation as every route shows it.
#[derive(Serialize, Debug)]
pub struct ConversationView {
    pub id: i64,
    /// `livechat`, `whatsapp`, `facebook` or `sms`.
    pub channel: String,
    /// The customer's address: a phone number, a Facebook id, a live-chat visitor.
    pub customer: String,
    pub contact_name: Option<String>,
    /// The office number or page written to; "" where the channel has none.
    pub office_address: String,
    /// What routing chose: "queue 800", "extension 102".
    pub routed_to: String,
    /// The extension that owns it; `null` while it is offered.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub archived: bool,
    pub dealt_with_at: Option<String>,
    /// The latest message; absent in the answer to an action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<LastView>,
    /// The customer's messages since the last reply; absent in the answer to an action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<u32>,
}

#[derive(Serialize, Debug)]
pub struct LastView {
    pub text: String,
    pub direction: &'static str,
    pub at: String,
    pub at_ms: u64,
    /// The file the last message carried, as on the message itself, so the list can
    /// name it ("You: form.pdf") rather than say "an attachment".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<serde_json::Value>,
}

/// A message as every route shows it.
#[derive(Serialize, Debug)]
pub struct MessageJson {
    pub id: i64,
    /// `in` (the customer's), `out` (an agent's reply) or `system` (a note for agents).
    pub direction: &'static str,
    /// The agent's extension, for `out` and the notes an agent caused.
    pub author: Option<String>,
    pub author_name: Option<String>,
    pub text: String,
    /// The file, as the channel described it (name, type, size, where it is kept).
    pub attachment: Option<serde_json::Value>,
    pub at: String,
    pub at_ms: u64,
    /// How a reply through a provider is being delivered: `pending` (on its way; after
    /// a failed try with the provider's words and the next try's time), `sent`, or
    /// `failed` (refused for good, the provider's words; the owner may send it again);
    /// absent for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryView>,
}

#[derive(Serialize, Debug)]
pub struct DeliveryView {
    /// `pending`, `sent` or `failed`.
    pub state: &'static str,
    pub attempts: u32,
    /// The provider's words (or why it could not be reached) from the last failed try.
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    /// When a reply that failed for now is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at_ms: Option<u64>,
}

/// The outbox's row as the agent sees it: in flight is still `pending`, `dead` is
/// `failed`; the next try's time only while retrying after a failure.
fn delivery_view(d: crate::chat::Delivery) -> DeliveryView {
    let state = match d.state.as_str() {
        "sent" => "sent",
        "dead" => "failed",
        _ => "pending",
    };
    let retrying = d.state == "pending" && d.attempts > 0 && d.last_error.is_some();
    let next = retrying.then_some(d.next_attempt_at_ms);
    DeliveryView {
        state,
        attempts: d.attempts,
        last_error: d.last_error,
        sent_at: d.sent_at_ms.map(rfc3339),
        next_attempt_at: next.map(rfc3339),
        next_attempt_at_ms: next,
    }
}

/// `GET /api/chat/conversations/{id}`.
#[derive(Serialize, Debug)]
pub struct DetailView {
    pub conversation: ConversationView,
    /// Oldest first.
    pub messages: Vec<MessageJson>,
}

/// The saved contact matching a customer: by phone number on SMS and WhatsApp, which the
/// carrier vouches for. Never by the e-mail a live-chat visitor typed: anyone can type a
/// saved contact's address and would be shown as them, their notes and company beside
/// a stranger's chat (the agent sees the typed address as not verified, and may add it).
async fn saved_contact(
    state: &AppState,
    info: &Information,
) -> Result<Option<crate::sqlite_store::Contact>, ChatApiError> {
    let Some(phone) = matches!(info.channel, "sms" | "whatsapp").then(|| info.customer.clone())
    else {
        return Ok(None);
    };
    state
        .store
        .run_sqlite(move |store| store.contact_by_phone(&phone))
        .await
        .and_then(|r| r)
        .map_err(|e| ChatApiError::internal(e.to_string()))
}

/// `GET /api/chat/conversations/{id}/information`.
#[derive(Serialize, Debug)]
pub struct InformationView {
    pub contact: ContactView,
    /// The office's saved contact (`/api/contacts`) with this customer's number (SMS,
    /// WhatsApp), when there is one; never matched by a live-chat visitor's typed e-mail.
    pub saved_contact: Option<crate::sqlite_store::Contact>,
    /// Every conversation of this customer's address, with every agent.
    pub history: Vec<HistoryView>,
}

#[derive(Serialize, Debug)]
pub struct ContactView {
    pub channel: String,
    pub customer: String,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A live-chat visitor's network address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct HistoryView {
    pub conversation_id: i64,
    pub channel: String,
    pub office_address: String,
    /// When it started.
    pub at: String,
    pub last_at: String,
    /// The agents who answered, in the order they first did.
    pub agents: Vec<AgentView>,
    pub routed_to: String,
    pub dealt_with_at: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct AgentView {
    pub extension: String,
    pub name: Option<String>,
}

/// `GET /api/chat/conversations?archived=0|1`: the conversations the person sees, the
/// latest first.
pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
    ChatQuery(query): ChatQuery<ListQuery>,
) -> Result<Json<Vec<ConversationView>>, ChatApiError> {
    let archived = match query.archived.as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(ChatApiError::bad_request(format!(
                "`archived={other}`: write archived=1 for the archived conversations, \
                 archived=0 (or nothing) for the recents"
            )));
        }
    };
    let found = state.chat.list(&agent.extension, archived).await;
    let summaries = found.map_err(|e| from_hub(e, &state.plans.plan(), None))?;
    Ok(Json(summaries.into_iter().map(summary_view).collect()))
}

/// `GET /api/chat/conversations/{id}`: the conversation with its messages; 404 when
/// the person may not see it.
pub async fn read(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<DetailView>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let found = state.chat.read(&agent.extension, id).await;
    let ConversationDetail {
        conversation,
        messages,
    } = found.map_err(|e| from_hub(e, &state.plans.plan(), Some(id)))?;
    Ok(Json(DetailView {
        conversation: summary_view(conversation),
        messages: messages.into_iter().map(message_view).collect(),
    }))
}

/// `GET /api/chat/conversations/{id}/information`.
pub async fn information(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<InformationView>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let plan = state.plans.plan();
    let found = state.chat.information(&agent.extension, id).await;
    let info: Information = found.map_err(|e| from_hub(e, &plan, Some(id)))?;
    let saved_contact = saved_contact(&state, &info).await?;
    Ok(Json(InformationView {
        saved_contact,
        contact: ContactView {
            channel: info.channel.to_string(),
            customer: info.customer,
            name: info.name,
            email: info.email,
            address: info.address,
        },
        history: info
            .history
            .into_iter()
            .map(|h| HistoryView {
                conversation_id: h.conversation_id,
                channel: h.channel.to_string(),
                office_address: h.office_address,
                at: rfc3339(h.started_at_ms),
                last_at: rfc3339(h.last_at_ms),
                agents: h
                    .agents
                    .into_iter()
                    .map(|extension| AgentView {
                        name: name_of(&plan, &extension),
                        extension,
                    })
                    .collect(),
                routed_to: h.routed_to,
                dealt_with_at: h.dealt_with_at_ms.map(rfc3339),
            })
            .collect(),
    }))
}

/// A conversation of the person's list.
pub fn summary_view(c: ConversationSummary) -> ConversationView {
    ConversationView {
        id: c.id,
        channel: c.channel.to_string(),
        customer: c.customer,
        contact_name: c.contact_name,
        office_address: c.office_address,
        routed_to: c.routed_to,
        owner: c.owner,
        owner_name: c.owner_name,
        archived: c.archived,
        dealt_with_at: c.dealt_with_at_ms.map(rfc3339),
        last: c.last.map(|m| LastView {
            text: m.text,
            direction: m.direction.as_str(),
            at: rfc3339(m.at_ms),
            at_ms: m.at_ms,
            attachment: m.attachment.map(attachment_json),
        }),
        unread: Some(c.unread),
    }
}

/// A conversation as an action left it (without its last message and unread count,
/// which the page reads with the list).
pub fn state_view(plan: &Plan, c: ChatConversation) -> ConversationView {
    ConversationView {
        id: c.id,
        channel: c.channel.as_str().to_string(),
        contact_name: crate::chat::contact_name(c.channel, &c.customer, c.contact_name.as_deref()),
        customer: c.customer,
        office_address: c.office_address,
        routed_to: c.routed_to,
        owner_name: c.owner.as_deref().and_then(|o| name_of(plan, o)),
        owner: c.owner,
        archived: c.archived,
        dealt_with_at: c.dealt_with_at_ms.map(rfc3339),
        last: None,
        unread: None,
    }
}

/// A message as the hub shows it to agents.
pub fn message_view(m: MessageView) -> MessageJson {
    MessageJson {
        id: m.id,
        direction: m.direction.as_str(),
        author: m.author,
        author_name: m.author_name,
        text: m.text,
        attachment: m.attachment.map(attachment_json),
        at: rfc3339(m.at_ms),
        at_ms: m.at_ms,
        delivery: m.delivery.map(delivery_view),
    }
}

/// The stored attachment description as JSON; text that is not JSON is passed on as a
/// string rather than lost.
fn attachment_json(stored: String) -> serde_json::Value {
    serde_json::from_str(&stored).unwrap_or(serde_json::Value::String(stored))
}

fn name_of(plan: &Plan, extension: &str) -> Option<String> {
    plan.extension(extension).and_then(|e| e.name.clone())
}

fn rfc3339(ms: u64) -> String {
    time::rfc3339(UNIX_EPOCH + Duration::from_millis(ms))
}
