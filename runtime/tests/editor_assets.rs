//! The editor app's bundle through the router (`oneshot`, no socket): `/` and
//! `/assets/{name}` answer without a session (the app asks for one); the page under a
//! policy that lets it load and talk to its own origin only, with a fresh style nonce each
//! time; the bundle gzipped when the browser accepts it and revalidated by `ETag`; the API
//! beside it keeps its own stricter headers.

mod signed_in;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use signed_in::{HOST, Reply, call, signed_in};
use std::sync::Arc;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::auth::{Auth, AuthSettings};
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use tempfile::TempDir;

async fn state(dir: &TempDir) -> AppState {
    let store = switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
        .await
        .unwrap();
    let plans = dir.path().join("dialplans");
    let prompts = dir.path().join("prompts");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::create_dir_all(prompts.join("en")).unwrap();
    std::fs::write(plans.join("office.dial"), "extension 101 \"Alice\"\n").unwrap();
    let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
    AppState {
        chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
        plans: plan_holder,
        calls: Default::default(),
        hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
        store,
        live: None,
        auth: Arc::new(Auth::new(AuthSettings::default())),
        office_changes: Default::default(),
        chat_config: Default::default(),
    }
}

/// `GET path` as a browser that has not signed in, with `headers` added.
async fn get(state: &AppState, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::get(path).header(header::HOST, HOST);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    call(&app(state.clone()), request.body(Body::empty()).unwrap()).await
}

fn header(reply: &Reply, name: header::HeaderName) -> &str {
    reply
        .headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", reply.headers))
        .to_str()
        .unwrap()
}

fn asset(name: &str) -> &'static switchboard_editor::Asset {
    switchboard_editor::find(name).unwrap()
}

/// The nonce a page's CSP lets `<style>` elements in with.
fn style_nonce(csp: &str) -> &str {
    csp.split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no style nonce in {csp}"))
}

#[tokio::test]
async fn the_page_is_served_at_the_root_without_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir).await;
    let reply = get(&state, "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        header(&reply, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    // Its own origin only: scripts from the bundle, no inline code, no framing; styles
    // from the bundle and from <style> elements with this answer's nonce.
    let csp = header(&reply, header::CONTENT_SECURITY_POLICY);
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = style_nonce(csp);
    assert_eq!(nonce.len(), 32, "{csp}");
    // The page hands the nonce to the app, and is otherwise the bundle's index.html.
    let page = reply.text();
    let expected = String::from_utf8_lossy(asset("index.html").bytes).replace("CSP_NONCE", nonce);
    assert_eq!(page, expected);
    assert!(
        page.contains(&format!("<meta name=\"csp-nonce\" content=\"{nonce}\">")),
        "{page}"
    );
    // Made per answer: never cached, never the same nonce twice.
    assert_eq!(header(&reply, header::CACHE_CONTROL), "no-store");
    assert!(reply.headers.get(header::CONTENT_ENCODING).is_none());
    assert!(reply.headers.get(header::ETAG).is_none());
    assert_eq!(header(&reply, header::X_FRAME_OPTIONS), "DENY");
    assert_eq!(header(&reply, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let again = get(&state, "/", &[]).await;
    let other = style_nonce(header(&again, header::CONTENT_SECURITY_POLICY));
    assert_ne!(other, nonce);

    // Signed in, the page is the same page.
    let session = signed_in(&state).await;
    let signed = session.get(&app(state.clone()), "/").await;
    assert_eq!(signed.status, StatusCode::OK);
    let nonce = style_nonce(header(&signed, header::CONTENT_SECURITY_POLICY));
    assert_eq!(
        signed.text(),
        String::from_utf8_lossy(asset("index.html").bytes).replace("CSP_NONCE", nonce)
    );
}

#[tokio::test]
async fn a_browser_that_accepts_gzip_gets_the_gzipped_copy() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir).await;
    let zipped = get(
        &state,
        "/assets/app.js",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(zipped.status, StatusCode::OK);
    assert_eq!(header(&zipped, header::CONTENT_ENCODING), "gzip");
    assert_eq!(zipped.body, asset("app.js").gzip);
    assert_eq!(
        header(&zipped, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&zipped, header::VARY), "Accept-Encoding");

    let plain = get(&state, "/assets/app.js", &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.body, asset("app.js").bytes);
    // Two representations, two tags, so no cache hands one for the other.
    assert_ne!(header(&plain, header::ETAG), header(&zipped, header::ETAG));

    // Opened as a page, a file of the bundle gets the API's policy, which allows nothing.
    assert!(
        header(&plain, header::CONTENT_SECURITY_POLICY).starts_with("default-src 'none'"),
        "{:?}",
        plain.headers
    );

    let css = get(&state, "/assets/app.css", &[]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        header(&css, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
    assert_eq!(css.body, asset("app.css").bytes);
}

#[tokio::test]
async fn a_copy_the_browser_holds_is_confirmed_with_304() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir).await;
    let first = get(&state, "/assets/app.css", &[("accept-encoding", "gzip")]).await;
    let etag = header(&first, header::ETAG).to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = get(
        &state,
        "/assets/app.css",
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(header(&again, header::ETAG), etag);

    // A tag of another version (or the other encoding) gets the file.
    let stale = get(
        &state,
        "/assets/app.css",
        &[("if-none-match", "\"0123456789abcdef01234567\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, asset("app.css").bytes);
    let other_encoding = get(&state, "/assets/app.css", &[("if-none-match", &etag)]).await;
    assert_eq!(other_encoding.status, StatusCode::OK);
}

#[tokio::test]
async fn names_outside_the_bundle_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir).await;
    for path in [
        "/assets/nothing.js",
        "/assets/index.html",
        "/assets/..%2FCargo.toml",
        "/assets/app.js.gz",
        "/assets/",
    ] {
        let reply = get(&state, path, &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text()
        );
        assert!(
            reply.json()["error"].as_str().is_some(),
            "{path}: {}",
            reply.text()
        );
    }
}

#[tokio::test]
async fn the_api_keeps_its_own_headers_beside_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir).await;
    // Without a session the API refuses, and its answers keep the API's policy: nothing
    // to run, nothing to keep.
    let refused = get(&state, "/api/plan", &[]).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        refused.text()
    );
    assert!(
        header(&refused, header::CONTENT_SECURITY_POLICY).starts_with("default-src 'none'"),
        "{:?}",
        refused.headers
    );
    assert_eq!(header(&refused, header::CACHE_CONTROL), "no-store");
    let session = signed_in(&state).await;
    let plan = session.get(&app(state.clone()), "/api/plan").await;
    assert_eq!(plan.status, StatusCode::OK);
    assert_eq!(header(&plan, header::CACHE_CONTROL), "no-store");
}
