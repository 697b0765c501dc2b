//! The plan folder's files for the editor: list, open, create, save (checked first, written atomically), rename, delete.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
