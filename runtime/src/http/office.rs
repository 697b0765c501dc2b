//! The office as it is now, for the editor's office panel: registered phones, hot-desk
//! logins (the admin may log one out, as the hot-desking manual has it), queue logins,
//! parked calls, mailbox counts and the SIP users (set a password, remove one).
//!
//! `view` answers `GET /api/office`; `hot_desks` ends a login the way `*77*5*` at the
//! phone does; `users` sets and removes SIP passwords under the rules of `switchboard
//! user`. None of them tells the browser of its change itself: the store thread bumps
//! `OfficeChanges` after every committed office write and the registrar after every
//! registration, so a change made here, at a phone or by a command reaches `/api/events`
//! the same way.

mod hot_desks;
mod users;
mod view;

use super::AppState;
use axum::Router;
use axum::routing::{get, post, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/office", get(view::office))
        .route(
            "/api/office/hot-desks/{device}/logout",
            post(hot_desks::logout),
        )
        .route(
            "/api/office/users/{name}/password",
            put(users::set_password),
        )
        .route(
            "/api/office/users/{name}",
            axum::routing::delete(users::remove),
        )
}
