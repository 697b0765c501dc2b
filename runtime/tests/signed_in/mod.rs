//! A signed-in admin or person for router tests: `signed_in(&state)` sets an admin
//! password in the state's store, signs in through the router as a browser would, and
//! keeps the cookie and CSRF token; `signed_in_person(&state, "101", password)` does the
//! same for one of the office's people (the extension must be in the state's running
//! plan). `get` and `send` then add the cookie, `X-CSRF-Token` and
//! `Host: 127.0.0.1:8080` to each request. Include it with `mod signed_in;`.
//!
//! The state's `hosts` must allow `127.0.0.1:8080` (as `HostNames::new` with that
//! address does).
#![allow(dead_code)] // Each test file uses its own part of it.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use switchboard_runtime::http::{AppState, app};
use tower::ServiceExt;

/// The admin `signed_in` creates.
pub const ADMIN: &str = "admin";
/// Their password; it passes the password policy.
pub const PASSWORD: &str = "amber-kettle-harbour";
/// The `Host` every request carries.
pub const HOST: &str = "127.0.0.1:8080";

/// A signed-in session: the `Cookie` header value and the CSRF token.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// `switchboard_session=<token>`, as a browser sends it back.
    pub cookie: String,
    pub csrf: String,
}

/// An answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON; panics, showing the body, when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered a body that is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sets `ADMIN`'s password to `PASSWORD` in `state`'s store and signs in through the
/// router; panics if the sign-in is refused.
/// An office for router tests in `dir`: `plan` as its only plan file (an empty prompts
/// folder beside it), a real SQLite store, and its `AppState` (no SIP side, answering to
/// `HOST`).
pub async fn office_state(dir: &std::path::Path, plan: &str) -> AppState {
    use std::sync::Arc;
    use switchboard_runtime::chat::ChatHub;
    use switchboard_runtime::http::HostNames;
    use switchboard_runtime::reload::PlanHolder;
    use switchboard_runtime::sqlite_store::StoreThread;
    let store = StoreThread::open(&dir.join("office.db")).await.unwrap();
    let plans = dir.join("dialplans");
    let prompts = dir.join("prompts");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::create_dir_all(prompts.join("en")).unwrap();
    std::fs::write(plans.join("office.dial"), plan).unwrap();
    let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
    AppState {
        chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
        plans: plan_holder,
        calls: Default::default(),
        hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
        office_changes: store.office_changes(),
        chat_config: Default::default(),
        store,
        live: None,
        auth: Default::default(),
    }
}

pub async fn signed_in(state: &AppState) -> SignedIn {
    set_admin_password(state, ADMIN, PASSWORD).await;
    sign_in(&app(state.clone()), ADMIN, PASSWORD)
        .await
        .unwrap_or_else(|reply| panic!("sign-in refused: {} {}", reply.status, reply.text()))
}

/// Sets admin `name`'s password in `state`'s store, as `switchboard admin set-password`
/// does.
pub async fn set_admin_password(state: &AppState, name: &str, password: &str) {
    let now = state.auth.settings().clock.now_ms();
    let (name, password) = (name.to_string(), password.to_string());
    state
        .store
        .run_sqlite(move |store| store.set_admin_password(&name, &password, now))
        .await
        .unwrap()
        .unwrap();
}

/// A password for people that passes the password policy (for any extension).
pub const PERSON_PASSWORD: &str = "copper-lantern-meadow";

/// Sets the web password of `extension` to `password` in `state`'s store (as `switchboard
/// user set-password --web` does) and signs in through the router as that person; panics
/// if the sign-in is refused (an extension the running plan does not define is).
pub async fn signed_in_person(state: &AppState, extension: &str, password: &str) -> SignedIn {
    set_web_password(state, extension, password).await;
    sign_in_person(&app(state.clone()), extension, password)
        .await
        .unwrap_or_else(|reply| {
            panic!(
                "sign-in of extension {extension} refused: {} {}",
                reply.status,
                reply.text()
            )
        })
}

/// Sets the web password of `extension` in `state`'s store.
pub async fn set_web_password(state: &AppState, extension: &str, password: &str) {
    let now = state.auth.settings().clock.now_ms();
    let (extension, password) = (extension.to_string(), password.to_string());
    state
        .store
        .run_sqlite(move |store| store.set_web_password(&extension, &password, now))
        .await
        .unwrap()
        .unwrap();
}

/// `POST /api/login` as `user`: the session, or the refusal.
pub async fn sign_in(app: &Router, user: &str, password: &str) -> Result<SignedIn, Reply> {
    let body = serde_json::json!({"user": user, "password": password});
    sign_in_at(app, "/api/login", body).await
}

/// `POST /api/people/login` as `extension`: the session, or the refusal.
pub async fn sign_in_person(
    app: &Router,
    extension: &str,
    password: &str,
) -> Result<SignedIn, Reply> {
    let body = serde_json::json!({"extension": extension, "password": password});
    sign_in_at(app, "/api/people/login", body).await
}

async fn sign_in_at(app: &Router, path: &str, body: Value) -> Result<SignedIn, Reply> {
    let request = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let reply = call(app, request).await;
    if reply.status != StatusCode::OK {
        return Err(reply);
    }
    let set_cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .expect("a sign-in sets the session cookie")
        .to_str()
        .unwrap();
    let cookie = set_cookie.split(';').next().unwrap().trim().to_string();
    let csrf = reply.json()["csrf"].as_str().unwrap().to_string();
    Ok(SignedIn { cookie, csrf })
}

impl SignedIn {
    /// A request with this session's cookie, CSRF token and `Host`, and `json` as its
    /// body unless it is `Value::Null`; for answers that never end (server-sent events),
    /// send it with `oneshot` and read the body as a stream.
    pub fn request(&self, method: &str, path: &str, json: Value) -> Request<Body> {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if json.is_null() {
            builder.body(Body::empty()).unwrap()
        } else {
            builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string()))
                .unwrap()
        }
    }

    /// `GET path` in this session.
    pub async fn get(&self, app: &Router, path: &str) -> Reply {
        call(app, self.request("GET", path, Value::Null)).await
    }

    /// `method path` with `json` as the body (none for `Value::Null`) in this session.
    pub async fn send(&self, app: &Router, method: &str, path: &str, json: Value) -> Reply {
        call(app, self.request(method, path, json)).await
    }
}

/// Sends `request` through `app` and reads the whole answer.
pub async fn call(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}
