//! `POST /api/tests`: run the plan's `test` blocks and answer each outcome with its trace linked to source lines.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
