//! The people's web client through the router (`oneshot`, no socket): `/client/` answers
//! without a session (the client asks for an extension's sign-in) under the same policy
//! as the editor's page, with a fresh style nonce each time; `/client` leads there; the
//! client's bundle is served under `/client/` gzipped and revalidated by `ETag`; the
//! pages themselves are not files of the bundle.

mod editor_fixture;
mod signed_in;

use axum::http::{StatusCode, header};
use editor_fixture::Editor;
use serde_json::json;
use signed_in::Reply;

fn header<'a>(reply: &'a Reply, name: &header::HeaderName) -> &'a str {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", reply.headers))
        .to_str()
        .unwrap()
}

/// `GET path` without a session, with `headers` added.
async fn get(editor: &Editor, path: &str, headers: &[(header::HeaderName, &str)]) -> Reply {
    let mut request = editor.admin.request("GET", path, json!(null));
    request.headers_mut().remove(header::COOKIE);
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(name.clone(), value.parse().unwrap());
    }
    signed_in::call(&editor.app, request).await
}

/// The nonce a page's CSP lets `<style>` elements in with.
fn style_nonce(csp: &str) -> String {
    csp.split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no style nonce in {csp}"))
        .to_string()
}

#[tokio::test]
async fn the_client_page_is_served_without_a_session_under_the_apps_policy() {
    let editor = Editor::new().await;
    let reply = editor.anonymous("GET", "/client/", json!(null)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        header(&reply, &header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let csp = header(&reply, &header::CONTENT_SECURITY_POLICY);
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = style_nonce(csp);
    assert_eq!(nonce.len(), 32, "{csp}");
    let page = reply.text();
    let expected = String::from_utf8_lossy(switchboard_editor::client_page().bytes)
        .replace("CSP_NONCE", &nonce);
    assert_eq!(page, expected);
    assert!(page.contains("/client/client.js"), "{page}");
    assert_eq!(header(&reply, &header::CACHE_CONTROL), "no-store");

    let again = editor.anonymous("GET", "/client/", json!(null)).await;
    assert_ne!(
        style_nonce(header(&again, &header::CONTENT_SECURITY_POLICY)),
        nonce
    );
}

#[tokio::test]
async fn the_address_without_its_slash_leads_to_the_client() {
    let editor = Editor::new().await;
    let reply = editor.anonymous("GET", "/client", json!(null)).await;
    assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&reply, &header::LOCATION), "/client/");
}

#[tokio::test]
async fn the_clients_bundle_is_served_gzipped_and_revalidated() {
    let editor = Editor::new().await;
    let reply = get(
        &editor,
        "/client/client.js",
        &[(header::ACCEPT_ENCODING, "gzip")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header(&reply, &header::CONTENT_ENCODING), "gzip");
    assert_eq!(header(&reply, &header::CACHE_CONTROL), "no-cache");
    let js = switchboard_editor::find("client.js").unwrap();
    assert_eq!(reply.body, js.gzip);
    let etag = header(&reply, &header::ETAG).to_string();

    let cached = get(
        &editor,
        "/client/client.js",
        &[
            (header::ACCEPT_ENCODING, "gzip"),
            (header::IF_NONE_MATCH, etag.as_str()),
        ],
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);

    let plain = editor
        .anonymous("GET", "/client/client.css", json!(null))
        .await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        header(&plain, &header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
    assert_eq!(
        plain.body,
        switchboard_editor::find("client.css").unwrap().bytes
    );
}

#[tokio::test]
async fn pages_and_strangers_are_not_files_of_the_bundle() {
    let editor = Editor::new().await;
    for path in [
        "/client/client.html",
        "/client/index.html",
        "/client/nothing.js",
        "/client/client.js.gz",
        "/client/..%2FCargo.toml",
    ] {
        let reply = editor.anonymous("GET", path, json!(null)).await;
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
