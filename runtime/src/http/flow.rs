//! The flow under the cursor as a graph (steps, menus and their keys, branches, targets), drawn by the editor.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
