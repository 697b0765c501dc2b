//! The editor app's bundle (from the `switchboard-editor` crate), served at `/` and `/assets/*`.

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
