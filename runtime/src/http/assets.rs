//! The web apps' bundle (from the `switchboard-editor` crate): the admin's editor at `/`
//! and `/assets/{name}`, the people's web client at `/client/` and `/client/{name}`.
//!
//! Open without a session, as `auth::guard` says: the bundle is code and nothing of the
//! office; each app asks for a sign-in before it reads anything.
//!
//! Each page (`/`, `/client/`) is made per answer: its Content Security Policy lets styles in only
//! from the bundle's own files and from `<style>` elements carrying a nonce drawn for this
//! answer (CodeMirror writes its styles into one; the page hands it the nonce from a
//! `<meta>`), so markup that got into the page some other way can neither run script nor
//! add styles. Being different each time, the page is never cached, and at a few hundred
//! bytes it goes uncompressed.
//!
//! The bundle's files have fixed names (`app.js`), so each answer carries an `ETag` (a
//! digest of the bytes, made once) with `Cache-Control: no-cache`: the browser keeps its
//! copy and asks each time whether it is still good, which costs a 304 and never serves a
//! bundle older than the server. A browser that accepts gzip gets the copy `build.mjs`
//! made, under its own `ETag`, with `Vary: Accept-Encoding` for caches between.

use super::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;
use switchboard_editor::Asset;

/// What the app's page may load and talk to: its own origin only. Scripts
/// come from the bundle alone (no inline script, no `eval`); no other site; never framed.
/// `{nonce}` is the page's nonce for `<style>` elements. `img-src data:` is for the inline
/// SVG CodeMirror draws diagnostic underlines with, which cannot run code. `media-src
/// 'self'` (what `default-src` gives anyway, said outright) plays a customer's voice note or
/// video from `/api/chat/files`, and nothing from elsewhere.
const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
                       img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; \
                       form-action 'self'; frame-ancestors 'none'";

/// What `index.html` says where the page's nonce goes (`<meta name="csp-nonce">`).
const NONCE_PLACEHOLDER: &str = "CSP_NONCE";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(editor_page))
        .route("/assets/{name}", get(asset))
        .route("/client", get(to_client))
        .route("/client/", get(client_page))
        .route("/client/{name}", get(asset))
}

async fn editor_page() -> Response {
    page(switchboard_editor::index())
}

async fn client_page() -> Response {
    page(switchboard_editor::client_page())
}

/// `/client` without the slash: the page's own address, so its relative links work.
async fn to_client() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(axum::http::header::LOCATION, "/client/")],
    )
        .into_response()
}

fn page(index: &'static Asset) -> Response {
    let mut bytes = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut bytes) {
        return super::AppError::Internal(format!("drawing the page's CSP nonce: {e}"))
            .into_response();
    }
    let nonce = crate::hex::encode(&bytes);
    let html = String::from_utf8_lossy(index.bytes).replace(NONCE_PLACEHOLDER, &nonce);
    let csp = APP_CSP.replace("{nonce}", &nonce);
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(index.content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).expect("hex digits make a valid header value"),
    );
    (headers, html).into_response()
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match switchboard_editor::find(&name) {
        // A page has its own address (`/`, `/client/`); one address keeps one cached copy.
        Some(asset) if !switchboard_editor::is_page(asset) => serve(asset, &headers),
        _ => super::AppError::NotFound(format!(
            "no such file in the web apps' bundle: {name} (reload the page: the server may \
             have been upgraded)"
        ))
        .into_response(),
    }
}

pub(super) fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let gzip = accepts_gzip(request);
    let tags = etags(asset);
    let etag = if gzip { &tags.gzip } else { &tags.plain };
    let mut headers = HeaderMap::new();
    headers.insert(ETAG, etag.clone());
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    // No policy of its own: a file of the bundle opened as a page gets the API's, which
    // allows nothing (`http/headers`).
    if matches_etag(request, etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (headers, asset.gzip).into_response()
    } else {
        (headers, asset.bytes).into_response()
    }
}

/// Whether `Accept-Encoding` takes gzip (`gzip`, `x-gzip` or `*`, not with `q=0`).
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            matches!(name.as_str(), "gzip" | "x-gzip" | "*") && !refused
        })
}

/// Whether `If-None-Match` names `etag` (or `*`). Weak tags (`W/"…"`) match too, as RFC
/// 9110 says for this header.
fn matches_etag(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let wanted = etag.to_str().unwrap_or("");
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == wanted)
}

struct Tags {
    plain: HeaderValue,
    gzip: HeaderValue,
}

/// The `ETag`s of an asset, from a digest of its bytes, made once per file.
fn etags(asset: &'static Asset) -> &'static Tags {
    static TAGS: OnceLock<HashMap<&'static str, Tags>> = OnceLock::new();
    let all = TAGS.get_or_init(|| {
        switchboard_editor::ASSETS
            .iter()
            .map(|a| {
                let digest = Sha256::digest(a.bytes);
                let hex = crate::hex::encode(&digest[..12]);
                let tag = |suffix: &str| {
                    HeaderValue::from_str(&format!("\"{hex}{suffix}\""))
                        .expect("hex digits make a valid header value")
                };
                (
                    a.name,
                    Tags {
                        plain: tag(""),
                        gzip: tag("-gzip"),
                    },
                )
            })
            .collect()
    });
    &all[asset.name]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: axum::http::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip(&with(ACCEPT_ENCODING, "gzip, deflate, br")));
        assert!(accepts_gzip(&with(ACCEPT_ENCODING, "br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with(ACCEPT_ENCODING, "*")));
        assert!(!accepts_gzip(&with(ACCEPT_ENCODING, "gzip;q=0, br")));
        assert!(!accepts_gzip(&with(ACCEPT_ENCODING, "br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_names_the_tag() {
        let tag = HeaderValue::from_static("\"abc\"");
        assert!(matches_etag(&with(IF_NONE_MATCH, "\"x\", \"abc\""), &tag));
        assert!(matches_etag(&with(IF_NONE_MATCH, "W/\"abc\""), &tag));
        assert!(matches_etag(&with(IF_NONE_MATCH, "*"), &tag));
        assert!(!matches_etag(&with(IF_NONE_MATCH, "\"abcd\""), &tag));
        assert!(!matches_etag(&HeaderMap::new(), &tag));
    }
}
