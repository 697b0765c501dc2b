//! The security headers every HTTP answer carries, and the bound on request bodies.
//!
//! A small axum middleware rather than tower-http: the project does not depend on
//! tower-http, and five fixed headers do not justify a new crate.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body accepted. No route reads a body (the API is `GET` only), so
/// this only refuses early what would be thrown away.
pub const BODY_LIMIT: u64 = 16 * 1024;

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

/// Adds the security headers to every answer, and refuses a declared body over
/// `BODY_LIMIT` with 413 before any handler runs.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > BODY_LIMIT);
    let mut response = if too_large {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request bodies are limited to {BODY_LIMIT} bytes\n"),
        )
            .into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
    response
}
