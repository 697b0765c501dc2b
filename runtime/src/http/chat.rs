//! The agents' chat API, `/api/chat/*`: the conversations a signed-in person may see,
//! what they do with them (answer, Take, Transfer, Dealt with, Archive, Delete, End chat
//! session, Block), starting an SMS chat, the quick-response templates, and the event
//! stream that keeps their page current.
//!
//! Only a person's session reaches these routes (the guard refuses an admin's: an admin
//! is not an agent), and every handler takes the person as an `Agent`. The decisions —
//! who may see a conversation, who wins a Take — are the chat hub's (`crate::chat`);
//! this layer reads requests, refuses malformed ones before anything is stored, and
//! turns the hub's answers and refusals into JSON (`api_error`). Two rules hold on every
//! route: a conversation the person may not see is answered exactly like one that does
//! not exist (404), and a conversation someone else took is a 409 naming who and when.

mod actions;
mod api_error;
mod call;
mod conversations;
mod events;
pub(super) mod files;
mod inputs;
mod sms;
mod templates;

use super::AppState;
use crate::chat::MAX_TEXT_CHARS;
use crate::http::auth::SignedInPerson;
use api_error::ChatApiError;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use inputs::{ChatJson, ChatQuery};

pub fn routes() -> Router<AppState> {
    // Every path is written out in full: the route walk in tests/editor_auth.rs reads
    // them from this file.
    Router::new()
        .route("/api/chat/conversations", get(conversations::list))
        .route(
            "/api/chat/conversations/{id}",
            get(conversations::read).delete(actions::delete),
        )
        .route(
            "/api/chat/conversations/{id}/information",
            get(conversations::information),
        )
        .route(
            "/api/chat/conversations/{id}/messages",
            post(actions::answer),
        )
        .route(
            "/api/chat/conversations/{id}/messages/{message}/resend",
            post(actions::resend),
        )
        // A file's bytes are the body: up to the chat's file limit here, not the API's
        // 16 KiB (the `headers` check refuses a larger declared length first, in words).
        .route(
            "/api/chat/conversations/{id}/files",
            post(files::send).layer(DefaultBodyLimit::max(
                crate::chat::file_types::MAX_FILE_BYTES,
            )),
        )
        .route("/api/chat/files/{id}", get(files::read))
        .route("/api/chat/conversations/{id}/read", post(actions::read))
        .route("/api/chat/conversations/{id}/take", post(actions::take))
        .route(
            "/api/chat/conversations/{id}/transfer",
            post(actions::transfer),
        )
        .route(
            "/api/chat/conversations/{id}/dealt-with",
            post(actions::dealt_with),
        )
        .route(
            "/api/chat/conversations/{id}/archive",
            post(actions::archive),
        )
        .route(
            "/api/chat/conversations/{id}/unarchive",
            post(actions::unarchive),
        )
        .route(
            "/api/chat/conversations/{id}/end-session",
            post(actions::end_session),
        )
        .route("/api/chat/conversations/{id}/block", post(actions::block))
        .route("/api/chat/sms", post(sms::start))
        .route("/api/chat/call", post(call::call))
        .route(
            "/api/chat/templates",
            get(templates::list).post(templates::create),
        )
        .route(
            "/api/chat/templates/{id}",
            put(templates::update).delete(templates::remove),
        )
        .route("/api/chat/events", get(events::events))
}

/// The person a chat request is from. The guard lets only a person's session through
/// to `/api/chat/*` and puts them in the request; the refusal here is the second line,
/// for a router built without that guard.
#[derive(Clone, Debug)]
pub struct Agent {
    pub extension: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Agent {
    type Rejection = ChatApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Agent, ChatApiError> {
        match parts.extensions.get::<SignedInPerson>() {
            Some(person) => Ok(Agent {
                extension: person.extension.clone(),
            }),
            None => Err(ChatApiError::forbidden(
                "the chat is for the office's people: sign in as your extension with POST \
                 /api/people/login (an admin is not an agent and has no conversations)",
            )),
        }
    }
}

/// A conversation id from the path: a number, or 400.
fn conversation_id(raw: &str) -> Result<i64, ChatApiError> {
    raw.parse().map_err(|_| {
        ChatApiError::bad_request(format!(
            "`{raw}` is not a conversation id (a number); GET /api/chat/conversations lists \
             yours with their ids"
        ))
    })
}

/// Refuses an empty message (400), or one over the hub's `MAX_TEXT_CHARS` (413),
/// before anything is stored.
fn check_text(text: &str) -> Result<(), ChatApiError> {
    if text.trim().is_empty() {
        return Err(ChatApiError::bad_request(
            "`text` is empty; write the message to send",
        ));
    }
    check_length(text)
}

/// Refuses a text over `MAX_TEXT_CHARS` with 413, saying how long it is.
fn check_length(text: &str) -> Result<(), ChatApiError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ChatApiError::TooLarge(format!(
            "the text is {chars} characters long; a chat message is at most \
             {MAX_TEXT_CHARS} characters (what WhatsApp takes), so split it in two"
        )));
    }
    Ok(())
}
