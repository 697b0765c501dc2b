//! What a person does with a conversation: answer it (`POST …/messages`), Take,
//! Transfer, Dealt with, Archive, Unarchive, Delete, End chat session and Block.
//!
//! Each is one call to the hub, which decides and stores in one transaction; a refused
//! action wrote nothing. Answering an unowned conversation takes it; a conversation
//! someone else took answers 409 with who and when; one the person may not see, 404.
//! An action answers the conversation as it left it (`{"conversation": …}`), a reply
//! the stored message (201 `{"message": …}`), a delete 204.

use super::api_error::from_hub;
use super::conversations::{ConversationView, MessageJson, state_view};
use super::{Agent, ChatApiError, ChatJson, check_text, conversation_id};
use crate::chat::{ChatConversation, ChatError, ChatMessageRow};
use crate::http::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_dsl::Plan;

/// `POST …/messages`' body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub text: String,
}

/// `POST …/transfer`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The extension to hand the conversation to.
    pub to: String,
}

/// `POST …/read`'s body: the newest message the person has seen.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    pub message_id: i64,
}

/// The answer to an action: the conversation as it left it.
#[derive(Serialize, Debug)]
pub struct Acted {
    pub conversation: ConversationView,
}

/// The answer to a reply: the stored message.
#[derive(Serialize, Debug)]
pub struct Answered {
    pub message: MessageJson,
}

/// `POST /api/chat/conversations/{id}/messages`.
pub async fn answer(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
    ChatJson(body): ChatJson<Answer>,
) -> Result<(StatusCode, Json<Answered>), ChatApiError> {
    let id = conversation_id(&raw)?;
    check_text(&body.text)?;
    let stored = state
        .chat
        .reply(&agent.extension, id, &body.text, None)
        .await;
    let plan = state.plans.plan();
    let message = stored.map_err(|e| from_hub(e, &plan, Some(id)))?;
    let message = row_view(&plan, message);
    Ok((StatusCode::CREATED, Json(Answered { message })))
}

/// `POST /api/chat/conversations/{id}/messages/{message}/resend`: the owner queues a
/// failed reply again (204); its `delivery` is `pending` until the provider answers.
pub async fn resend(
    State(state): State<AppState>,
    agent: Agent,
    Path((raw, raw_message)): Path<(String, String)>,
) -> Result<StatusCode, ChatApiError> {
    let id = conversation_id(&raw)?;
    let message: i64 = raw_message.parse().map_err(|_| {
        ChatApiError::bad_request(format!(
            "`{raw_message}` is not a message id (a number); GET              /api/chat/conversations/{id} lists the conversation's messages"
        ))
    })?;
    let done = state.chat.resend(&agent.extension, id, message).await;
    done.map_err(|e| from_hub(e, &state.plans.plan(), Some(id)))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chat/conversations/{id}/read` `{"message_id": 42}`: the person has read
/// it up to that message (204); their `unread` counts only what came after.
pub async fn read(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
    ChatJson(body): ChatJson<Read>,
) -> Result<StatusCode, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state
        .chat
        .mark_read(&agent.extension, id, body.message_id)
        .await;
    done.map_err(|e| from_hub(e, &state.plans.plan(), Some(id)))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/chat/conversations/{id}/take`.
pub async fn take(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.take(&agent.extension, id).await;
    acted(&state, id, done)
}

/// `POST /api/chat/conversations/{id}/transfer` `{"to": "102"}`.
pub async fn transfer(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
    ChatJson(body): ChatJson<Transfer>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let to = body.to.trim();
    if to.is_empty() {
        return Err(ChatApiError::bad_request(
            "`to` is empty: give the extension to transfer to (GET /api/people?q= finds \
             one by name or number)",
        ));
    }
    let done = state.chat.transfer(&agent.extension, id, to).await;
    acted(&state, id, done)
}

/// `POST /api/chat/conversations/{id}/dealt-with`.
pub async fn dealt_with(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.dealt_with(&agent.extension, id).await;
    acted(&state, id, done)
}

/// `POST /api/chat/conversations/{id}/archive`.
pub async fn archive(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.archive(&agent.extension, id).await;
    acted(&state, id, done)
}

/// `POST /api/chat/conversations/{id}/unarchive`.
pub async fn unarchive(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.unarchive(&agent.extension, id).await;
    acted(&state, id, done)
}

/// `POST /api/chat/conversations/{id}/end-session` (live chat only).
pub async fn end_session(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.end_session(&agent.extension, id).await;
    acted(&state, id, done)
}

/// `POST /api/chat/conversations/{id}/block` (live chat only).
pub async fn block(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<Json<Acted>, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.block(&agent.extension, id).await;
    acted(&state, id, done)
}

/// `DELETE /api/chat/conversations/{id}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<StatusCode, ChatApiError> {
    let id = conversation_id(&raw)?;
    let done = state.chat.delete(&agent.extension, id).await;
    done.map_err(|e| from_hub(e, &state.plans.plan(), Some(id)))?;
    Ok(StatusCode::NO_CONTENT)
}

fn acted(
    state: &AppState,
    id: i64,
    done: Result<ChatConversation, ChatError>,
) -> Result<Json<Acted>, ChatApiError> {
    let plan = state.plans.plan();
    let conversation = done.map_err(|e| from_hub(e, &plan, Some(id)))?;
    Ok(Json(Acted {
        conversation: state_view(&plan, conversation),
    }))
}

/// A message the hub just stored, as every route shows messages.
pub fn row_view(plan: &Plan, m: ChatMessageRow) -> MessageJson {
    super::conversations::message_view(crate::chat::MessageView {
        id: m.id,
        direction: m.direction,
        author_name: m
            .author
            .as_deref()
            .and_then(|a| plan.extension(a))
            .and_then(|e| e.name.clone()),
        author: m.author,
        text: m.text,
        attachment: m.attachment,
        at_ms: m.created_at_ms,
        delivery: None,
    })
}
