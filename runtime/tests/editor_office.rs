//! The office view of the editor (`/api/office`): first through the router (`oneshot`, no
//! socket) on a real SQLite store, then against a whole server in this process, with
//! phones as raw UDP sockets: a phone that registers shows and the event stream says
//! so; a hot-desk login made at the phone (`*77*EXT*` and the PIN) shows, and the
//! admin's logout ends it with the phone's lamp following; a weak password is refused
//! and stores nothing, a good one lets a phone register, and removing it shuts it out.
//! Every wait has a deadline.

mod bridged;
mod live_server;
mod signed_in;
mod support;

use serde_json::{Value, json};
use signed_in::{HOST, SignedIn, signed_in};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchboard_core::office;
use switchboard_core::store::NewMessage;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::office_changes::OfficeChanges;
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::sip::DigestAlgorithm;
use switchboard_runtime::sqlite_store::StoreThread;
use tempfile::TempDir;

const MAC: &str = "001565AABBCC";

/// Good enough for the password policy, and for nothing else.
const GOOD_PASSWORD: &str = "copper-lantern-meadow";

const ROUTER_PLAN: &str = r#"
extension 101 "Alice" { voicemail; hot_desk }
extension 102 "Bruno" { voicemail }
extension 103 "Carla"
device "001565AABBCC" "Yealink T46U" { hot_desk }
queue 600 "Sales" { agents 101, 102 }
park SP1
"#;

/// A plan folder and a store, and the API's state over them without a server.
struct Fixture {
    _dir: TempDir,
    state: AppState,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreThread::open(&dir.path().join("office.db"))
            .await
            .unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), ROUTER_PLAN).unwrap();
        let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
            plans: plan_holder,
            calls: Default::default(),
            hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
            office_changes: store.office_changes(),
            chat_config: Default::default(),
            store,
            live: None,
            auth: Default::default(),
        };
        Fixture { _dir: dir, state }
    }

    fn changes(&self) -> &OfficeChanges {
        &self.state.office_changes
    }

    async fn signed_in(&self) -> SignedIn {
        signed_in(&self.state).await
    }

    async fn office(&self, admin: &SignedIn) -> Value {
        let reply = admin.get(&app(self.state.clone()), "/api/office").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// Whether the registrar would let `user` in with `password` now: the digest the
    /// store thread keeps for it.
    fn opens(&self, user: &str, password: &str) -> bool {
        let realm = switchboard_runtime::config::ServerConfig::default().realm;
        let expected =
            switchboard_runtime::sip::digest::ha1(DigestAlgorithm::Md5, user, &realm, password);
        self.state
            .store
            .credentials()
            .ha1(user, &realm, DigestAlgorithm::Md5)
            == Some(expected)
    }
}

/// The receiver's counter moved since it last looked; never waits.
fn bumped(receiver: &mut tokio::sync::watch::Receiver<u64>) -> bool {
    receiver.has_changed().unwrap() && {
        receiver.borrow_and_update();
        true
    }
}

#[tokio::test]
async fn every_office_write_is_heard_once_committed_and_nothing_else_is() {
    let fx = Fixture::new().await;
    let mut changes = fx.changes().subscribe();
    let store = &fx.state.store;
    store
        .run(|s| s.set_queue_logged_in("102", "600", true).unwrap())
        .await
        .unwrap();
    assert!(bumped(&mut changes), "a queue login");
    let id = store
        .run(|s| {
            s.add_message(
                "101",
                NewMessage {
                    recording: "msg-1".into(),
                    from: "102".into(),
                    duration_ms: 1_000,
                    received: "2026-11-23 10:00".into(),
                },
            )
            .unwrap()
        })
        .await
        .unwrap();
    assert!(bumped(&mut changes), "a new message");
    store
        .run(move |s| {
            s.move_message("101", id, switchboard_core::store::Folder::Saved)
                .unwrap()
        })
        .await
        .unwrap();
    assert!(bumped(&mut changes), "a message heard and kept");
    let plan = fx.state.plans.plan();
    store
        .run(move |s| {
            office::hot_desk_login(&plan, s, Some(MAC), "101")
                .unwrap()
                .unwrap()
        })
        .await
        .unwrap();
    assert!(bumped(&mut changes), "a hot-desk login");
    // What the view does not show changes nothing it shows.
    store
        .run(|s| {
            s.set_pin_attempts("101", Default::default()).unwrap();
            s.set_agent_last_call_end("102", 5).unwrap();
            s.message_counts("101").unwrap()
        })
        .await
        .unwrap();
    assert!(
        !bumped(&mut changes),
        "PIN attempts, queue history and reads are not"
    );
}

#[tokio::test]
async fn every_office_route_needs_a_session_and_a_change_its_csrf_token() {
    let fx = Fixture::new().await;
    let app = app(fx.state.clone());
    for (method, path, body) in [
        ("GET", "/api/office", Value::Null),
        (
            "POST",
            "/api/office/hot-desks/001565AABBCC/logout",
            Value::Null,
        ),
        (
            "PUT",
            "/api/office/users/101/password",
            json!({"password": GOOD_PASSWORD}),
        ),
        ("DELETE", "/api/office/users/101", Value::Null),
    ] {
        let nobody = SignedIn {
            cookie: "switchboard_session=forged".into(),
            csrf: "forged".into(),
        };
        let reply = nobody.send(&app, method, path, body.clone()).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.text());
        assert!(reply.json()["error"].as_str().unwrap().contains("sign in"));
    }
    let admin = fx.signed_in().await;
    let no_token = SignedIn {
        csrf: "wrong".into(),
        ..admin.clone()
    };
    let reply = no_token
        .send(
            &app,
            "PUT",
            "/api/office/users/101/password",
            json!({"password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert!(
        !fx.opens("101", GOOD_PASSWORD),
        "a forged request set nothing"
    );
}

#[tokio::test]
async fn without_a_server_the_office_is_what_the_store_holds() {
    let fx = Fixture::new().await;
    let plan = fx.state.plans.plan();
    fx.state
        .store
        .run(move |s| {
            office::hot_desk_login(&plan, s, Some(MAC), "101")
                .unwrap()
                .unwrap();
            s.set_queue_logged_in("102", "600", true).unwrap();
            s.add_message(
                "101",
                NewMessage {
                    recording: "msg-1".into(),
                    from: "102".into(),
                    duration_ms: 4_000,
                    received: "2026-11-23 10:00".into(),
                },
            )
            .unwrap();
        })
        .await
        .unwrap();
    fx.state
        .store
        .run_sqlite(|s| {
            s.set_password("101", "switchboard", GOOD_PASSWORD).unwrap();
            // A password left behind for an extension the plan no longer has.
            s.set_password("199", "switchboard", GOOD_PASSWORD).unwrap();
        })
        .await
        .unwrap();
    let admin = fx.signed_in().await;
    let office = fx.office(&admin).await;

    assert_eq!(office["registrations"], json!([]), "no server, no phones");
    let desks = office["hot_desks"].as_array().unwrap();
    assert_eq!(desks.len(), 1, "{office}");
    assert_eq!(desks[0]["device"], MAC);
    assert_eq!(desks[0]["extension"], "101");
    let since = desks[0]["since"].as_str().expect("when the login began");
    assert!(since.starts_with("20") && since.ends_with('Z'), "{since}");
    assert_eq!(
        office["queues"],
        json!([{"queue": "600", "name": "Sales", "agents": [
            {"extension": "101", "logged_in": false, "state": null},
            {"extension": "102", "logged_in": true, "state": null},
        ]}])
    );
    assert_eq!(office["parked"], json!([]));
    assert_eq!(
        office["mailboxes"],
        json!([
            {"mailbox": "101", "new": 1, "saved": 0},
            {"mailbox": "102", "new": 0, "saved": 0},
        ])
    );
    assert_eq!(
        office["users"],
        json!([
            {"name": "101", "kind": "extension", "has_password": true, "defined_in_plan": true},
            {"name": "102", "kind": "extension", "has_password": false, "defined_in_plan": true},
            {"name": "103", "kind": "extension", "has_password": false, "defined_in_plan": true},
            {"name": MAC, "kind": "device", "has_password": false, "defined_in_plan": true},
            {"name": "199", "kind": "extension", "has_password": true, "defined_in_plan": false},
        ])
    );
}

#[tokio::test]
async fn a_weak_password_is_refused_in_the_policys_words_and_nothing_is_stored() {
    let fx = Fixture::new().await;
    let admin = fx.signed_in().await;
    let mut changes = fx.changes().subscribe();
    let app = app(fx.state.clone());
    for (weak, words) in [
        ("k9#mX2", "12 characters"),
        ("password1234", "well-known"),
        ("qwertyuiopas", "run"),
        ("my-phone-is-101-ok", "user name"),
    ] {
        let reply = admin
            .send(
                &app,
                "PUT",
                "/api/office/users/101/password",
                json!({"password": weak}),
            )
            .await;
        assert_eq!(reply.status, 422, "{weak}: {}", reply.text());
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert!(error.starts_with("101: "), "{error}");
        assert!(error.contains(words), "{weak}: {error}");
        assert!(error.contains("nothing was stored"), "{error}");
        assert!(
            !error.contains(weak),
            "the answer never repeats the password: {error}"
        );
    }
    let stored = fx
        .state
        .store
        .run_sqlite(|s| s.list_passwords().unwrap())
        .await
        .unwrap();
    assert!(stored.is_empty(), "{stored:?}");
    assert!(!bumped(&mut changes), "a refused request changes nothing");

    // Not JSON, or not the shape asked for: a clear 400, nothing stored either.
    for body in [json!({"pasword": GOOD_PASSWORD}), json!(GOOD_PASSWORD)] {
        let reply = admin
            .send(&app, "PUT", "/api/office/users/101/password", body)
            .await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains("\"password\"")
        );
    }
    assert!(!fx.opens("101", GOOD_PASSWORD));
}

#[tokio::test]
async fn only_a_name_the_plan_defines_gets_a_password_with_the_closest_one_suggested() {
    let fx = Fixture::new().await;
    let admin = fx.signed_in().await;
    let app = app(fx.state.clone());
    let reply = admin
        .send(
            &app,
            "PUT",
            "/api/office/users/1O1/password",
            json!({"password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    let error = reply.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("1O1 is not an extension in the plan"),
        "{error}"
    );
    assert!(error.contains("did you mean 101?"), "{error}");
    assert!(!fx.opens("1O1", GOOD_PASSWORD));

    // A hot-desk phone's MAC is a user in either case, kept in capitals.
    let reply = admin
        .send(
            &app,
            "PUT",
            "/api/office/users/001565aabbcc/password",
            json!({"password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(fx.opens(MAC, GOOD_PASSWORD));
}

#[tokio::test]
async fn a_password_set_and_removed_reaches_the_registrar_at_once_and_the_office_hears_it() {
    let fx = Fixture::new().await;
    let admin = fx.signed_in().await;
    let app = app(fx.state.clone());
    let mut changes = fx.changes().subscribe();

    let reply = admin
        .send(
            &app,
            "PUT",
            "/api/office/users/103/password",
            json!({"password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(reply.body.is_empty());
    // Answered after the store thread loaded the credentials again: no second's wait.
    assert!(fx.opens("103", GOOD_PASSWORD));
    assert!(
        bumped(&mut changes),
        "the office view hears of the new user"
    );
    let users = fx.office(&admin).await["users"].clone();
    assert!(
        users
            .as_array()
            .unwrap()
            .contains(&json!({"name": "103", "kind": "extension", "has_password": true, "defined_in_plan": true})),
        "{users}"
    );

    let reply = admin
        .send(&app, "DELETE", "/api/office/users/103", Value::Null)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(!fx.opens("103", GOOD_PASSWORD));
    assert!(bumped(&mut changes));

    let again = admin
        .send(&app, "DELETE", "/api/office/users/103", Value::Null)
        .await;
    assert_eq!(again.status, 404, "{}", again.text());
    assert!(
        again.json()["error"]
            .as_str()
            .unwrap()
            .contains("103 has no SIP password")
    );
    assert!(!bumped(&mut changes), "nothing was removed the second time");
}

#[tokio::test]
async fn the_admin_logs_a_hot_desk_phone_out_and_the_office_hears_it() {
    let fx = Fixture::new().await;
    let plan = fx.state.plans.plan();
    fx.state
        .store
        .run(move |s| {
            office::hot_desk_login(&plan, s, Some(MAC), "101")
                .unwrap()
                .unwrap()
        })
        .await
        .unwrap();
    let admin = fx.signed_in().await;
    let app = app(fx.state.clone());
    let mut changes = fx.changes().subscribe();

    // The MAC in either case names the phone.
    let reply = admin
        .send(
            &app,
            "POST",
            "/api/office/hot-desks/001565aabbcc/logout",
            Value::Null,
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(bumped(&mut changes));
    assert_eq!(fx.office(&admin).await["hot_desks"], json!([]));
    let logins = fx
        .state
        .store
        .run(|s| s.hot_desk_logins().unwrap())
        .await
        .unwrap();
    assert!(logins.is_empty(), "{logins:?}");

    let again = admin
        .send(
            &app,
            "POST",
            "/api/office/hot-desks/001565AABBCC/logout",
            Value::Null,
        )
        .await;
    assert_eq!(again.status, 404, "{}", again.text());
    let error = again.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("nobody is logged in on hot-desk phone 001565AABBCC"),
        "{error}"
    );
    assert!(!bumped(&mut changes));

    let not_a_mac = admin
        .send(
            &app,
            "POST",
            "/api/office/hot-desks/101/logout",
            Value::Null,
        )
        .await;
    assert_eq!(not_a_mac.status, 400, "{}", not_a_mac.text());
    assert!(
        not_a_mac.json()["error"]
            .as_str()
            .unwrap()
            .contains("12 hex digits")
    );
}

// ---------------------------------------------------------------------------------------
// A whole server: real REGISTERs, a hot-desk login dialled and keyed at the phone, and
// the API over a real socket.

use bridged::{answered, next_request, sdp};
use live_server::{HOT_DESK_PHONE, Live, read_store, within};
use support::raw::{Call, Phone, Sip, register, request, signed_in as signed_sip};
use switchboard_runtime::server::{RunOptions, store_path};

const LIVE_PLAN: &str = r##"
device "001565AABBCC" "Yealink T46U" { hot_desk }
extension 103 "Carla" { voicemail; hot_desk; pin "1234" }
extension 104 "New Hire" { voicemail }

queue 600 "Sales" { agents 101, 102 }

dial "*77*{ext:XXX}*" -> flow hot_desk_login(ext)
dial "*77*5*"         -> flow hot_desk_logout

flow hot_desk_login(ext) {
    answer
    ask "vm-enter-pin" digits 4..8 until "#" timeout 10s -> pin
    if pin_ok(ext, pin) {
        hot_desk_login ext
    }
    hangup
}

flow hot_desk_logout {
    answer
    hot_desk_logout
    hangup
}
"##;

/// An admin signed in to a live server over HTTP.
struct Web {
    addr: SocketAddr,
    cookie: String,
    csrf: String,
}

impl Web {
    /// Gives the server an admin and signs in as them.
    async fn sign_in(live: &Live) -> Web {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        read_store(&store_path(&live.data()), move |s| {
            s.set_admin_password(signed_in::ADMIN, signed_in::PASSWORD, now_ms)
                .unwrap()
        });
        let addr = live.listening.http;
        let login = json!({"user": signed_in::ADMIN, "password": signed_in::PASSWORD});
        let (status, head, body) = http(addr, "POST", "/api/login", &[], Some(&login)).await;
        assert_eq!(status, 200, "{head}\n{body}");
        let cookie = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("set-cookie:")
                    .then(|| l["set-cookie:".len()..].trim().to_string())
            })
            .expect("a session cookie");
        let cookie = cookie.split(';').next().unwrap().to_string();
        let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf"]
            .as_str()
            .unwrap()
            .to_string();
        Web { addr, cookie, csrf }
    }

    fn headers(&self) -> Vec<String> {
        vec![
            format!("Cookie: {}", self.cookie),
            format!("X-CSRF-Token: {}", self.csrf),
        ]
    }

    async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, head, body) = http(self.addr, method, path, &self.headers(), body).await;
        let json = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {head}\n{body}"))
        };
        (status, json)
    }

    async fn office(&self) -> Value {
        let (status, office) = self.send("GET", "/api/office", None).await;
        assert_eq!(status, 200, "{office}");
        office
    }

    /// The event stream, read past its first event (where the plan is).
    async fn events(&self) -> Events {
        use tokio::io::AsyncWriteExt;
        let mut tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let request = format!(
            "GET /api/events HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
            self.addr, self.cookie
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut events = Events {
            tcp,
            seen: String::new(),
        };
        events.next_named("plan").await;
        events
    }
}

/// A server-sent event stream over a socket.
struct Events {
    tcp: tokio::net::TcpStream,
    /// What was read and not yet looked at.
    seen: String,
}

impl Events {
    /// Reads until an event named `name` arrives; returns its data line.
    async fn next_named(&mut self, name: &str) -> String {
        use tokio::io::AsyncReadExt;
        let marker = format!("event: {name}\n");
        within(&format!("an `{name}` event"), async {
            loop {
                if let Some(at) = self.seen.find(&marker) {
                    let rest = self.seen[at + marker.len()..].to_string();
                    if let Some(end) = rest.find('\n') {
                        let data = rest[..end].trim_start_matches("data: ").to_string();
                        self.seen = rest[end..].to_string();
                        return data;
                    }
                }
                let mut buffer = [0u8; 4096];
                let n = self.tcp.read(&mut buffer).await.unwrap();
                assert!(n > 0, "the event stream ended: {}", self.seen);
                self.seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        })
        .await
    }
}

/// One HTTP/1.1 exchange over its own connection: the status, the head and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[String],
    body: Option<&Value>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    within("an HTTP answer", tcp.read_to_string(&mut response))
        .await
        .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head[9..12].parse().unwrap();
    (status, head.to_string(), body.to_string())
}

async fn live() -> Live {
    Live::start(LIVE_PLAN, Duration::from_secs(5), RunOptions::default()).await
}

/// The registration of `user` in the office view, if it shows one.
fn registration_of(office: &Value, user: &str) -> Option<Value> {
    office["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"] == user)
        .cloned()
}

#[tokio::test]
async fn a_phone_that_registers_shows_with_its_address_and_the_event_stream_says_so() {
    let live = live().await;
    let web = Web::sign_in(&live).await;
    assert_eq!(registration_of(&web.office().await, "102"), None);
    let mut events = web.events().await;

    let phone = Phone::new(live.listening.sip).await;
    assert_eq!(register(&phone, "102", "secret").await, 200);
    let generation = events.next_named("office").await;
    assert!(generation.contains("\"generation\""), "{generation}");

    let office = web.office().await;
    let registered = registration_of(&office, "102").expect("102's phone shows");
    assert_eq!(registered["source"], phone.addr().to_string());
    assert_eq!(registered["transport"], "udp");
    assert_eq!(
        registered["contact"],
        format!("sip:102@{}", phone.addr()),
        "{registered}"
    );
    let left = registered["expires_in"].as_u64().unwrap();
    assert!((3500..=3600).contains(&left), "{left}");
    // The queue shows its agents' lines as the server sees them.
    let agents = &office["queues"][0]["agents"];
    assert_eq!(agents[1]["extension"], "102");
    assert_eq!(agents[1]["state"], "idle");
}

#[tokio::test]
async fn a_registration_that_lapses_is_heard_of_without_a_request() {
    let server = support::Server::start(vec![]).await;
    let changes = Arc::new(OfficeChanges::default());
    server.sip.report_office_changes(changes.clone());
    let mut heard = changes.subscribe();
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
    assert!(bumped(&mut heard), "the REGISTER is heard at once");
    assert_eq!(server.sip.registered_phones().len(), 1);

    // Nothing happens while the registration holds.
    server.sip.notice_lapsed_registrations(Instant::now());
    assert!(!bumped(&mut heard));
    // Two hours on, it has lapsed: the sweep tells of it, once.
    let later = Instant::now() + Duration::from_secs(7_300);
    server.sip.notice_lapsed_registrations(later);
    assert!(bumped(&mut heard), "the lapse is heard");
    server.sip.notice_lapsed_registrations(later);
    assert!(!bumped(&mut heard), "and only once");
    assert!(server.sip.registered_phones().is_empty());
}

#[tokio::test]
async fn a_phone_refreshing_the_same_binding_is_heard_once_and_a_new_one_again() {
    let server = support::Server::start(vec![]).await;
    let changes = Arc::new(OfficeChanges::default());
    server.sip.report_office_changes(changes.clone());
    let mut heard = changes.subscribe();
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
    assert!(bumped(&mut heard), "the first REGISTER adds a binding");
    // The phone's refresh, a minute later in life: same contact, same address.
    assert_eq!(register(&phone, "101", "secret").await, 200);
    assert!(
        !bumped(&mut heard),
        "a refresh changes nothing the office shows"
    );
    assert_eq!(server.sip.registered_phones().len(), 1);
    // Another phone of the same extension is a binding more.
    let desk = Phone::new(server.addr()).await;
    assert_eq!(register(&desk, "101", "secret").await, 200);
    assert!(bumped(&mut heard), "a second phone is heard");
    assert_eq!(server.sip.registered_phones().len(), 2);
}

/// A subscription to the hot-desk phone's message lamp, signed in as the phone, from
/// `phone`: a socket of its own, so the lamp's NOTIFYs never cross the call's messages.
async fn lamp_of(phone: &Phone) -> Call {
    let mut call = Call::new(HOT_DESK_PHONE, HOT_DESK_PHONE, phone.server);
    let headers = vec![
        "Event: message-summary".to_string(),
        "Expires: 600".to_string(),
        format!("Contact: <sip:{HOT_DESK_PHONE}@{}>", phone.addr()),
    ];
    let signed = signed_sip(
        phone,
        "SUBSCRIBE",
        &call,
        &headers,
        "",
        HOT_DESK_PHONE,
        "secret",
    )
    .await;
    let ok = phone.ask("SUBSCRIBE", &call, 2, &signed, "").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    call.to_tag = Some(ok.to_tag());
    call
}

/// Answers NOTIFYs in `lamp`'s dialog until one's body contains `wanted`.
async fn lamp_shows(phone: &Phone, lamp: &Call, wanted: &str) -> Sip {
    within(&format!("the lamp to show {wanted:?}"), async {
        loop {
            let message = phone.next(&lamp.call_id).await;
            if message.method() == "NOTIFY" {
                phone.send(message.reply("200 OK")).await;
                if message.body().contains(wanted) {
                    return message;
                }
            }
        }
    })
    .await
}

/// The hot-desk phone dials `number`, answers the challenge, and the call is answered
/// and acknowledged: the dialog as the phone sends in it.
async fn desk_dials(phone: &Phone, number: &str) -> Call {
    let rtp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let call = Call::new(HOT_DESK_PHONE, number, phone.server);
    let headers = vec![
        format!("Contact: <sip:{HOT_DESK_PHONE}@{}>", phone.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    let offer = sdp(rtp.local_addr().unwrap());
    let authed = signed_sip(
        phone,
        "INVITE",
        &call,
        &headers,
        &offer,
        HOT_DESK_PHONE,
        "secret",
    )
    .await;
    phone
        .send(request(
            "INVITE",
            &call,
            2,
            &support::raw::branch(),
            phone.addr(),
            &authed,
            &offer,
        ))
        .await;
    answered(phone, call).await.0
}

/// Keys pressed in `call`'s dialog, one INFO each (CSeq from 3).
async fn press(phone: &Phone, call: &Call, keys: &str) {
    let relay = ["Content-Type: application/dtmf-relay".to_string()];
    for (i, key) in keys.chars().enumerate() {
        let body = format!("Signal={key}\r\nDuration=160\r\n");
        let ok = phone.ask("INFO", call, 3 + i as u32, &relay, &body).await;
        assert_eq!(ok.status(), 200, "{}", ok.0);
    }
}

#[tokio::test]
async fn a_login_at_the_hot_desk_phone_shows_and_the_admins_logout_ends_it_lamp_and_all() {
    let live = live().await;
    // A message waits for 103: the phone's lamp lights while 103 sits at it.
    read_store(&store_path(&live.data()), |s| {
        use switchboard_core::store::Store;
        s.add_message(
            "103",
            NewMessage {
                recording: "msg-1".into(),
                from: "101".into(),
                duration_ms: 3_000,
                received: "2026-11-23 10:00".into(),
            },
        )
        .unwrap();
    });
    let web = Web::sign_in(&live).await;
    let desk = Phone::new(live.listening.sip).await;
    assert_eq!(register(&desk, HOT_DESK_PHONE, "secret").await, 200);
    let watcher = Phone::new(live.listening.sip).await;
    let lamp = lamp_of(&watcher).await;
    // Its first NOTIFY: nobody sits at the phone, so it has no mailbox to show.
    lamp_shows(&watcher, &lamp, "").await;

    // At the phone: *77*103* and 103's voicemail PIN. The event stream hears the login
    // (nothing else in the call changes the office: the PIN's check keeps no count when
    // it is right).
    let mut events = web.events().await;
    let call = desk_dials(&desk, "*77*103*").await;
    press(&desk, &call, "1234#").await;
    let bye = next_request(&desk, "BYE").await;
    desk.send(bye.reply("200 OK")).await;
    bridged::traced(&live, "*77*103*", "hot_desk_login 103").await;
    events.next_named("office").await;
    lamp_shows(&watcher, &lamp, "Voice-Message: 1/0").await;

    let office = web.office().await;
    let desks = office["hot_desks"].as_array().unwrap();
    assert_eq!(desks.len(), 1, "{office}");
    assert_eq!(desks[0]["device"], HOT_DESK_PHONE);
    assert_eq!(desks[0]["extension"], "103");
    assert!(desks[0]["since"].is_string(), "{office}");
    assert!(
        registration_of(&office, HOT_DESK_PHONE).is_some(),
        "{office}"
    );

    // The admin logs 103 out from the editor: the login ends and the lamp goes dark,
    // as when 103 dials *77*5*.
    let path = format!("/api/office/hot-desks/{HOT_DESK_PHONE}/logout");
    let (status, body) = web.send("POST", &path, None).await;
    assert_eq!(status, 204, "{body}");
    events.next_named("office").await;
    lamp_shows(&watcher, &lamp, "Messages-Waiting: no").await;
    assert_eq!(web.office().await["hot_desks"], json!([]));
    let logins = read_store(&store_path(&live.data()), |s| {
        use switchboard_core::store::Store;
        s.hot_desk_logins().unwrap()
    });
    assert!(logins.is_empty(), "{logins:?}");

    let (status, body) = web.send("POST", &path, None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains(&format!(
        "nobody is logged in on hot-desk phone {HOT_DESK_PHONE}"
    )));
}

#[tokio::test]
async fn a_password_set_in_the_editor_lets_a_phone_register_and_removing_it_shuts_it_out() {
    let live = live().await;
    let web = Web::sign_in(&live).await;
    let phone = Phone::new(live.listening.sip).await;
    assert_ne!(
        register(&phone, "104", GOOD_PASSWORD).await,
        200,
        "104 has no password yet"
    );

    let (status, body) = web
        .send(
            "PUT",
            "/api/office/users/104/password",
            Some(&json!({"password": "password1234"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was stored")
    );
    let stored = read_store(&store_path(&live.data()), |s| {
        s.has_password("104").unwrap()
    });
    assert!(!stored, "a refused password leaves no trace");

    let (status, body) = web
        .send(
            "PUT",
            "/api/office/users/104/password",
            Some(&json!({"password": GOOD_PASSWORD})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(register(&phone, "104", GOOD_PASSWORD).await, 200);
    let office = web.office().await;
    assert!(registration_of(&office, "104").is_some(), "{office}");
    let user = office["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "104")
        .cloned()
        .unwrap();
    assert_eq!(user["has_password"], true);

    let (status, body) = web.send("DELETE", "/api/office/users/104", None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        registration_of(&web.office().await, "104"),
        None,
        "its phone is forgotten with it"
    );
    assert_ne!(register(&phone, "104", GOOD_PASSWORD).await, 200);
}
