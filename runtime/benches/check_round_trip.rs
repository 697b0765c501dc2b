//! Check-as-you-type, end to end: `POST /api/check` through the router (session, CSRF,
//! JSON, reading the plan folder and prompts, `compile`, the JSON diagnostics) with a
//! 2,000-line plan file as the unsaved buffer — clean, and with one mistake. The issue
//! asks for under 50 ms a round trip.
//!
//! Run with `cargo bench -p switchboard-runtime --bench check_round_trip`; see
//! docs/performance.md.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8080";
const LINES: usize = 2_000;

/// A realistic office plan of at least `LINES` lines: extensions with voicemail, queues,
/// a menu flow per department with its dial code, and desk-to-desk dialling.
fn office_plan() -> String {
    let mut out = String::from("# A generated office for the check round-trip bench.\n\n");
    out.push_str("dial \"{ext:XXX}\" -> extension ext\n\n");
    for n in 100..400 {
        out.push_str(&format!("extension {n} \"Person {n}\" {{ voicemail }}\n"));
    }
    out.push('\n');
    for q in 0..20 {
        let first = 100 + q * 10;
        out.push_str(&format!(
            "queue {} \"Department {q}\" {{\n    agents   {}, {}, {}\n    strategy ring_all\n    ring     20s\n    then     -> voicemail {first}\n}}\n\n",
            800 + q,
            first,
            first + 1,
            first + 2,
        ));
    }
    let mut flow = 0;
    while out.lines().count() < LINES {
        let queue = 800 + flow % 20;
        let ext = 100 + (flow * 7) % 300;
        out.push_str(&format!(
            "dial \"5{flow:02}\" -> flow menu_{flow}\n\nflow menu_{flow} {{\n    answer\n    menu \"main-greeting\" timeout 5s {{\n        \"1\"     -> queue {queue}        # the department\n        \"2\"     -> extension {ext}\n        \"3\"     -> voicemail {ext}\n        retries 3 -> extension 100\n        invalid -> play \"invalid-option\" then repeat\n    }}\n}}\n\n"
        ));
        flow += 1;
    }
    out
}

/// The plan with one mistake: a menu key sends callers to an extension nobody has.
fn with_a_mistake(plan: &str) -> String {
    plan.replacen(
        "\"2\"     -> extension 107",
        "\"2\"     -> extension 1077",
        1,
    )
}

struct Bench {
    _dir: tempfile::TempDir,
    app: Router,
    cookie: String,
    csrf: String,
}

async fn setup(plan: &str) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let store = switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
        .await
        .unwrap();
    let plans = dir.path().join("dialplans");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(plans.join("office.dial"), plan).unwrap();
    // The project's own prompts: a real catalog is read on every check.
    let prompts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
    let holder = PlanHolder::load_initial(&plans, &prompts).unwrap();
    let plan_holder = Arc::new(holder);
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
    let now = state.auth.settings().clock.now_ms();
    state
        .store
        .run_sqlite(move |s| s.set_admin_password("admin", "amber-kettle-harbour", now))
        .await
        .unwrap()
        .unwrap();
    let app = app(state);
    let login = Request::post("/api/login")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"user": "admin", "password": "amber-kettle-harbour"}).to_string(),
        ))
        .unwrap();
    let response = app.clone().oneshot(login).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let csrf = serde_json::from_slice::<Value>(&body).unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    Bench {
        _dir: dir,
        app,
        cookie,
        csrf,
    }
}

/// One round trip: the errors the answer reports.
async fn check(bench: &Bench, request_body: &str) -> usize {
    let request = Request::post("/api/check")
        .header(header::HOST, HOST)
        .header(header::COOKIE, &bench.cookie)
        .header("x-csrf-token", &bench.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(request_body.to_string()))
        .unwrap();
    let response = bench.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    answer["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .count()
}

fn bench_check(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let plan = office_plan();
    assert!(plan.lines().count() >= LINES);
    let bench = runtime.block_on(setup(&plan));
    let mut group = c.benchmark_group("check_round_trip");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for (name, text, errors) in [
        ("2000_lines_clean", plan.clone(), 0),
        ("2000_lines_one_mistake", with_a_mistake(&plan), 1),
    ] {
        let body = json!({"files": {"office.dial": text}}).to_string();
        // Measure the real path: the answer must say what the plan holds.
        assert_eq!(runtime.block_on(check(&bench, &body)), errors, "{name}");
        group.bench_function(name, |b| b.iter(|| runtime.block_on(check(&bench, &body))));
    }
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
