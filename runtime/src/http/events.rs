//! `GET /api/events`: server-sent events telling the editor the plan version, the last reload's outcome and office changes as they happen.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
