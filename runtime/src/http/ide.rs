//! Check-as-you-type and the editor's questions (completion, definition, hover) over the admin's unsaved text, answered by `switchboard_dsl::ide`.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
