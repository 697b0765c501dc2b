//! Admin sign-in through the router (`oneshot`, no socket) on a real SQLite store: the
//! guard in front of every route (and which kind of session each route is for), the
//! session cookie, CSRF and Origin, the throttle on wrong passwords, log-out and expiry,
//! and what the store keeps. The people's own sign-in is in `people_auth.rs`.

mod signed_in;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use rusqlite::Connection;
use serde_json::{Value, json};
use signed_in::{
    ADMIN, HOST, PASSWORD, PERSON_PASSWORD, Reply, SignedIn, call, sign_in, signed_in,
    signed_in_person,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::auth::{Auth, AuthSettings, Clock, SESSION_LIFETIME};
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use tempfile::TempDir;

/// The office: Alice (101) is an agent and the manager of Sales, so her session reaches
/// every person's route, the managers' ones too.
const PLAN: &str = "extension 101 \"Alice\"
extension 102 \"Bruno\"
queue 800 \"Sales\" {
    agents 101, 102
    managers 101
}
";

/// A plan folder, a store file and the state over them, with a clock the test moves.
struct Fixture {
    dir: TempDir,
    state: AppState,
    clock: Clock,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_tls(false).await
    }

    async fn with_tls(tls: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store =
            switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
                .await
                .unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), PLAN).unwrap();
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
            plans: plan_holder,
            calls: Default::default(),
            hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
            store,
            live: None,
            auth: Arc::new(Auth::new(AuthSettings {
                tls,
                clock: clock.clone(),
                ..AuthSettings::default()
            })),
            office_changes: Default::default(),
            chat_config: Default::default(),
        };
        Fixture { dir, state, clock }
    }

    fn app(&self) -> axum::Router {
        app(self.state.clone())
    }

    fn store_path(&self) -> PathBuf {
        self.dir.path().join("office.db")
    }

    /// How many sessions the store file holds.
    fn sessions_stored(&self) -> i64 {
        Connection::open(self.store_path())
            .unwrap()
            .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
            .unwrap()
    }

    /// `POST /api/login` from `from` with `user` and `password`.
    async fn login_from(&self, from: &str, user: &str, password: &str) -> Reply {
        let mut request = Request::post("/api/login")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"user": user, "password": password}).to_string(),
            ))
            .unwrap();
        let peer: SocketAddr = format!("{from}:50000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        call(&self.app(), request).await
    }
}

/// A request with no session: `Host` only.
fn anonymous(method: &Method, path: &str) -> Request<Body> {
    let builder = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::HOST, HOST);
    if matches!(*method, Method::GET | Method::HEAD) {
        builder.body(Body::empty()).unwrap()
    } else {
        builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    }
}

/// Only the status of an answer: the body of `/api/events` never ends.
async fn status_of(app: &axum::Router, request: Request<Body>) -> StatusCode {
    use tower::ServiceExt;
    app.clone().oneshot(request).await.unwrap().status()
}

// ---------------------------------------------------------------------------------------
// Every route.

/// A route as `app()`'s sources declare it: the path (parameters filled in) and a method.
#[derive(Debug)]
struct Route {
    method: Method,
    path: String,
}

/// Every `.route("…", method(…)…)` of the HTTP sources, so that a route added by anyone
/// is checked here without being listed: axum cannot list a router's routes.
fn routes_in_sources() -> Vec<Route> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("http.rs")];
    let mut folders = vec![root.join("http")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut routes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let call = balanced(&text[at + ".route".len()..]);
            // A path the test cannot read is a route it cannot check: each must be a
            // string literal, the call's first argument.
            let first = call.trim_start_matches('(').trim_start();
            let path = first
                .strip_prefix('"')
                .and_then(|rest| rest.split('"').next())
                .filter(|path| path.starts_with('/'))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: write the route's path as a string literal, so that this test \
                         checks who may reach it: .route{call}",
                        file.display()
                    )
                });
            for method in ["get", "post", "put", "delete", "patch"] {
                let declared = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                    !call[..i]
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if declared {
                    routes.push(Route {
                        method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                        path: fill_parameters(path),
                    });
                }
            }
        }
    }
    routes
}

/// `text` from its opening parenthesis to the one that closes it.
fn balanced(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    text
}

/// A route's `{parameters}` with plausible values.
fn fill_parameters(path: &str) -> String {
    path.split('/')
        .map(|part| match part.trim_matches(['{', '}', '*']) {
            _ if !part.starts_with('{') => part.to_string(),
            "path" => "office.dial".to_string(),
            "name" => "101".to_string(),
            "device" => "001565AABBCC".to_string(),
            "lang" => "en".to_string(),
            _ => "1".to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whose a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Audience {
    /// Anyone, signed in or not; the route's own checks apply (a webhook's signature).
    Open,
    /// Admins only; the status page sends a browser without a session to the sign-in.
    Admins,
    /// The office's people only.
    People,
    /// A session of either kind.
    Either,
}

/// Whose each path is, by prefix: the one place this test says it, so a route added
/// under `/api/chat/` (or anywhere) is checked without being listed.
fn audience(path: &str) -> Audience {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    match path {
        "/api/login" | "/api/people/login" => Audience::Open,
        "/api/logout" | "/api/session" => Audience::Either,
        "/status" => Audience::Admins,
        _ if under("/api/me")
            || under("/api/chat")
            || under("/api/people")
            || under("/api/contacts")
            || under("/api/team") =>
        {
            Audience::People
        }
        _ if under("/api") => Audience::Admins,
        _ => Audience::Open,
    }
}

/// `request`'s answer, which must be the guard's 403 to the wrong kind of session, with
/// the words that say whose the page is.
async fn assert_refused_to_the_wrong_kind(
    app: &axum::Router,
    request: Request<Body>,
    what: &str,
    words: &str,
) {
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "{what} to the wrong kind of session"
    );
    // The guard's answer, so it ends (a stream it let through would not).
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains(words), "{what}: {text}");
}

#[tokio::test]
async fn every_route_refuses_a_request_without_a_session_and_serves_one_with() {
    let fx = Fixture::new().await;
    let app = fx.app();
    let mut routes = routes_in_sources();
    assert!(
        routes.len() >= 12
            && routes.iter().any(|r| r.path == "/api/plan")
            && routes.iter().any(|r| r.path == "/api/logout")
            && routes.iter().any(|r| r.path == "/api/me")
            && routes.iter().any(|r| r.path == "/api/people/login"),
        "the routes were not found in the sources: {routes:?}"
    );
    // Log-out last: it ends the session the others use.
    routes.sort_by_key(|r| r.path == "/api/logout");
    let mut admin = signed_in(&fx.state).await;
    let mut person = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    for route in &routes {
        let what = format!("{} {}", route.method, route.path);
        let whose = audience(&route.path);
        let without = call(&app, anonymous(&route.method, &route.path)).await;
        if whose == Audience::Open {
            assert!(
                !(without.status == StatusCode::UNAUTHORIZED
                    && without.text().contains("sign in first")),
                "{what} is open, but the guard refused it: {}",
                without.text()
            );
            continue;
        }
        if route.path == "/status" {
            assert_eq!(
                without.status,
                StatusCode::SEE_OTHER,
                "{what} without a session"
            );
        } else {
            assert_eq!(
                without.status,
                StatusCode::UNAUTHORIZED,
                "{what} without a session"
            );
        }
        let body = if matches!(route.method, Method::GET | Method::HEAD) {
            Value::Null
        } else {
            json!({})
        };
        for (session, kind) in [(&admin, Audience::Admins), (&person, Audience::People)] {
            let request = session.request(route.method.as_str(), &route.path, body.clone());
            if whose == kind || whose == Audience::Either {
                let with = status_of(&app, request).await;
                assert!(
                    ![
                        StatusCode::UNAUTHORIZED,
                        StatusCode::FORBIDDEN,
                        StatusCode::SEE_OTHER
                    ]
                    .contains(&with),
                    "{what} with a session of {kind:?} answered {with}"
                );
            } else {
                let words = match whose {
                    Audience::Admins => "this page is for admins",
                    _ => "this page is for the office's people",
                };
                assert_refused_to_the_wrong_kind(&app, request, &what, words).await;
            }
        }
        if route.path == "/api/logout" {
            admin = signed_in(&fx.state).await;
            person = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
        }
    }
    drop((admin, person));
    eprintln!(
        "{} routes checked without a session and with each kind",
        routes.len()
    );
}

#[tokio::test]
async fn the_refusal_says_how_to_sign_in_and_an_unknown_api_path_needs_a_session_too() {
    let fx = Fixture::new().await;
    for path in ["/api/plan", "/api/no-such-thing"] {
        let reply = call(&fx.app(), anonymous(&Method::GET, path)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert!(
            error.starts_with("sign in first") && error.contains("switchboard admin set-password"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn the_status_page_sends_a_signed_out_browser_to_the_app_and_shows_a_signed_in_one() {
    let fx = Fixture::new().await;
    let reply = call(&fx.app(), anonymous(&Method::GET, "/status")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/");
    let session = signed_in(&fx.state).await;
    let reply = session.get(&fx.app(), "/status").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains("version 1"), "{}", reply.text());
}

// ---------------------------------------------------------------------------------------
// Signing in.

#[tokio::test]
async fn a_right_password_signs_in_with_a_strict_http_only_cookie() {
    let fx = Fixture::new().await;
    signed_in::set_admin_password(&fx.state, ADMIN, PASSWORD).await;
    let reply = fx.login_from("192.0.2.1", ADMIN, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    let (token, flags) = cookie.split_once(';').unwrap();
    let token = token.strip_prefix("switchboard_session=").unwrap();
    assert_eq!(token.len(), 64, "{cookie}");
    let flags: Vec<&str> = flags.split(';').map(str::trim).collect();
    assert_eq!(
        flags,
        ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"],
        "no Secure over plain HTTP"
    );
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let body = reply.json();
    assert_eq!(body["user"], ADMIN);
    assert_eq!(body["csrf"].as_str().unwrap().len(), 64);
    assert_ne!(
        body["csrf"], token,
        "the CSRF token is not the session token"
    );
    // 1_800_000_000 s plus 12 hours.
    assert_eq!(body["expires_at"], "2027-01-15T20:00:00Z");
}

#[tokio::test]
async fn over_tls_the_cookie_is_secure_and_our_origin_is_https() {
    let fx = Fixture::with_tls(true).await;
    let session = signed_in(&fx.state).await;
    let reply = fx.login_from("192.0.2.1", ADMIN, PASSWORD).await;
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // The page's own origin is https://…; http://… is another site.
    for (origin, allowed) in [
        ("https://127.0.0.1:8080", true),
        ("http://127.0.0.1:8080", false),
    ] {
        let mut request = session.request("POST", "/api/logout", Value::Null);
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
        let status = status_of(&fx.app(), request).await;
        assert_eq!(
            status == StatusCode::NO_CONTENT,
            allowed,
            "{origin}: {status}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_admin_get_the_same_answer() {
    let fx = Fixture::new().await;
    signed_in::set_admin_password(&fx.state, ADMIN, PASSWORD).await;
    let wrong_password = fx
        .login_from("192.0.2.1", ADMIN, "amber-kettle-harbor")
        .await;
    let wrong_user = fx.login_from("192.0.2.2", "root", PASSWORD).await;
    for reply in [&wrong_password, &wrong_user] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
    }
    assert_eq!(wrong_password.body, wrong_user.body);
    assert!(
        wrong_user.text().contains("wrong user name or password"),
        "{}",
        wrong_user.text()
    );
    assert_eq!(fx.sessions_stored(), 0);
}

#[tokio::test]
async fn a_sign_in_that_is_not_json_is_refused_saying_what_it_should_be() {
    let fx = Fixture::new().await;
    let request = Request::post("/api/login")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("user=admin&password=x"))
        .unwrap();
    let reply = call(&fx.app(), request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains(r#"{"user": "admin", "password": "…"}"#),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_address_for_fifteen_minutes_and_sign_nobody_in() {
    let fx = Fixture::new().await;
    signed_in::set_admin_password(&fx.state, ADMIN, PASSWORD).await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        fx.clock.advance(Duration::from_secs(1));
        let reply = fx
            .login_from("192.0.2.7", ADMIN, &format!("a-wrong-guess-{i}"))
            .await;
        statuses.push(reply.status.as_u16());
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            // The first failure was at 1 s; it counts until 901 s.
            let retry: u64 = reply.headers[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(retry, 900 - i, "at {} s", i + 1);
            assert!(
                reply.json()["error"]
                    .as_str()
                    .unwrap()
                    .contains("try again in")
            );
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    // The right password is refused too while the lock lasts, or the lock would tell.
    let reply = fx.login_from("192.0.2.7", ADMIN, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(fx.sessions_stored(), 0, "nothing was signed in");
    // Another address is not locked out.
    assert_eq!(
        fx.login_from("192.0.2.8", ADMIN, PASSWORD).await.status,
        StatusCode::OK
    );
    // Once the first failure (at 1 s) is fifteen minutes old, the address may try again.
    fx.clock.advance(Duration::from_secs(15 * 60 - 9));
    assert_eq!(
        fx.login_from("192.0.2.7", ADMIN, PASSWORD).await.status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------------------------------
// Changes: CSRF and Origin.

#[tokio::test]
async fn a_forged_cross_site_post_is_refused_and_changes_nothing() {
    let fx = Fixture::new().await;
    let session = signed_in(&fx.state).await;
    let app = fx.app();
    // The cookie alone, as a browser sends it along with another site's form.
    let mut no_token = session.request("POST", "/api/logout", Value::Null);
    no_token.headers_mut().remove("x-csrf-token");
    let reply = call(&app, no_token).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("X-CSRF-Token"), "{}", reply.text());
    // A wrong token.
    let mut wrong = session.request("POST", "/api/logout", Value::Null);
    wrong
        .headers_mut()
        .insert("x-csrf-token", "0".repeat(64).parse().unwrap());
    assert_eq!(call(&app, wrong).await.status, StatusCode::FORBIDDEN);
    // The right token, but another site's origin.
    let mut foreign = session.request("POST", "/api/logout", Value::Null);
    foreign
        .headers_mut()
        .insert(header::ORIGIN, "http://attacker.example".parse().unwrap());
    let reply = call(&app, foreign).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("another site"), "{}", reply.text());
    // Nothing happened: the session is still there.
    assert_eq!(
        session.get(&app, "/api/session").await.status,
        StatusCode::OK
    );
    assert_eq!(fx.sessions_stored(), 1);
    // Our own origin with the token passes.
    let mut ours = session.request("POST", "/api/logout", Value::Null);
    ours.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
    assert_eq!(call(&app, ours).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_sign_in_from_another_sites_page_is_refused() {
    let fx = Fixture::new().await;
    signed_in::set_admin_password(&fx.state, ADMIN, PASSWORD).await;
    let request = Request::post("/api/login")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, "http://attacker.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"user": ADMIN, "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    let reply = call(&fx.app(), request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(fx.sessions_stored(), 0);
}

#[tokio::test]
async fn reading_needs_the_cookie_only() {
    let fx = Fixture::new().await;
    let session = signed_in(&fx.state).await;
    let mut request = session.request("GET", "/api/plan", Value::Null);
    request.headers_mut().remove("x-csrf-token");
    assert_eq!(status_of(&fx.app(), request).await, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// The end of a session.

#[tokio::test]
async fn after_log_out_the_api_refuses_the_old_cookie() {
    let fx = Fixture::new().await;
    let session = signed_in(&fx.state).await;
    let app = fx.app();
    assert_eq!(session.get(&app, "/api/plan").await.status, StatusCode::OK);
    let reply = session.send(&app, "POST", "/api/logout", Value::Null).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let cleared = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("switchboard_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(fx.sessions_stored(), 0);
    for path in ["/api/plan", "/api/session"] {
        assert_eq!(
            session.get(&app, path).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_sign_in() {
    let fx = Fixture::new().await;
    let session = signed_in(&fx.state).await;
    let app = fx.app();
    fx.clock.advance(SESSION_LIFETIME - Duration::from_secs(1));
    assert_eq!(session.get(&app, "/api/plan").await.status, StatusCode::OK);
    fx.clock.advance(Duration::from_secs(1));
    assert_eq!(
        session.get(&app, "/api/plan").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(fx.sessions_stored(), 0, "the expired session was deleted");
}

#[tokio::test]
async fn a_new_password_or_removing_the_admin_ends_their_sessions() {
    let fx = Fixture::new().await;
    let app = fx.app();
    let session = signed_in(&fx.state).await;
    signed_in::set_admin_password(&fx.state, ADMIN, "copper-lantern-meadow").await;
    assert_eq!(
        session.get(&app, "/api/plan").await.status,
        StatusCode::UNAUTHORIZED
    );
    let again: SignedIn = sign_in(&app, ADMIN, "copper-lantern-meadow").await.unwrap();
    fx.state
        .store
        .run_sqlite(|store| store.remove_admin(ADMIN))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.get(&app, "/api/plan").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(sign_in(&app, ADMIN, "copper-lantern-meadow").await.is_err());
}

// ---------------------------------------------------------------------------------------
// What the store keeps.

#[tokio::test]
async fn the_store_keeps_an_argon2id_hash_and_token_digests_never_the_secrets() {
    let fx = Fixture::new().await;
    let session = signed_in(&fx.state).await;
    let token = session.cookie.strip_prefix("switchboard_session=").unwrap();
    let raw = Connection::open(fx.store_path()).unwrap();
    let hash: String = raw
        .query_row(
            "SELECT password_hash FROM admins WHERE name = 'admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let digest: String = raw
        .query_row("SELECT token_sha256 FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(digest.len(), 64);
    assert_ne!(digest, token);
    // No column of any table holds the password, the token or the CSRF token.
    let dump: String = raw
        .query_row(
            "SELECT group_concat(name || password_hash) FROM admins",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let sessions: String = raw
        .query_row(
            "SELECT group_concat(token_sha256 || admin || created || expires) FROM sessions",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for secret in [PASSWORD, token, session.csrf.as_str()] {
        assert!(!dump.contains(secret) && !sessions.contains(secret));
    }
}
