//! Every error the HTTP server answers is JSON, `{"error": "..."}`, as `AppError`'s are:
//! the apps show `error` to the person, and a script reads one shape everywhere.
//!
//! The layers in front of the routes (the body limit, the `Host` check) answer with
//! `answer`. Anything else that would answer an error in plain text or with no body —
//! axum's own refusals of a body it cannot read as JSON, of a method a path does not
//! take — is rewritten by `errors_as_json`, the layer just inside the security headers,
//! keeping its status, its words and headers such as `Allow` and `Retry-After`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The longest plain-text error body read to be rewritten; a longer one is no refusal
/// of ours, and is answered with the status's own words.
const LONGEST_TEXT: usize = 16 * 1024;

/// `status` with `{"error": message}`.
pub(super) fn answer(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, axum::Json(body)).into_response()
}

/// Rewrites an error answered in plain text, or with no body, as `{"error": "..."}`.
pub(super) async fn errors_as_json(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase());
    // JSON already, or a page (HTML) meant for a browser to show: left as it is.
    if kind
        .as_deref()
        .is_some_and(|k| !k.starts_with("text/plain"))
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, LONGEST_TEXT)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let message = if !text.is_empty() {
        text
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        match parts
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
        {
            Some(allowed) => format!("{path} does not take {method}; it takes {allowed}"),
            None => {
                format!("{path} does not take {method}; docs/api.md lists each route's methods")
            }
        }
    } else {
        format!(
            "{} {} for {method} {path}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("error")
        )
    };
    let json = serde_json::json!({ "error": message }).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}
