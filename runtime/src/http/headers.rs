//! The security headers every HTTP answer carries, and the bound on request bodies.
//!
//! A small axum middleware rather than tower-http: the project does not depend on
//! tower-http, and five fixed headers do not justify a new crate.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The largest request body accepted by routes that do not carry plan text.
pub const BODY_LIMIT: u64 = 16 * 1024;

/// The largest request body of a route that carries plan text (a save, a check, the
/// editor's questions, tests and the simulator over unsaved buffers): each file may be
/// 1 MB, and JSON escaping can double it.
pub const EDITOR_BODY_LIMIT: u64 = 4 * 1024 * 1024;

/// The routes whose bodies carry plan text, by path prefix.
const PLAN_TEXT_ROUTES: &[&str] = &[
    "/api/files/",
    "/api/check",
    "/api/complete",
    "/api/definition",
    "/api/hover",
    "/api/tests",
    "/api/simulate",
];

/// The body limit of a request to `path`.
pub fn body_limit(path: &str) -> u64 {
    if is_file_upload(path) {
        crate::chat::file_types::MAX_FILE_BYTES as u64
    } else if path.starts_with("/webhooks/") {
        crate::chat_channels::webhooks::BODY_LIMIT
    } else if PLAN_TEXT_ROUTES.iter().any(|r| path.starts_with(r)) {
        EDITOR_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Whether `path` takes a file's raw bytes: a customer conversation's or a team
/// thread's `…/files`.
fn is_file_upload(path: &str) -> bool {
    (path.starts_with("/api/chat/conversations/") || path.starts_with("/api/team/threads/"))
        && path.ends_with("/files")
}

/// The 413 of a body of `declared` bytes to `path`, whose limit is `limit`: JSON naming
/// the limit and what to send instead.
fn too_large(path: &str, declared: u64, limit: u64) -> Response {
    let fix = if limit == EDITOR_BODY_LIMIT {
        "a plan file may be at most 1 MB; split a larger plan into several files"
    } else if is_file_upload(path) {
        "files up to 10 MB can be sent; send a smaller one, or a link to it in a message"
    } else if path.starts_with("/webhooks/") {
        "this is the provider's webhook; its messages are far smaller, so this is not one"
    } else {
        "send a smaller body; a file goes to a conversation with POST \
         /api/chat/conversations/{id}/files, a plan file with PUT /api/files/{name}"
    };
    super::error_json::answer(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("this request's body is {declared} bytes and {path} takes at most {limit}; {fix}"),
    )
}

/// The status page is one document with an inline `<style>` and no script, image, font or
/// form; everything else is forbidden. `'unsafe-inline'` for styles is safe here because
/// no script can run (`default-src 'none'`), and an escaping mistake could at worst
/// restyle the page. `frame-ancestors 'none'` (with `X-Frame-Options` for old browsers)
/// stops the page being framed for clickjacking.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

const HEADERS: &[(HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::REFERRER_POLICY, "no-referrer"),
    // Calls, callers and traces are private and change by the second: no cache (a
    // browser's, a proxy's) keeps them, the page included.
    (header::CACHE_CONTROL, "no-store"),
];

/// Served over TLS, tells the browser to come back only over HTTPS for a year, so a
/// later `http://` link or a network that strips TLS cannot downgrade the admin.
pub async fn strict_transport_security(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Adds the security headers to every answer, and refuses a declared body over
/// its route's `body_limit` with 413 before any handler runs.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let limit = body_limit(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > limit);
    let mut response = match declared {
        Some(n) => too_large(request.uri().path(), n, limit),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        // A route that states its own policy keeps it: the editor app's page and bundle
        // (`http/assets`) run scripts from 'self' and are cached by ETag.
        headers
            .entry(name.clone())
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
