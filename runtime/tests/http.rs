//! The HTTP API driven with `oneshot` (no server), and once over a real TCP socket.
//! Requests are an admin's, signed in (`signed_in`); `editor_auth.rs` tests the sign-in.

mod signed_in;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use switchboard_core::ids::CallId;
use switchboard_core::trace::{TraceEntry, Traced};
use switchboard_dsl::{FileId, Span};
use switchboard_runtime::call_log::{CallLog, NewCall};
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::{AppError, AppState, HostName, HostNames, app, bind, serve};
use switchboard_runtime::reload::PlanHolder;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const OFFICE: &str = "extension 100 \"Front Desk\"\nextension 101 \"Alice\"\n";

/// A plan folder, the holder running it, and an empty call log.
struct Server {
    _dir: TempDir,
    plans: PathBuf,
    state: AppState,
    session: signed_in::SignedIn,
}

impl Server {
    async fn new(calls: CallLog) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store =
            switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
                .await
                .unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), OFFICE).unwrap();
        let holder = PlanHolder::load_initial(&plans, &prompts).unwrap();
        let plan_holder = Arc::new(holder);
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
            plans: plan_holder,
            calls: Arc::new(calls),
            hosts: Arc::new(HostNames::new(
                "127.0.0.1:8080".parse().unwrap(),
                &[HostName::parse("pbx.office.example").unwrap()],
            )),
            store,
            live: None,
            auth: Default::default(),
            office_changes: Default::default(),
            chat_config: Default::default(),
        };
        let session = signed_in::signed_in(&state).await;
        Server {
            _dir: dir,
            plans,
            state,
            session,
        }
    }

    /// GET `path`: the status and the body (as JSON when it is JSON, else a string).
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.get_as(path, Some("127.0.0.1:8080")).await;
        (status, body)
    }

    /// GET `path` with `host` as the `Host` header (none when `None`): the status, the
    /// headers and the body.
    async fn get_as(&self, path: &str, host: Option<&str>) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::get(path).header("cookie", &self.session.cookie);
        if let Some(h) = host {
            request = request.header("host", h);
        }
        let request = request.body(Body::empty()).unwrap();
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }
}

/// A call's record, numbered `n`, on plan version 1.
fn new_call(n: u64) -> NewCall {
    NewCall {
        id: CallId(n),
        sip_call_id: format!("a84b4c76e66710@pc{n}.example.com"),
        caller: "101".to_string(),
        dialled: "100".to_string(),
        plan_version: 1,
    }
}

/// A trace entry pointing at line 2 of the plan (`extension 101 "Alice"`).
fn at_line_2(what: Traced) -> TraceEntry {
    TraceEntry {
        span: Some(Span::new(
            FileId(0),
            OFFICE.find("extension 101").unwrap(),
            OFFICE.len() - 1,
        )),
        what,
    }
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = Server::new(CallLog::new()).await;
    let (status, body) = server.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn plan_reports_version_load_time_counts_and_the_last_attempt() {
    let server = Server::new(CallLog::new()).await;
    let (status, plan) = server.get("/api/plan").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["root"], server.plans.display().to_string());
    assert_eq!(plan["files"], serde_json::json!(["office.dial"]));
    assert_eq!(plan["counts"]["extensions"], 2);
    assert_eq!(plan["counts"]["routes"], 0);
    assert_eq!(plan["warnings"], 0);
    let loaded_at = plan["loaded_at"].as_str().unwrap();
    assert!(is_rfc3339_utc(loaded_at), "{loaded_at}");
    let unix = plan["loaded_at_unix"].as_i64().unwrap();
    let now = UNIX_EPOCH.elapsed().unwrap().as_secs() as i64;
    assert!((now - 60..=now).contains(&unix), "{unix} vs now {now}");
    let last = &plan["last_attempt"];
    assert_eq!(last["ok"], true);
    assert_eq!(last["version"], 1);
    assert_eq!(last["at"], loaded_at);
    assert_eq!(last["diagnostics"], serde_json::json!([]));

    // A broken edit: the plan stays at version 1 and the attempt shows why.
    let office = server.plans.join("office.dial");
    std::fs::write(&office, "extension 100 \"A\"\nextension 100 \"B\"\n").unwrap();
    server.state.plans.reload();
    let (_, plan) = server.get("/api/plan").await;
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["counts"]["extensions"], 2);
    let last = &plan["last_attempt"];
    assert_eq!(last["ok"], false);
    assert_eq!(last["version"], Value::Null);
    assert_eq!(last["errors"], 1);
    let d = &last["diagnostics"][0];
    assert_eq!(d["code"], "duplicate");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 2);
    assert_eq!(d["column"], 11);
    assert_eq!(d["message"], "extension number `100` is defined twice");

    // Fixed: version 2.
    std::fs::write(
        &office,
        "extension 100 \"A\"\nextension 101 \"B\"\nextension 102 \"C\"\n",
    )
    .unwrap();
    server.state.plans.reload();
    let (_, plan) = server.get("/api/plan").await;
    assert_eq!(plan["version"], 2);
    assert_eq!(plan["counts"]["extensions"], 3);
    assert_eq!(plan["last_attempt"]["ok"], true);
    assert_eq!(plan["last_attempt"]["version"], 2);
}

#[tokio::test]
async fn calls_list_live_and_recent_calls_with_their_traces() {
    let server = Server::new(CallLog::new()).await;
    let calls = &server.state.calls;
    let plan = server.state.plans.plan();
    calls.start_at(new_call(1), UNIX_EPOCH + Duration::from_secs(1_740_837_909));
    calls.append_trace(
        CallId(1),
        &plan,
        &[
            at_line_2(Traced::Step {
                verb: "answer",
                args: vec![],
            }),
            at_line_2(Traced::Played(vec!["welcome".into(), "digits/1".into()])),
            at_line_2(Traced::Digits {
                digits: "42".into(),
                ended: "max digits",
            }),
        ],
    );
    calls.append_trace(
        CallId(1),
        &plan,
        &[TraceEntry {
            span: None,
            what: Traced::Ended("caller hung up".into()),
        }],
    );
    calls.finish_at(
        CallId(1),
        "caller hung up",
        UNIX_EPOCH + Duration::from_secs(1_740_837_969),
    );
    calls.start(new_call(2));

    let (status, list) = server.get("/api/calls").await;
    assert_eq!(status, StatusCode::OK);
    let live = list["live"].as_array().unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], 2);
    assert_eq!(live[0]["ended"], Value::Null);
    assert_eq!(live[0]["outcome"], Value::Null);

    let recent = list["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 1);
    let call = &recent[0];
    assert_eq!(call["id"], 1);
    assert_eq!(call["sip_call_id"], "a84b4c76e66710@pc1.example.com");
    assert_eq!(call["caller"], "101");
    assert_eq!(call["dialled"], "100");
    assert_eq!(call["plan_version"], 1);
    assert_eq!(call["started"], "2025-03-01T14:05:09Z");
    assert_eq!(call["ended"], "2025-03-01T14:06:09Z");
    assert_eq!(call["outcome"], "caller hung up");
    assert_eq!(call["digits"], "42");
    assert_eq!(call["prompts"], serde_json::json!(["welcome", "digits/1"]));
    let trace: Vec<&str> = call["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(trace.len(), 4, "{trace:?}");
    let place = format!("{}:2:1", server.plans.join("office.dial").display());
    assert!(
        trace[0].starts_with(&place) && trace[0].ends_with(" answer"),
        "{trace:?}"
    );
    assert!(trace[1].ends_with(" play welcome digits/1"), "{trace:?}");
    assert!(
        trace[2].ends_with(" digits \"42\" (max digits)"),
        "{trace:?}"
    );
    assert_eq!(trace[3].trim(), "ended: caller hung up");

    let (status, one) = server.get("/api/calls/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&one, call);
}

#[tokio::test]
async fn only_the_most_recent_finished_calls_are_kept_newest_first() {
    let server = Server::new(CallLog::keeping(3)).await;
    for n in 1..=5 {
        server.state.calls.start(new_call(n));
        server.state.calls.finish(CallId(n), "hung up");
    }
    let (_, list) = server.get("/api/calls").await;
    let ids: Vec<u64> = list["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [5, 4, 3]);
    assert_eq!(server.get("/api/calls/1").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn errors_answer_json_and_hide_internals() {
    let server = Server::new(CallLog::new()).await;
    let (status, body) = server.get("/api/calls/7").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        serde_json::json!({"error": "no live or recent call 7"})
    );

    let (status, body) = server.get("/api/calls/seven").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        serde_json::json!({"error": "`seven` is not a call id (a number)"})
    );

    let (status, body) = server.get("/api/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        serde_json::json!({"error": "no such page: /api/nope"})
    );

    let response =
        AppError::Internal("SQLite: disk I/O error at var/switchboard.db".into()).into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": "internal error; the server log has the details"})
    );
}

#[tokio::test]
async fn serve_answers_over_tcp_and_stops_when_cancelled() {
    let server = Server::new(CallLog::new()).await;
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(serve(listener, app(server.state.clone()), async {
        let _ = stopped.await;
    }));

    let response = tokio::time::timeout(Duration::from_secs(10), async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.unwrap();
        response
    })
    .await
    .expect("no answer within 10 s");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nok"), "{response}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("serve did not stop within 10 s")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn bind_names_the_address_and_the_flag() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let e = bind(addr).await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("cannot listen for HTTP on {addr}: ")),
        "{e}"
    );
    assert!(e.ends_with("; set --http-addr"), "{e}");
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Every path the API serves, and two it does not.
const PATHS: &[&str] = &[
    "/status",
    "/healthz",
    "/api/plan",
    "/api/calls",
    "/api/calls/1",
    "/api/calls/x",
    "/nope",
];

#[tokio::test]
async fn a_host_that_is_not_ours_is_refused_with_the_setting_to_add() {
    let server = Server::new(CallLog::new()).await;
    for path in PATHS.iter().filter(|p| **p != "/healthz") {
        let (status, _, body) = server.get_as(path, Some("attacker.example:8080")).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{path}");
        let text = body["error"].as_str().unwrap();
        assert!(
            text.contains("does not answer to the name `attacker.example:8080`")
                && text.contains("`http-names`")
                && text.contains("--http-names attacker.example,")
                && text.contains("DNS rebinding"),
            "{path}: {text}"
        );
    }
    let (status, _, body) = server.get_as("/api/calls", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("http-names"),
        "{body}"
    );
    // An absolute-form request line names the host and wins over the header.
    let (status, _, _) = server
        .get_as("http://attacker.example/api/calls", Some("localhost"))
        .await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn our_own_names_are_answered_whatever_the_port_and_case() {
    let server = Server::new(CallLog::new()).await;
    for host in [
        "127.0.0.1:8080",
        "localhost:8080",
        "localhost",
        "[::1]:8080",
        "pbx.office.example",
        "PBX.Office.Example:443",
    ] {
        let (status, _, _) = server.get_as("/api/calls", Some(host)).await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn healthz_answers_any_host_for_load_balancers() {
    let server = Server::new(CallLog::new()).await;
    for host in [Some("10.9.8.7:8080"), Some("attacker.example"), None] {
        let (status, _, body) = server.get_as("/healthz", host).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, Value::from("ok")),
            "{host:?}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = Server::new(CallLog::new()).await;
    for host in ["127.0.0.1:8080", "attacker.example"] {
        for path in PATHS {
            let (status, headers, _) = server.get_as(path, Some(host)).await;
            let at = format!("{path} as {host} ({status})");
            let header = |name: &str| {
                headers
                    .get(name)
                    .unwrap_or_else(|| panic!("{at}: no {name}"))
                    .to_str()
                    .unwrap()
                    .to_string()
            };
            assert_eq!(header("x-content-type-options"), "nosniff", "{at}");
            assert_eq!(header("x-frame-options"), "DENY", "{at}");
            assert_eq!(header("referrer-policy"), "no-referrer", "{at}");
            assert_eq!(header("cache-control"), "no-store", "{at}");
            let csp = header("content-security-policy");
            assert!(
                csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
                "{at}: {csp}"
            );
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let server = Server::new(CallLog::new()).await;
    let request = Request::post("/api/calls")
        .header("host", "localhost")
        .header("content-length", "1000000")
        .body(Body::from(vec![b'x'; 1_000_000]))
        .unwrap();
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn cdr_lists_the_records_of_a_window_as_json_and_csv() {
    use switchboard_core::store::{HungUpBy, conformance::call_detail};
    let server = Server::new(CallLog::new()).await;
    // 2026-11-28T09:00:00Z, and an hour later with a comma in its outcome.
    let nine = 1_795_856_400_000;
    let mut later = call_detail(nine + 3_600_000);
    later.outcome = "transferred, then hung up".into();
    later.caller = "=cmd()".into();
    later.hung_up_by = HungUpBy::Caller;
    for d in [call_detail(nine), later] {
        server
            .state
            .store
            .run(move |s| s.record_call(&d))
            .await
            .unwrap()
            .unwrap();
    }
    let (status, body) = server.get("/api/cdr?from=2026-11-28&to=2026-11-29").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let records = body["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{body}");
    assert_eq!(records[0]["started"], "2026-11-28T09:00:00Z");
    assert_eq!(records[0]["answered"], "2026-11-28T09:00:01Z");
    assert_eq!(records[0]["answered_by"], "102");
    assert_eq!(records[0]["hung_up_by"], "callee");
    assert_eq!(body["truncated"], false);
    // A window holding only the first.
    let (_, body) = server
        .get("/api/cdr?from=2026-11-28T08:00:00Z&to=2026-11-28T09:30:00Z")
        .await;
    assert_eq!(body["records"].as_array().unwrap().len(), 1);
    // CSV: a header, a line per record, fields quoted and formulas defused.
    let (status, headers, body) = server
        .get_as(
            "/api/cdr?from=2026-11-28&to=2026-11-29&format=csv",
            Some("127.0.0.1:8080"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let csv = body.as_str().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("sip_call_id,started,answered,ended"),
        "{csv}"
    );
    assert!(lines[2].contains(",'=cmd(),"), "{csv}");
    assert!(lines[2].contains("\"transferred, then hung up\""), "{csv}");
    // Bad windows are refused with what to write.
    let (status, body) = server.get("/api/cdr?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("2026-11-28"),
        "{body}"
    );
    let (status, _) = server.get("/api/cdr?from=2026-11-29&to=2026-11-28").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
