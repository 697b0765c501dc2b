//! The office as it is now: registered phones, hot-desk logins (log one out), queue logins, parked calls, mailbox counts and the SIP users (set a password, remove one).

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
