//! Colleagues' chat for the office's people, `/api/team/*`: their direct threads and
//! their queues' group threads, the messages and files, read marks, and an event stream
//! that tells a member's page of a new message as it is written.
//!
//! Only a person's session reaches these routes (the guard classifies `/api/team` as
//! the people's). Who may read a thread is the team service's decision
//! (`crate::chat::team`): a thread the person is not a member of is answered exactly
//! like one that does not exist (404). A refused request writes nothing.

mod events;
mod files;
mod threads;

use super::{AppError, AppState};
use crate::chat::team::TeamError;
use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    // Every path is written out in full: the route walk in tests/editor_auth.rs reads
    // them from this file.
    Router::new()
        .route("/api/team/threads", get(threads::list))
        .route("/api/team/direct", post(threads::direct))
        .route(
            "/api/team/threads/{id}/messages",
            get(threads::messages).post(threads::post),
        )
        .route("/api/team/threads/{id}/read", post(threads::read))
        // A file's bytes are the body: up to the chat's file limit here, as for the
        // customers' chat files, not the API's 16 KiB.
        .route(
            "/api/team/threads/{id}/files",
            post(files::send).layer(DefaultBodyLimit::max(
                crate::chat::file_types::MAX_FILE_BYTES,
            )),
        )
        .route("/api/team/files/{id}", get(files::read))
        .route("/api/team/events", get(events::events))
}

/// A team route's refusal: `{"error": "..."}` with its status, as every API answers.
#[derive(Debug)]
pub enum TeamApiError {
    /// 400, 404 and 500, as every route answers them.
    App(AppError),
    /// A status `AppError` has no variant for (413, 415), with the words.
    Status(StatusCode, String),
}

impl From<AppError> for TeamApiError {
    fn from(e: AppError) -> TeamApiError {
        TeamApiError::App(e)
    }
}

impl IntoResponse for TeamApiError {
    fn into_response(self) -> Response {
        match self {
            TeamApiError::App(e) => e.into_response(),
            TeamApiError::Status(status, error) => {
                (status, Json(serde_json::json!({ "error": error }))).into_response()
            }
        }
    }
}

/// The service's refusal as the API answers it.
fn refused(error: TeamError) -> TeamApiError {
    match error {
        TeamError::NotFound(words) => AppError::NotFound(words).into(),
        TeamError::Invalid(words) => AppError::BadRequest(words).into(),
        TeamError::TooLarge(words) => TeamApiError::Status(StatusCode::PAYLOAD_TOO_LARGE, words),
        TeamError::Store(e) => AppError::Internal(e.to_string()).into(),
    }
}
