//! The thread routes: list, start a direct thread, read, write, mark read.

use super::{TeamApiError, refused};
use crate::chat::team::{MessageView, ThreadSummary};
use crate::http::auth::SignedInPerson;
use crate::http::{AppError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// `POST /api/team/direct`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectWith {
    with: String,
}

/// `POST /api/team/threads/{id}/messages`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    text: String,
}

/// `GET …/messages`' query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    before: Option<i64>,
}

/// A JSON body of type `T`, or 400 saying what is wrong with it — unknown fields
/// included, so a misspelt field is refused rather than ignored.
fn body<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(raw).map_err(|e| {
        AppError::BadRequest(format!(
            "the request body is not what this route takes: {e}; send JSON as the team \
             chat documentation shows"
        ))
    })
}

/// A thread id from the path: a number, or 400.
pub(super) fn thread_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().map_err(|_| {
        AppError::BadRequest(format!(
            "`{raw}` is not a thread id (a number); GET /api/team/threads lists yours"
        ))
    })
}

/// `GET /api/team/threads`.
pub async fn list(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
) -> Result<Json<Vec<ThreadSummary>>, TeamApiError> {
    let threads = state.chat.team().threads(&person.extension).await;
    threads.map(Json).map_err(refused)
}

/// `POST /api/team/direct {with}`.
pub async fn direct(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    raw: Bytes,
) -> Result<Json<ThreadSummary>, TeamApiError> {
    let DirectWith { with } = body(&raw)?;
    let thread = state
        .chat
        .team()
        .direct(&person.extension, with.trim())
        .await;
    thread.map(Json).map_err(refused)
}

/// `GET /api/team/threads/{id}/messages?before=`.
pub async fn messages(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    Path(id): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Vec<MessageView>>, TeamApiError> {
    let id = thread_id(&id)?;
    let Query(Page { before }) = page.map_err(|e| {
        AppError::BadRequest(format!(
            "the query string is not what this route takes: {}; it takes `before` (a \
             message id) only",
            e.body_text()
        ))
    })?;
    let page = state
        .chat
        .team()
        .messages(&person.extension, id, before)
        .await;
    page.map(Json).map_err(refused)
}

/// `POST /api/team/threads/{id}/messages {text}` → 201 with the message; 413 for a text
/// (or a body) over the limit, as the customers' chat answers.
pub async fn post(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<MessageView>), TeamApiError> {
    let id = thread_id(&id)?;
    let raw = raw.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TeamApiError::Status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over {} bytes; a team message is at most {} \
                     characters, so split it in two",
                    crate::http::BODY_LIMIT,
                    crate::chat::MAX_TEXT_CHARS
                ),
            )
        } else {
            AppError::BadRequest(format!(
                "the request body could not be read: {}",
                rejection.body_text()
            ))
            .into()
        }
    })?;
    let NewMessage { text } = body(&raw)?;
    let message = state.chat.team().post(&person.extension, id, text).await;
    message
        .map(|m| (StatusCode::CREATED, Json(m)))
        .map_err(refused)
}

/// `POST /api/team/threads/{id}/read` → 204.
pub async fn read(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    Path(id): Path<String>,
) -> Result<StatusCode, TeamApiError> {
    let id = thread_id(&id)?;
    let marked = state.chat.team().mark_read(&person.extension, id).await;
    marked.map(|()| StatusCode::NO_CONTENT).map_err(refused)
}
