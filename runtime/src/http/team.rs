//! Colleagues' chat for the office's people, `/api/team/*`: their direct threads and
//! their queues' group threads, the messages, read marks, and an event stream that tells
//! a member's page of a new message as it is written.
//!
//! Only a person's session reaches these routes (the guard classifies `/api/team` as
//! the people's). Who may read a thread is the team service's decision
//! (`crate::chat::team`): a thread the person is not a member of is answered exactly
//! like one that does not exist (404). A refused request writes nothing.

mod events;
mod threads;

use super::{AppError, AppState};
use crate::chat::team::TeamError;
use axum::Router;
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
        .route("/api/team/events", get(events::events))
}

/// The service's refusal as the API answers it.
fn refused(error: TeamError) -> AppError {
    match error {
        TeamError::NotFound(words) => AppError::NotFound(words),
        TeamError::Invalid(words) => AppError::BadRequest(words),
        TeamError::Store(e) => AppError::Internal(e.to_string()),
    }
}
