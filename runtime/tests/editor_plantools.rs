//! The editor's plan tools through the router (`oneshot`, no socket), signed in as an
//! admin on a real SQLite store: running the plan's tests (`/api/tests`), walking a call
//! (`/api/simulate`), a prompt's recording (`/api/prompts/...`) and a flow's diagram
//! (`/api/flow`) — on the shipped `dialplans/` and on small plans of their own.

mod signed_in;

use serde_json::{Value, json};
use signed_in::{HOST, SignedIn, call, signed_in};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_core::test_run::run_tests;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::plan_files::{compile_plan, find_plans};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::sqlite_store::StoreThread;
use tempfile::TempDir;

/// The repository's own plan and prompts, as `switchboard test dialplans` reads them.
fn repo(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(folder)
}

/// The API's state over a plan folder and a prompts folder, with a store in `dir`.
struct Fixture {
    _dir: TempDir,
    state: AppState,
    admin: SignedIn,
    /// The temporary plan and prompts folders, for fixtures of their own.
    plans: PathBuf,
    prompts: PathBuf,
}

impl Fixture {
    /// Over the shipped `dialplans/` and `prompts/`, read only.
    async fn shipped() -> Fixture {
        Fixture::over(&repo("dialplans"), &repo("prompts")).await
    }

    /// Over a plan of one file, `office.dial`, with an empty WAV for each prompt named.
    async fn with_plan(text: &str, prompts: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("dialplans");
        let prompt_dir = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompt_dir.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), text).unwrap();
        for p in prompts {
            std::fs::write(prompt_dir.join("en").join(format!("{p}.wav")), wav(p)).unwrap();
        }
        let mut f = Fixture::over(&plans, &prompt_dir).await;
        f._dir = dir;
        f
    }

    async fn over(plans: &Path, prompts: &Path) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreThread::open(&dir.path().join("office.db"))
            .await
            .unwrap();
        let plan_holder = Arc::new(PlanHolder::load_initial(plans, prompts).unwrap());
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
        let admin = signed_in(&state).await;
        Fixture {
            _dir: dir,
            state,
            admin,
            plans: plans.to_path_buf(),
            prompts: prompts.to_path_buf(),
        }
    }

    async fn get(&self, path: &str) -> signed_in::Reply {
        self.admin.get(&app(self.state.clone()), path).await
    }

    async fn post(&self, path: &str, body: Value) -> signed_in::Reply {
        self.admin
            .send(&app(self.state.clone()), "POST", path, body)
            .await
    }

    /// `POST /api/simulate`, which must answer 200.
    async fn simulate(&self, body: Value) -> Value {
        let reply = self.post("/api/simulate", body).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }
}

/// A tiny WAV file: the RIFF header a browser checks, with the prompt's name as data.
fn wav(name: &str) -> Vec<u8> {
    let mut bytes = b"RIFF\0\0\0\0WAVE".to_vec();
    bytes.extend_from_slice(name.as_bytes());
    bytes
}

/// The 1-based line of the first line of `file` (in the shipped plan) containing `text`.
fn shipped_line(file: &str, text: &str) -> u64 {
    let source = std::fs::read_to_string(repo("dialplans").join(file)).unwrap();
    source
        .lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} is not in {file}")) as u64
        + 1
}

// ---- /api/tests --------------------------------------------------------------------

#[tokio::test]
async fn the_shipped_tests_pass_through_the_api_as_many_as_switchboard_test_runs() {
    let f = Fixture::shipped().await;
    let reply = f.post("/api/tests", json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    // What `switchboard test dialplans` runs: the same files, compiled the same way.
    let plans = find_plans(&[repo("dialplans")]).unwrap();
    let plan = compile_plan(&plans[0], Some(&repo("prompts")))
        .unwrap()
        .compiled
        .plan
        .unwrap();
    let expected = run_tests(&plan);
    assert!(expected.len() > 20, "the shipped plan has its tests");
    assert_eq!(report["passed"], expected.len(), "{report:#}");
    assert_eq!(report["failed"], 0);
    let tests = report["tests"].as_array().unwrap();
    assert_eq!(tests.len(), expected.len());
    let first = &tests[0];
    assert_eq!(first["name"], expected[0].name.as_str());
    assert_eq!(first["passed"], true);
    assert!(first["failure"].is_null());
    // Each test names the file it is in, relative to the plan folder, and its line.
    for t in tests {
        let file = t["file"].as_str().unwrap();
        assert!(file.ends_with(".dial") && !file.contains('/'), "{t}");
        let line = t["line"].as_u64().unwrap();
        let text = std::fs::read_to_string(repo("dialplans").join(file)).unwrap();
        let at = text.lines().nth(line as usize - 1).unwrap();
        assert!(
            at.trim_start().starts_with("test "),
            "{file}:{line} is {at:?}"
        );
    }
}

const FAILING: &str = r##"extension 101 "Alice" { voicemail; pin "1234" }
dial "999" -> flow login
flow login {
    answer
    ask "vm-enter-pin" digits 4 until "#" timeout 10s -> pin
    play "goodbye"
    hangup
}
test "the PIN leads to the main menu" {
    call from 101 dial "999"
    expect play "vm-enter-pin"
    press "1234#"
    expect play "vm-main"
}
test "the caller is asked for the PIN" {
    call from 101 dial "999"
    expect play "vm-enter-pin"
}
"##;

const FAILING_PROMPTS: &[&str] = &["vm-enter-pin", "goodbye", "vm-main"];

#[tokio::test]
async fn a_failing_test_names_the_step_that_failed_and_links_its_trace_to_the_lines() {
    let f = Fixture::with_plan(FAILING, FAILING_PROMPTS).await;
    let report = f.post("/api/tests", json!({})).await.json();
    assert_eq!(report["passed"], 1, "{report:#}");
    assert_eq!(report["failed"], 1);
    let failed = &report["tests"][0];
    assert_eq!(failed["name"], "the PIN leads to the main menu");
    assert_eq!(
        (failed["file"].as_str(), failed["line"].as_u64()),
        (Some("office.dial"), Some(9))
    );
    assert_eq!(failed["passed"], false);
    let failure = &failed["failure"];
    // The `expect play "vm-main"` line, and what happened instead.
    assert_eq!(failure["file"], "office.dial");
    assert_eq!(failure["line"], 13);
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("expected play vm-main"), "{message}");
    assert!(message.contains("play goodbye"), "{message}");
    let trace: Vec<(String, Option<u64>)> = failure["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["text"].as_str().unwrap().to_string(), e["line"].as_u64()))
        .collect();
    let line_of = |text: &str| {
        trace
            .iter()
            .find(|(t, _)| t == text)
            .unwrap_or_else(|| panic!("{text:?} not in {trace:?}"))
            .1
    };
    assert_eq!(line_of("route \"999\" matches 999"), Some(2));
    assert_eq!(line_of("answer"), Some(4));
    assert_eq!(line_of("play vm-enter-pin"), Some(5));
    assert_eq!(line_of("play goodbye"), Some(6));
    assert_eq!(line_of("hangup"), Some(7));
    assert!(
        failure["trace"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["line"].is_null() || e["file"] == "office.dial")
    );
    assert!(report["tests"][1]["failure"].is_null());
}

#[tokio::test]
async fn tests_run_on_the_unsaved_buffers_and_a_plan_with_errors_is_refused_with_its_findings() {
    let f = Fixture::with_plan(FAILING, FAILING_PROMPTS).await;
    let fixed = FAILING.replace("play \"goodbye\"", "play \"vm-main\"");
    let report = f
        .post("/api/tests", json!({"files": {"office.dial": fixed}}))
        .await
        .json();
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(0))
    );
    // The file on disk is untouched: the saved plan still fails.
    let on_disk = std::fs::read_to_string(f.plans.join("office.dial")).unwrap();
    assert_eq!(on_disk, FAILING);

    let broken = FAILING.replace("flow login {", "flow login {\n    goto nowhere");
    let reply = f
        .post("/api/tests", json!({"files": {"office.dial": broken}}))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let body = reply.json();
    assert!(body["error"].as_str().unwrap().contains("error"), "{body}");
    let d = body["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64()),
        (Some("office.dial"), Some(4)),
        "{body:#}"
    );
    assert!(d["message"].as_str().unwrap().contains("nowhere"), "{d}");

    let reply = f
        .post("/api/tests", json!({"files": {"../office.dial": FAILING}}))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("../office.dial")
    );
}

// ---- /api/simulate -----------------------------------------------------------------

#[tokio::test]
async fn a_call_to_999_waits_at_the_pin_prompt_and_digits_move_it_to_the_main_menu() {
    let f = Fixture::shipped().await;
    let pin_line = shipped_line("voicemail.dial", "ask \"vm-enter-pin\"");
    let menu_line = shipped_line("voicemail.dial", "menu \"vm-main\"");

    let first = f
        .simulate(json!({"caller": {"extension": "101"}, "dial": "999"}))
        .await;
    assert_eq!(first["ended"], false);
    assert_eq!(first["waiting_for"], "keys");
    assert_eq!(
        first["current"],
        json!({"file": "voicemail.dial", "line": pin_line})
    );
    let steps = first["steps"].as_array().unwrap();
    let ask = steps.last().unwrap();
    assert_eq!(ask["kind"], "play");
    assert_eq!(ask["prompt"], "vm-enter-pin");
    assert_eq!(ask["language"], "en");
    assert_eq!(ask["line"], pin_line);
    assert!(steps.iter().all(|s| s["after_action"].is_null()));
    assert_eq!(steps[0]["kind"], "route");
    assert_eq!(steps[0]["file"], "routes.dial");

    // The browser sends every action so far; the call is walked again from the start.
    let next = f
        .simulate(json!({
            "caller": {"extension": "101"}, "dial": "999",
            "actions": [{"press": "1234#"}]
        }))
        .await;
    assert_eq!(next["waiting_for"], "keys");
    assert_eq!(
        next["current"],
        json!({"file": "voicemail.dial", "line": menu_line})
    );
    let steps = next["steps"].as_array().unwrap();
    assert_eq!(
        steps[..first["steps"].as_array().unwrap().len()],
        first["steps"].as_array().unwrap()[..]
    );
    let after: Vec<&Value> = steps.iter().filter(|s| s["after_action"] == 0).collect();
    assert!(
        after.iter().any(|s| s["text"] == "mailbox open 101"),
        "{next:#}"
    );
    assert!(after.iter().any(|s| s["prompt"] == "vm-main"), "{next:#}");
    // The PIN is typed, never shown in a step.
    assert!(!next["steps"].to_string().contains("1234"), "{next:#}");
    assert_eq!(next["actions"][0]["text"], "press 1234#");
    assert!(next["actions"][0]["nothing_happened"].is_null());

    // The menu times out and plays again; then "#" ends the call.
    let done = f
        .simulate(json!({
            "caller": {"extension": "101"}, "dial": "999",
            "actions": [{"press": "1234#"}, {"wait": "11s"}, {"press": "#"}]
        }))
        .await;
    let steps = done["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["text"] == "-> timeout" && s["after_action"] == 1)
    );
    assert_eq!(done["ended"], true, "{done:#}");
    assert!(done["current"].is_null());
    assert!(done["waiting_for"].is_null());

    // Bruno's desk speaks German: his prompts are fetched from prompts/de.
    let bruno = f
        .simulate(json!({"caller": {"extension": "102"}, "dial": "999"}))
        .await;
    let ask = bruno["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (ask["prompt"].as_str(), ask["language"].as_str()),
        (Some("vm-enter-pin"), Some("de"))
    );
}

#[tokio::test]
async fn a_far_end_says_what_a_rung_phone_does_and_one_the_call_does_not_ring_changes_nothing() {
    let f = Fixture::shipped().await;
    let busy = f
        .simulate(json!({
            "caller": {"extension": "101"}, "dial": "102",
            "actions": [{"far_end": "extension 102 is busy"}]
        }))
        .await;
    let texts: Vec<&str> = busy["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"-> busy"), "{texts:?}");
    assert!(busy["actions"][0]["nothing_happened"].is_null());

    let ringing = f
        .simulate(json!({"caller": {"extension": "101"}, "dial": "102"}))
        .await;
    assert_eq!(ringing["waiting_for"], "time");
    let wrong = f
        .simulate(json!({
            "caller": {"extension": "101"}, "dial": "102",
            "actions": [{"far_end": "extension 103 answers"}]
        }))
        .await;
    let why = wrong["actions"][0]["nothing_happened"].as_str().unwrap();
    assert!(why.contains("102"), "{why}");
    assert_eq!(wrong["steps"], ringing["steps"]);
}

#[tokio::test]
async fn a_trunk_call_at_night_reaches_the_after_hours_menu() {
    let f = Fixture::shipped().await;
    let line = shipped_line("ivr.dial", "menu \"after-hours\"");
    let night = f
        .simulate(json!({
            "caller": {"trunk": "main", "number": "+15555550123"},
            "dial": "+12605550100",
            "time": "2026-11-23 20:00"
        }))
        .await;
    assert_eq!(
        night["current"],
        json!({"file": "ivr.dial", "line": line}),
        "{night:#}"
    );
}

#[tokio::test]
async fn a_hot_desk_phone_nobody_is_logged_in_to_can_log_in() {
    let f = Fixture::shipped().await;
    let login = f
        .simulate(json!({"caller": {"device": "001565AABBCC"}, "dial": "*77*101*"}))
        .await;
    let line = shipped_line("features.dial", "ask \"vm-enter-pin\"");
    assert_eq!(
        login["current"],
        json!({"file": "features.dial", "line": line}),
        "{login:#}"
    );
    let done = f
        .simulate(json!({
            "caller": {"device": "001565AABBCC"}, "dial": "*77*101*",
            "actions": [{"press": "1234#"}]
        }))
        .await;
    let steps = done["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["text"] == "hot_desk_login 101" && s["after_action"] == 0),
        "{done:#}"
    );
}

#[tokio::test]
async fn a_simulation_on_unsaved_buffers_walks_the_text_being_edited() {
    let f = Fixture::with_plan(FAILING, FAILING_PROMPTS).await;
    let edited = FAILING.replace("    answer\n", "    answer\n    play \"goodbye\"\n");
    let walked = f
        .simulate(json!({
            "caller": {"extension": "101"}, "dial": "999",
            "files": {"office.dial": edited}
        }))
        .await;
    assert_eq!(walked["current"], json!({"file": "office.dial", "line": 6}));
}

#[tokio::test]
async fn bad_simulator_requests_are_refused_naming_the_field_and_the_fix() {
    let f = Fixture::shipped().await;
    let refused = |body: Value, field: &'static str| {
        let f = &f;
        async move {
            let reply = f.post("/api/simulate", body).await;
            assert_eq!(reply.status, 400, "{}", reply.text());
            let error = reply.json()["error"].as_str().unwrap().to_string();
            assert!(error.contains(field), "{field:?} missing from {error:?}");
            error
        }
    };
    let e = refused(
        json!({"caller": {"extension": "555"}, "dial": "999"}),
        "caller",
    )
    .await;
    assert!(e.contains("\"555\"") && e.contains("101"), "{e}");
    refused(
        json!({"caller": {"device": "00DEADBEEF00"}, "dial": "999"}),
        "device",
    )
    .await;
    refused(
        json!({"caller": {"trunk": "other"}, "dial": "999"}),
        "trunk \"other\"",
    )
    .await;
    refused(json!({"caller": {}, "dial": "999"}), "caller").await;
    refused(
        json!({"caller": {"trunk": "main", "extension": "101"}, "dial": "999"}),
        "caller",
    )
    .await;
    refused(json!({"caller": {"extension": "101"}, "dial": ""}), "dial").await;
    let e = refused(
        json!({"caller": {"extension": "101"}, "dial": "999", "actions": [{"wait": "six"}]}),
        "actions[0].wait",
    )
    .await;
    assert!(e.contains("6s"), "{e}");
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999", "actions": [{"press": "12a"}]}),
        "actions[0].press",
    )
    .await;
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999",
               "actions": [{"press": "1"}, {"press": "1", "wait": "1s"}]}),
        "actions[1]",
    )
    .await;
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999",
               "actions": [{"far_end": "extension 102 busy"}]}),
        "actions[0].far_end",
    )
    .await;
    let many: Vec<Value> = (0..201).map(|_| json!({"press": "1"})).collect();
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999", "actions": many}),
        "actions",
    )
    .await;
    let long: Vec<Value> = (0..2).map(|_| json!({"wait": "40m"})).collect();
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999", "actions": long}),
        "actions[1].wait",
    )
    .await;
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999", "time": "tomorrow"}),
        "time",
    )
    .await;
    refused(
        json!({"caller": {"extension": "101"}, "dial": "999", "colour": "red"}),
        "colour",
    )
    .await;
}

// ---- /api/prompts ------------------------------------------------------------------

#[tokio::test]
async fn a_prompt_the_simulator_played_is_served_as_wav() {
    let f = Fixture::shipped().await;
    let reply = f.get("/api/prompts/en/vm-enter-pin").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "audio/wav");
    let on_disk = std::fs::read(repo("prompts").join("en/vm-enter-pin.wav")).unwrap();
    assert_eq!(reply.body, on_disk);
    let digit = f.get("/api/prompts/de/digits/1").await;
    assert_eq!(digit.status, 200, "{}", digit.text());
    assert_eq!(&digit.body[..4], b"RIFF");
}

#[tokio::test]
async fn a_prompt_name_that_leaves_the_folder_or_is_not_in_the_catalog_is_refused() {
    let f = Fixture::with_plan(FAILING, FAILING_PROMPTS).await;
    let outside = f._dir.path().join("secret.wav");
    std::fs::write(&outside, b"RIFF secret").unwrap();
    std::os::unix::fs::symlink(&outside, f.prompts.join("en/leak.wav")).unwrap();
    std::fs::write(f.prompts.join("secret.wav"), b"RIFF not a prompt").unwrap();

    let ok = f.get("/api/prompts/en/goodbye").await;
    assert_eq!((ok.status.as_u16(), ok.body), (200, wav("goodbye")));
    for (path, status) in [
        ("/api/prompts/en/..%2Fsecret", 400),
        ("/api/prompts/en/../secret", 400),
        ("/api/prompts/..%2Fen/goodbye", 400),
        ("/api/prompts/en/%2Fetc%2Fpasswd", 400),
        ("/api/prompts/en/nothing-like-it", 404),
        ("/api/prompts/fr/goodbye", 404),
        ("/api/prompts/en/leak", 403),
    ] {
        let reply = f.get(path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        assert!(!reply.text().contains("secret\""), "{path}");
        assert!(reply.json()["error"].is_string(), "{path}");
    }
}

// ---- /api/flow ---------------------------------------------------------------------

#[tokio::test]
async fn the_shipped_main_menu_is_drawn_with_its_keys() {
    let f = Fixture::shipped().await;
    let menu_line = shipped_line("ivr.dial", "menu \"main-greeting\"");
    let reply = f
        .get(&format!("/api/flow?path=ivr.dial&line={}", menu_line + 2))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let g = reply.json();
    assert_eq!(g["flow"], "main_menu");
    assert_eq!(g["file"], "ivr.dial");
    assert_eq!(g["line"], shipped_line("ivr.dial", "flow main_menu"));
    let nodes = g["nodes"].as_array().unwrap();
    let edges = g["edges"].as_array().unwrap();
    let menu = nodes.iter().find(|n| n["kind"] == "menu").unwrap();
    assert_eq!(menu["line"], menu_line);
    let label_of = |id: &Value| {
        nodes.iter().find(|n| n["id"] == *id).unwrap()["label"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let keys: Vec<(String, String)> = edges
        .iter()
        .filter(|e| e["from"] == menu["id"])
        .map(|e| (e["label"].as_str().unwrap().to_string(), label_of(&e["to"])))
        .collect();
    for (key, to) in [
        ("1", "queue 800"),
        ("2", "queue 801"),
        ("3", "directory"),
        ("0", "extension operator"),
        ("retries 3", "extension operator"),
        ("invalid", "play \"invalid-option\""),
    ] {
        assert!(
            keys.contains(&(key.to_string(), to.to_string())),
            "{key} -> {to} not in {keys:?}"
        );
    }
    for n in nodes {
        assert!(n["line"].as_u64().unwrap() >= 1, "{n}");
        assert!(n["file"].as_str().unwrap().ends_with(".dial"), "{n}");
    }
    // Queue 800 nobody answers goes to Alice's voicemail, as office.dial says.
    let q800 = nodes.iter().find(|n| n["label"] == "queue 800").unwrap();
    let then = edges.iter().find(|e| e["from"] == q800["id"]).unwrap();
    assert_eq!(then["label"], "nobody answers");
    assert_eq!(label_of(&then["to"]), "voicemail 101");
}

#[tokio::test]
async fn a_goto_is_a_target_naming_its_flow_and_a_flow_can_be_asked_for_by_name() {
    let f = Fixture::shipped().await;
    let g = f.get("/api/flow?name=voicemail_login").await.json();
    assert_eq!(g["file"], "voicemail.dial");
    let target = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["label"] == "flow voicemail_main")
        .unwrap_or_else(|| panic!("{g:#}"));
    assert_eq!(target["kind"], "target");
    assert_eq!(target["flow"], "voicemail_main");
    assert_eq!(
        target["line"],
        shipped_line("voicemail.dial", "goto voicemail_main")
    );

    for (path, status) in [
        ("/api/flow?name=no_such_flow", 404),
        ("/api/flow?path=ivr.dial&line=1", 404),
        ("/api/flow?path=nowhere.dial&line=3", 404),
        ("/api/flow?path=ivr.dial&line=zero", 400),
        ("/api/flow?path=ivr.dial", 400),
        ("/api/flow", 400),
    ] {
        let reply = f.get(path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        assert!(reply.json()["error"].is_string(), "{path}");
    }
}

// ---- without a session -------------------------------------------------------------

#[tokio::test]
async fn every_plan_tool_needs_a_session() {
    let f = Fixture::shipped().await;
    let app = app(f.state.clone());
    let anonymous = |method: &str, path: &str, body: Option<Value>| {
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST);
        let body = match body {
            Some(b) => {
                request = request.header("content-type", "application/json");
                axum::body::Body::from(b.to_string())
            }
            None => axum::body::Body::empty(),
        };
        request.body(body).unwrap()
    };
    for request in [
        anonymous("POST", "/api/tests", Some(json!({}))),
        anonymous(
            "POST",
            "/api/simulate",
            Some(json!({"caller": {"extension": "101"}, "dial": "999"})),
        ),
        anonymous("GET", "/api/prompts/en/vm-enter-pin", None),
        anonymous("GET", "/api/flow?name=main_menu", None),
    ] {
        let path = request.uri().to_string();
        let reply = call(&app, request).await;
        assert_eq!(reply.status, 401, "{path}: {}", reply.text());
        assert!(
            reply.json()["error"].as_str().unwrap().contains("sign in"),
            "{path}"
        );
    }
}
