//! `POST /api/simulate`: walk one call through the plan, replayed from the caller's actions so far, each step with its source line.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
