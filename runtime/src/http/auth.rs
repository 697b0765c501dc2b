//! Admin sign-in: `POST /api/login`, `POST /api/logout`, `GET /api/session`; the session
//! cookie, the CSRF check on every change and the throttle on wrong passwords.

use super::AppState;
use axum::Router;

/// Sessions and the sign-in throttle, shared by every request.
#[derive(Default)]
pub struct Auth {}

pub fn routes() -> Router<AppState> {
    Router::new()
}
