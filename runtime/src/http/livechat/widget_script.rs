//! `GET /chat/widget.js`: the widget a website includes with a script tag, from the
//! editor crate's bundle (`editor/src/widget/`).
//!
//! Open, like the apps' bundles: it is code and nothing of the office. It is served the
//! way `http/assets` serves the apps' files (ETag, gzip when accepted), with what another
//! site's page needs to include it: a short public cache life (every visitor of every page
//! fetches it; a server upgrade reaches them within minutes, revalidated by ETag after),
//! and `Cross-Origin-Resource-Policy: cross-origin` plus `Access-Control-Allow-Origin: *`
//! so a page with cross-origin isolation, or one loading it with `crossorigin`, may. The
//! page's own Content Security Policy governs the page; ours is never in its way, since
//! a script's answer brings no policy to the page that runs it.

use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The bundle's file name.
pub const FILE: &str = "widget.js";

/// How long a browser or CDN may use its copy before asking again.
const CACHE: &str = "public, max-age=300";

pub async fn script(headers: HeaderMap) -> Response {
    let Some(asset) = switchboard_editor::find(FILE) else {
        return super::super::AppError::Internal(format!(
            "the editor bundle has no {FILE}; run `npm run build` in editor/"
        ))
        .into_response();
    };
    let mut response = super::super::assets::serve(asset, &headers);
    let out = response.headers_mut();
    out.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    out.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    response
}
