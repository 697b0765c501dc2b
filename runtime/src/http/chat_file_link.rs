//! `GET /chat/files/{id}?exp=<unix s>&sig=<hex>`: a chat file through a signed, expiring
//! link (`chat::file_links`), without a session. A live-chat visitor's widget shows the
//! agent's file through one; WhatsApp, Messenger and Twilio fetch the files agents send
//! their customers through one.
//!
//! Open like the widget's own routes (the guard lets `/chat/…` through; the `Host` check
//! still applies). An expired link, a wrong signature, a missing parameter and an id
//! never used all get the same 404 and body, so the answer tells nothing about which
//! files exist or how near a guess came.

use super::AppState;
use super::chat::files::serve;
use crate::chat::ChatError;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The public link's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/chat/files/{id}", get(read))
}

async fn read(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(link) = Signed::from_query(&raw, &query) else {
        return no_file();
    };
    let key = match state.chat.link_key().await {
        Ok(key) => key,
        Err(words) => {
            tracing::error!("a chat file link could not be checked: {words}");
            return internal();
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if !key.verify(link.id, link.exp, &link.sig, now) {
        return no_file();
    }
    match state.chat.file_for_link(link.id).await {
        Ok((row, path)) => serve(&row.name, &row.content_type, path).await,
        Err(ChatError::NotVisible) => no_file(),
        Err(e) => {
            tracing::error!("a chat file could not be read for a link: {e}");
            internal()
        }
    }
}

/// A link's parts, when they are all there and well formed.
struct Signed {
    id: i64,
    exp: u64,
    sig: String,
}

impl Signed {
    fn from_query(raw_id: &str, query: &HashMap<String, String>) -> Option<Signed> {
        Some(Signed {
            id: raw_id.parse().ok()?,
            exp: query.get("exp")?.parse().ok()?,
            sig: query.get("sig")?.clone(),
        })
    }
}

fn no_file() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({
            "error": "there is no such chat file, or its link has expired; ask the office \
                      to send it again"
        })),
    )
        .into_response()
}

fn internal() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({
            "error": "the chat file cannot be read now; the server's log says why"
        })),
    )
        .into_response()
}
