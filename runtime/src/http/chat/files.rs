//! Files and images in chat: an agent sends one (`POST …/{id}/files?name=`, the raw
//! bytes as the body) and people who see a conversation holding it read it back
//! (`GET /api/chat/files/{id}`). The checks and storage are the hub's
//! (`chat/file_types.rs`, `chat/files.rs`); a refused file stores nothing.

mod byte_range;

use super::actions::{Answered, row_view};
use super::api_error::{ChatApiError, from_hub};
use super::{Agent, conversation_id};
use crate::chat::files::SendFileError;
use crate::http::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use byte_range::Wanted;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    name: Option<String>,
}

/// `POST /api/chat/conversations/{id}/files?name=report.pdf`: 201 `{message}` whose
/// `attachment` is `{id, name, type, size}`; 400 empty, 413 over 10 MB, 415 a type the
/// chat guide does not list or content that is not what the name says; 404/409 as a reply;
/// 409 naming `chat.public-url` for a provider's customer when it is not set.
pub async fn send(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
    query: Result<Query<Named>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Response {
    let id = match conversation_id(&raw) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let Ok(Query(Named { name })) = query else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the only parameter is ?name=, the file's name (e.g. ?name=report.pdf)".into(),
        );
    };
    let name = name.unwrap_or_default();
    let sent = state
        .chat
        .send_file(
            &agent.extension,
            id,
            &name,
            body,
            state.chat_config.channels.public_url.as_deref(),
        )
        .await;
    let plan = state.plans.plan();
    match sent {
        Ok(message) => (
            StatusCode::CREATED,
            Json(Answered {
                message: row_view(&plan, message),
            }),
        )
            .into_response(),
        Err(SendFileError::Refused(r)) => refusal(r.status(), r.to_string()),
        Err(SendFileError::Chat(e)) => from_hub(e, &plan, Some(id)).into_response(),
        Err(SendFileError::NoPublicUrl(words)) => refusal(StatusCode::CONFLICT, words),
        Err(SendFileError::Disk(words)) => ChatApiError::internal(words).into_response(),
    }
}

/// `GET /api/chat/files/{id}`: the bytes, for a person who sees a conversation holding
/// the file; 404 for anyone else, the same as for an id never used. A `Range` of one
/// byte range is answered 206 (a customer's voice note or video is seeked in the page).
pub async fn read(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
    request: HeaderMap,
) -> Response {
    let Ok(file_id) = raw.parse::<i64>() else {
        return no_file();
    };
    match state.chat.file_for_agent(&agent.extension, file_id).await {
        Ok((row, path)) => serve_ranges(&row.name, &row.content_type, path, &request).await,
        Err(crate::chat::ChatError::NotVisible) => no_file(),
        Err(e) => from_hub(e, &state.plans.plan(), None).into_response(),
    }
}

/// The bytes at `path` as a download named `name` (inline for an image, a sound or a
/// video, so the client shows or plays it), never sniffed into another type.
pub async fn serve(name: &str, content_type: &str, path: PathBuf) -> Response {
    serve_part(name, content_type, path, None).await
}

/// `serve`, answering the one byte range `request` may ask for with 206 (416 when it is
/// past the end) and saying `Accept-Ranges: bytes`, so a player can seek.
pub async fn serve_ranges(
    name: &str,
    content_type: &str,
    path: PathBuf,
    request: &HeaderMap,
) -> Response {
    // `If-Range` asks for the part only if the file is unchanged; this server gives no
    // validators to compare with, so HTTP says to send the whole file.
    let range = request
        .get(header::RANGE)
        .filter(|_| !request.contains_key(header::IF_RANGE))
        .and_then(|v| v.to_str().ok());
    serve_part(name, content_type, path, Some(range)).await
}

/// The file, or the part `range` asks for when ranges are served (`Some`).
async fn serve_part(
    name: &str,
    content_type: &str,
    path: PathBuf,
    range: Option<Option<&str>>,
) -> Response {
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) => {
            return ChatApiError::internal(format!(
                "the chat file {} cannot be read: {e}; it should be in the data folder",
                path.display()
            ))
            .into_response();
        }
    };
    let shown = ["image/", "audio/", "video/"];
    let disposition = if shown.iter().any(|t| content_type.starts_with(t)) {
        "inline"
    } else {
        "attachment"
    };
    // The name as RFC 5987 UTF-8, plus an ASCII fallback without quotes.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let len = bytes.len() as u64;
    let mut response = match range.map(|r| byte_range::wanted(r, len)) {
        None | Some(Wanted::Whole) => Response::new(Body::from(bytes)),
        Some(Wanted::Part { first, last }) => {
            let part = bytes[first as usize..=last as usize].to_vec();
            let mut r = Response::new(Body::from(part));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {first}-{last}/{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
        Some(Wanted::Unsatisfiable) => {
            let mut r = refusal(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range asked for starts past the file's end; it has {len} bytes"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let headers = response.headers_mut();
    if range.is_some() {
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

fn no_file() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "there is no such chat file for you; files are read from a conversation you see".into(),
    )
}

fn refusal(status: StatusCode, error: String) -> Response {
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}
