//! The office's people signing in to the web client, through the router (`oneshot`, no
//! socket) on a real SQLite store: one password for the phone and the web, the person's
//! sign-in and its uniform refusals, the throttle it shares with the admins', which
//! routes each kind of session reaches, a person changing their own password, and who
//! they are (`/api/me`) and whom they can find (`/api/people`).
//!
//! `editor_auth.rs` walks every route with and without each kind of session; here are
//! the people's own rules.

mod signed_in;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use rusqlite::Connection;
use serde_json::{Value, json};
use signed_in::{
    HOST, PERSON_PASSWORD, Reply, call, set_admin_password, set_web_password, sign_in_person,
    signed_in, signed_in_person,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchboard_core::store::Store;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::auth::{Auth, AuthSettings, Clock};
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::sip::DigestAlgorithm;
use tempfile::TempDir;

/// Alice manages both queues and works in Sales; Bruno works in both; Carla in none.
/// 104 has no name.
const PLAN: &str = "extension 101 \"Alice Adams\"
extension 102 \"Bruno Braun\"
extension 103 \"Carla Bruni\"
extension 104
queue 800 \"Sales\" {
    agents 101, 102
    managers 101
}
queue 801 \"Support\" {
    agents 102
    managers 101
}
";

/// The realm the phones' digests are for in these tests.
const REALM: &str = "switchboard";

/// A plan folder, a store file and the state over them, with a clock the test moves.
struct Fixture {
    dir: TempDir,
    state: AppState,
    clock: Clock,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_plan(PLAN).await
    }

    async fn with_plan(plan: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store =
            switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
                .await
                .unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), plan).unwrap();
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let plans = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), plans.clone())),
            plans,
            calls: Default::default(),
            hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
            store,
            live: None,
            auth: Arc::new(Auth::new(AuthSettings {
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

    fn raw(&self) -> Connection {
        Connection::open(self.store_path()).unwrap()
    }

    fn store_path(&self) -> PathBuf {
        self.dir.path().join("office.db")
    }

    /// Replaces the plan and reloads it, as a saved edit does.
    fn reload_plan(&self, plan: &str) {
        let version = self.state.plans.version();
        std::fs::write(self.dir.path().join("dialplans/office.dial"), plan).unwrap();
        self.state.plans.reload();
        assert_eq!(
            self.state.plans.version(),
            version + 1,
            "the plan was reloaded"
        );
    }

    /// `POST path` with `body` from address `from`, without a session.
    async fn post_from(&self, from: &str, path: &str, body: Value) -> Reply {
        let mut request = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let peer: SocketAddr = format!("{from}:50000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        call(&self.app(), request).await
    }

    /// `POST /api/people/login` from `from`.
    async fn person_login_from(&self, from: &str, extension: &str, password: &str) -> Reply {
        let body = json!({"extension": extension, "password": password});
        self.post_from(from, "/api/people/login", body).await
    }

    /// Sets the phone and web password of `extension` in one go, as `switchboard user
    /// set-password` does.
    async fn set_phone_and_web_password(&self, extension: &str, password: &str) {
        let (extension, password) = (extension.to_string(), password.to_string());
        let now = self.clock.now_ms();
        self.state
            .store
            .run_sqlite(move |s| s.set_phone_and_web_password(&extension, REALM, &password, now))
            .await
            .unwrap()
            .unwrap();
    }

    /// The phone's SHA-256 digest of `extension`, if it has one.
    async fn phone_digest(&self, extension: &str) -> Option<String> {
        let extension = extension.to_string();
        self.state
            .store
            .run_sqlite(move |s| s.ha1(&extension, REALM, DigestAlgorithm::Sha256))
            .await
            .unwrap()
            .unwrap()
    }

    /// The sessions the store holds, as (kind, admin, extension).
    fn sessions(&self) -> Vec<(String, Option<String>, Option<String>)> {
        self.raw()
            .prepare("SELECT kind, admin, extension FROM sessions ORDER BY kind, admin, extension")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------------------------------
// One password for the phone and the web.

#[tokio::test]
async fn one_password_sets_the_phones_digests_and_signs_in_on_the_web() {
    let fx = Fixture::new().await;
    fx.set_phone_and_web_password("101", PERSON_PASSWORD).await;
    let expected = switchboard_runtime::sip::digest::ha1(
        DigestAlgorithm::Sha256,
        "101",
        REALM,
        PERSON_PASSWORD,
    );
    assert_eq!(fx.phone_digest("101").await, Some(expected));
    let reply = fx
        .person_login_from("192.0.2.1", "101", PERSON_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // What the store keeps of the web password: an Argon2id hash, never the password.
    let hash: String = fx
        .raw()
        .query_row(
            "SELECT password_hash FROM web_passwords WHERE extension = '101'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PERSON_PASSWORD));
}

#[tokio::test]
async fn a_web_password_alone_leaves_the_phone_as_it_was() {
    let fx = Fixture::new().await;
    fx.set_phone_and_web_password("101", PERSON_PASSWORD).await;
    let phone = fx.phone_digest("101").await;
    set_web_password(&fx.state, "101", "harbour-violet-stone").await;
    assert_eq!(fx.phone_digest("101").await, phone, "the phone's digests");
    let app = fx.app();
    assert!(sign_in_person(&app, "101", PERSON_PASSWORD).await.is_err());
    assert!(
        sign_in_person(&app, "101", "harbour-violet-stone")
            .await
            .is_ok()
    );
    // A web password for someone without a phone password leaves them without one.
    set_web_password(&fx.state, "102", "harbour-violet-stone").await;
    assert_eq!(fx.phone_digest("102").await, None);
}

// ---------------------------------------------------------------------------------------
// Signing in.

#[tokio::test]
async fn a_person_signs_in_as_their_extension_and_the_session_says_who_they_are() {
    let fx = Fixture::new().await;
    set_web_password(&fx.state, "101", PERSON_PASSWORD).await;
    let reply = fx
        .person_login_from("192.0.2.1", "101", PERSON_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("switchboard_session=")
            && cookie.contains("HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"),
        "the admin's cookie rules: {cookie}"
    );
    let body = reply.json();
    assert_eq!(body["kind"], "person");
    assert_eq!(body["extension"], "101");
    assert_eq!(body["name"], "Alice Adams");
    assert_eq!(body["csrf"].as_str().unwrap().len(), 64);
    assert_eq!(body["expires_at"], "2027-01-15T20:00:00Z");

    let session = signed_in_person(&fx.state, "102", PERSON_PASSWORD).await;
    let reply = session.get(&fx.app(), "/api/session").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(
        (&body["kind"], &body["extension"], &body["name"]),
        (&json!("person"), &json!("102"), &json!("Bruno Braun"))
    );
    assert_eq!(body["csrf"], session.csrf);
    // An admin's session says it is one, with no extension.
    let admin = signed_in(&fx.state).await;
    let body = admin.get(&fx.app(), "/api/session").await.json();
    assert_eq!(body["kind"], "admin");
    assert_eq!(body["user"], "admin");
    assert!(body.get("extension").is_none(), "{body}");
    // The store says whose each session is.
    assert_eq!(
        fx.sessions(),
        [
            ("admin".to_string(), Some("admin".to_string()), None),
            ("person".to_string(), None, Some("101".to_string())),
            ("person".to_string(), None, Some("102".to_string())),
        ]
    );
}

#[tokio::test]
async fn wrong_passwords_and_extensions_that_cannot_sign_in_all_get_the_same_answer() {
    let fx = Fixture::new().await;
    set_web_password(&fx.state, "101", PERSON_PASSWORD).await;
    // A password left in the store for an extension the plan does not define.
    set_web_password(&fx.state, "199", PERSON_PASSWORD).await;
    let refused = [
        ("101", "a-wrong-guess-entirely"),
        // In the plan, without a web password.
        ("102", PERSON_PASSWORD),
        // Not in the plan at all.
        ("555", PERSON_PASSWORD),
        // Not in the plan, with a stored password, guessed wrong: only the right
        // password learns that the extension is out of the plan.
        ("199", "a-wrong-guess-entirely"),
    ];
    let mut bodies = Vec::new();
    for (i, (extension, password)) in refused.iter().enumerate() {
        // From different addresses, so the throttle stays out of it.
        let reply = fx
            .person_login_from(&format!("192.0.2.{}", i + 1), extension, password)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{extension}");
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
        bodies.push(reply.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one answer for all"
    );
    let words = String::from_utf8(bodies[0].clone()).unwrap();
    assert!(
        words.contains("wrong extension or password")
            && words.contains("switchboard user set-password"),
        "{words}"
    );
    assert!(fx.sessions().is_empty(), "nobody was signed in");
}

#[tokio::test]
async fn a_person_sign_in_that_is_not_json_says_what_it_should_be() {
    let fx = Fixture::new().await;
    let reply = fx
        .post_from("192.0.2.1", "/api/people/login", json!({"user": "101"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        error_of(&reply).contains(r#"{"extension": "101", "password": "…"}"#),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn wrong_passwords_for_admins_and_people_count_together_per_address() {
    let fx = Fixture::new().await;
    set_admin_password(&fx.state, "admin", "amber-kettle-harbour").await;
    set_web_password(&fx.state, "101", PERSON_PASSWORD).await;
    let from = "192.0.2.7";
    for i in 0..3 {
        let body = json!({"user": "admin", "password": format!("wrong-{i}")});
        let reply = fx.post_from(from, "/api/login", body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    for i in 0..2 {
        let reply = fx
            .person_login_from(from, "101", &format!("wrong-{i}"))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Five wrong in all: the address is locked for both kinds, right passwords too.
    let reply = fx.person_login_from(from, "101", PERSON_PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text()
    );
    assert!(reply.headers.get(header::RETRY_AFTER).is_some());
    let body = json!({"user": "admin", "password": "amber-kettle-harbour"});
    assert_eq!(
        fx.post_from(from, "/api/login", body).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert!(fx.sessions().is_empty());
    // Another address is not affected.
    let reply = fx
        .person_login_from("192.0.2.8", "101", PERSON_PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_person_sign_in_from_another_sites_page_is_refused() {
    let fx = Fixture::new().await;
    set_web_password(&fx.state, "101", PERSON_PASSWORD).await;
    let request = Request::post("/api/people/login")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, "http://attacker.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"extension": "101", "password": PERSON_PASSWORD}).to_string(),
        ))
        .unwrap();
    let reply = call(&fx.app(), request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(fx.sessions().is_empty());
}

// ---------------------------------------------------------------------------------------
// Whose routes.

#[tokio::test]
async fn each_kind_of_session_reaches_its_own_routes_only() {
    let fx = Fixture::new().await;
    let app = fx.app();
    let person = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let admin = signed_in(&fx.state).await;

    for path in ["/api/plan", "/api/office", "/api/files", "/status"] {
        let reply = person.get(&app, path).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        let error = error_of(&reply);
        assert!(
            error.contains("this page is for admins") && error.contains("extension 101"),
            "{path}: {error}"
        );
    }
    for path in ["/api/me", "/api/people", "/api/chat/conversations"] {
        let reply = admin.get(&app, path).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            error_of(&reply).contains("this page is for the office's people"),
            "{path}: {}",
            reply.text()
        );
    }
    for path in ["/api/me", "/api/people"] {
        assert_eq!(
            person.get(&app, path).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    // An admin cannot change a person's password through the person's route either.
    let reply = admin
        .send(
            &app,
            "PUT",
            "/api/me/password",
            json!({"current": PERSON_PASSWORD, "new": "harbour-violet-stone"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Both kinds may read their session and log out.
    for session in [&person, &admin] {
        assert_eq!(
            session.get(&app, "/api/session").await.status,
            StatusCode::OK
        );
    }
    let reply = person.send(&app, "POST", "/api/logout", Value::Null).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        person.get(&app, "/api/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(admin.get(&app, "/api/plan").await.status, StatusCode::OK);
}

#[tokio::test]
async fn without_a_session_the_peoples_routes_say_how_a_person_signs_in() {
    let fx = Fixture::new().await;
    for path in ["/api/me", "/api/people?q=a", "/api/chat/conversations"] {
        let request = Request::get(path)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .unwrap();
        let reply = call(&fx.app(), request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        let error = error_of(&reply);
        assert!(
            error.contains("POST /api/people/login") && error.contains("switchboard user"),
            "{path}: {error}"
        );
    }
}

#[tokio::test]
async fn a_change_by_a_person_needs_the_csrf_token_too() {
    let fx = Fixture::new().await;
    let person = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let mut request = person.request(
        "PUT",
        "/api/me/password",
        json!({"current": PERSON_PASSWORD, "new": "harbour-violet-stone"}),
    );
    request.headers_mut().remove("x-csrf-token");
    let reply = call(&fx.app(), request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("X-CSRF-Token"), "{}", reply.text());
    // Nothing changed: the old password still signs in.
    assert!(
        sign_in_person(&fx.app(), "101", PERSON_PASSWORD)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_person_taken_out_of_the_plan_or_without_a_web_password_is_signed_out() {
    let fx = Fixture::new().await;
    let app = fx.app();
    let alice = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let bruno = signed_in_person(&fx.state, "102", PERSON_PASSWORD).await;
    fx.reload_plan("extension 102 \"Bruno Braun\"\n");
    assert!(fx.state.plans.plan().extension("101").is_none());
    let reply = alice.get(&app, "/api/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(
        error_of(&reply).contains("no longer in the office's plan"),
        "{}",
        reply.text()
    );
    assert_eq!(
        alice.get(&app, "/api/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(bruno.get(&app, "/api/me").await.status, StatusCode::OK);
    // Removing the web password ends the sessions.
    fx.state
        .store
        .run_sqlite(|s| s.remove_web_password("102"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bruno.get(&app, "/api/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// The body of `stream` (an event stream's answer) read until it ends; `false` when it
/// is still open after `within`.
async fn ends_within(stream: axum::response::Response, within: Duration) -> bool {
    use futures_util::StreamExt;
    let mut body = stream.into_body().into_data_stream();
    tokio::time::timeout(within, async {
        while let Some(chunk) = body.next().await {
            chunk.unwrap();
        }
    })
    .await
    .is_ok()
}

/// Writes `plan` over the plan file and waits for the folder watcher to load it, as an
/// admin's edit on disk reaches the running server.
async fn edit_plan_on_disk(fx: &Fixture, plan: &str) {
    let mut versions = fx.state.plans.versions();
    let before = *versions.borrow_and_update();
    std::fs::write(fx.dir.path().join("dialplans/office.dial"), plan).unwrap();
    tokio::time::timeout(Duration::from_secs(10), versions.changed())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the watcher did not load the edited plan within 10 s: {:?}",
                fx.state.plans.last_attempt()
            )
        })
        .unwrap();
    assert_eq!(fx.state.plans.version(), before + 1);
}

#[tokio::test]
async fn an_extension_taken_out_of_the_plan_on_disk_signs_out_its_person_until_put_back() {
    let fx = Fixture::new().await;
    let _watching =
        switchboard_runtime::reload::watch(fx.state.plans.clone(), std::future::pending()).unwrap();
    // As the server runs it beside the watcher.
    let sweeping = tokio::spawn(
        switchboard_runtime::http::auth::end_sessions_outside_the_plan(
            fx.state.store.clone(),
            fx.state.plans.clone(),
        ),
    );
    let app = fx.app();
    let alice = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let bruno = signed_in_person(&fx.state, "102", PERSON_PASSWORD).await;
    assert_eq!(alice.get(&app, "/api/me").await.status, StatusCode::OK);
    // Alice's open streams: the chat's and the team's.
    let mut streams = Vec::new();
    for path in ["/api/chat/events", "/api/team/events"] {
        let request = alice.request("GET", path, Value::Null);
        let stream = tower::ServiceExt::oneshot(app.clone(), request)
            .await
            .unwrap();
        assert_eq!(stream.status(), StatusCode::OK, "{path}");
        streams.push((path, stream));
    }

    // 101 out, and out of the queues that listed it (or the plan would not compile).
    let without_alice = PLAN
        .replace("extension 101 \"Alice Adams\"\n", "")
        .replace("agents 101, 102", "agents 102")
        .replace("managers 101", "managers 102");
    edit_plan_on_disk(&fx, &without_alice).await;
    assert!(fx.state.plans.plan().extension("101").is_none());

    // Her streams end at the reload, well before their 15-second look at the store.
    for (path, stream) in streams {
        assert!(
            ends_within(stream, Duration::from_secs(5)).await,
            "{path} still open after 101 left the plan"
        );
    }
    // Refused at once by the guard, whether or not her session is gone from the store
    // yet; then it is gone for good.
    assert_eq!(
        alice.get(&app, "/api/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fx
        .sessions()
        .iter()
        .any(|(_, _, e)| e.as_deref() == Some("101"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "101's session still stored 10 s after the reload"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        fx.sessions(),
        [("person".to_string(), None, Some("102".to_string()))],
        "Bruno's session stays"
    );
    assert_eq!(bruno.get(&app, "/api/me").await.status, StatusCode::OK);
    // Her right password says why, and signs nobody in.
    let refused = sign_in_person(&app, "101", PERSON_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.headers.get(header::SET_COOKIE).is_none());
    assert!(
        error_of(&refused).contains("101 is not an extension of the running plan; ask the admin"),
        "{}",
        refused.text()
    );
    // A wrong one gets the answer every wrong guess gets.
    let wrong = fx
        .person_login_from("192.0.2.9", "101", "a-wrong-guess-entirely")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        error_of(&wrong).contains("wrong extension or password"),
        "{}",
        wrong.text()
    );

    // Put back: her old session stays ended, and the same password works again (it
    // was kept).
    edit_plan_on_disk(&fx, PLAN).await;
    assert_eq!(
        alice.get(&app, "/api/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = sign_in_person(&app, "101", PERSON_PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("{} {}", r.status, r.text()));
    assert_eq!(again.get(&app, "/api/me").await.status, StatusCode::OK);
    sweeping.abort();
}

// ---------------------------------------------------------------------------------------
// A person's own password.

#[tokio::test]
async fn a_person_changes_their_own_web_password_and_the_phone_keeps_its_own() {
    let fx = Fixture::new().await;
    let app = fx.app();
    fx.set_phone_and_web_password("101", PERSON_PASSWORD).await;
    let phone = fx.phone_digest("101").await;
    assert!(phone.is_some());
    let here = sign_in_person(&app, "101", PERSON_PASSWORD).await.unwrap();
    let elsewhere = sign_in_person(&app, "101", PERSON_PASSWORD).await.unwrap();

    // A wrong current password: refused, nothing changed.
    let reply = here
        .send(
            &app,
            "PUT",
            "/api/me/password",
            json!({"current": "not-my-password-at-all", "new": "harbour-violet-stone"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(error_of(&reply).contains("current password is wrong"));
    // A new password the policy refuses: refused with its rule, nothing changed.
    let reply = here
        .send(
            &app,
            "PUT",
            "/api/me/password",
            json!({"current": PERSON_PASSWORD, "new": "short"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&reply).contains("not changed"), "{}", reply.text());
    // Not the shape asked for.
    let reply = here
        .send(&app, "PUT", "/api/me/password", json!({"password": "x"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&reply).contains(r#"{"current": "…", "new": "…"}"#));
    assert_eq!(elsewhere.get(&app, "/api/me").await.status, StatusCode::OK);
    assert!(sign_in_person(&app, "101", PERSON_PASSWORD).await.is_ok());

    // The right current password.
    let reply = here
        .send(
            &app,
            "PUT",
            "/api/me/password",
            json!({"current": PERSON_PASSWORD, "new": "harbour-violet-stone"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert!(sign_in_person(&app, "101", PERSON_PASSWORD).await.is_err());
    assert!(
        sign_in_person(&app, "101", "harbour-violet-stone")
            .await
            .is_ok()
    );
    // The session that changed it goes on; the others end.
    assert_eq!(here.get(&app, "/api/me").await.status, StatusCode::OK);
    assert_eq!(
        elsewhere.get(&app, "/api/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The phone's digests are as they were.
    assert_eq!(fx.phone_digest("101").await, phone);
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_address() {
    let fx = Fixture::new().await;
    let app = fx.app();
    let person = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let reply = person
            .send(
                &app,
                "PUT",
                "/api/me/password",
                json!({"current": format!("guess-number-{i}"), "new": "harbour-violet-stone"}),
            )
            .await;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429]);
    // Even the right one waits now.
    let reply = person
        .send(
            &app,
            "PUT",
            "/api/me/password",
            json!({"current": PERSON_PASSWORD, "new": "harbour-violet-stone"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

// ---------------------------------------------------------------------------------------
// Who I am, and whom I can find.

#[tokio::test]
async fn me_says_who_i_am_and_my_queues() {
    let fx = Fixture::new().await;
    fx.state
        .store
        .run_sqlite(|s| s.set_queue_logged_in("101", "800", true))
        .await
        .unwrap()
        .unwrap();
    let alice = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let reply = alice.get(&fx.app(), "/api/me").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({
            "extension": "101",
            "name": "Alice Adams",
            "queues": [
                {"queue": "800", "name": "Sales", "logged_in": true, "manager": true},
                {"queue": "801", "name": "Support", "logged_in": false, "manager": true},
            ]
        })
    );
    let bruno = signed_in_person(&fx.state, "102", PERSON_PASSWORD).await;
    let queues = bruno.get(&fx.app(), "/api/me").await.json()["queues"].clone();
    assert_eq!(
        queues,
        json!([
            {"queue": "800", "name": "Sales", "logged_in": false, "manager": false},
            {"queue": "801", "name": "Support", "logged_in": false, "manager": false},
        ])
    );
    // Without a name in the plan, the number is the name; no queue, no queues.
    let nameless = signed_in_person(&fx.state, "104", PERSON_PASSWORD).await;
    assert_eq!(
        nameless.get(&fx.app(), "/api/me").await.json(),
        json!({"extension": "104", "name": "104", "queues": []})
    );
}

#[tokio::test]
async fn people_are_found_by_name_or_number() {
    let fx = Fixture::new().await;
    let app = fx.app();
    let alice = signed_in_person(&fx.state, "101", PERSON_PASSWORD).await;
    let found = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    p["extension"].as_str().unwrap(),
                    p["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        found(alice.get(&app, "/api/people?q=bru").await),
        ["102 Bruno Braun", "103 Carla Bruni"],
        "any case, any part of the name"
    );
    assert_eq!(
        found(alice.get(&app, "/api/people?q=103").await),
        ["103 Carla Bruni"]
    );
    assert_eq!(
        found(alice.get(&app, "/api/people?q=%20ADAMS%20").await),
        ["101 Alice Adams"]
    );
    assert_eq!(
        found(alice.get(&app, "/api/people?q=zebra").await),
        Vec::<String>::new()
    );
    assert_eq!(found(alice.get(&app, "/api/people").await).len(), 4);
}

#[tokio::test]
async fn a_search_answers_fifty_people_at_most() {
    let plan: String = (200..260)
        .map(|n| format!("extension {n} \"Person {n}\"\n"))
        .collect();
    let fx = Fixture::with_plan(&plan).await;
    let person = signed_in_person(&fx.state, "200", PERSON_PASSWORD).await;
    let reply = person.get(&fx.app(), "/api/people?q=person").await;
    let people = reply.json();
    let people = people.as_array().unwrap();
    assert_eq!(people.len(), 50);
    assert_eq!(people[0]["extension"], "200");
    assert_eq!(people[49]["extension"], "249");
}
