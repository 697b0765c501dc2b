//! Check-as-you-type and the editor's questions through the router, over unsaved text
//! laid on a real plan folder: diagnostics, completion, definition, hover, the outline.
//! Places are 1-based lines and 1-based UTF-16 columns, as CodeMirror counts.

mod editor_fixture;
mod signed_in;

use axum::http::StatusCode;
use editor_fixture::{Editor, IVR, OFFICE};
use serde_json::{Value, json};

/// `IVR` with a flow the disk does not have yet.
fn ivr_with_night() -> String {
    format!("{IVR}\nflow night {{\n    hangup\n}}\n")
}

fn labels(answer: &Value) -> Vec<&str> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn check_reports_the_unsaved_texts_mistakes_where_they_are() {
    let ed = Editor::new().await;
    let reply = ed.send("POST", "/api/check", json!({"files": {}})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let errors = |body: &Value| {
        body["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .count()
    };
    assert_eq!(errors(&reply.json()), 0, "{}", reply.text());

    let typing = IVR.replace("goto after_hours", "goto after_hourz");
    let reply = ed
        .send("POST", "/api/check", json!({"files": {"ivr.dial": typing}}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(errors(&body), 1, "{body}");
    let d = &body["diagnostics"][0];
    assert_eq!(d["file"], "ivr.dial");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(10))
    );
    assert_eq!(d["code"], "unknown-flow");
    assert!(d["help"].as_str().unwrap().contains("after_hours"), "{d}");
    assert!(body["elapsed_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(ed.read("ivr.dial"), IVR, "a check writes nothing");
}

#[tokio::test]
async fn check_takes_a_new_file_and_sees_it_from_the_others() {
    let ed = Editor::new().await;
    // A second definition of 101 in a file not saved yet.
    let reply = ed
        .send(
            "POST",
            "/api/check",
            json!({"files": {"staff.dial": "extension 101 \"Again\"\n"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    let d = &body["diagnostics"][0];
    assert_eq!(d["severity"], "error", "{body}");
    assert_eq!(d["file"], "staff.dial");
    assert_eq!(d["related"][0]["file"], "office.dial");
    assert!(!ed.file("staff.dial").exists());
}

#[tokio::test]
async fn check_refuses_buffers_that_are_not_plan_files_or_too_large() {
    let ed = Editor::new().await;
    let reply = ed
        .send("POST", "/api/check", json!({"files": {"../x.dial": ""}}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(reply.json()["error"].as_str().unwrap().contains("`..`"));
    let huge = "#".repeat((1 << 20) + 1);
    let reply = ed
        .send(
            "POST",
            "/api/check",
            json!({"files": {"office.dial": huge}}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );
    let reply = ed.send("POST", "/api/check", json!({"file": {}})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(reply.json()["error"].as_str().unwrap().contains("file"));
}

#[tokio::test]
async fn completes_flow_names_from_the_unsaved_text_counting_utf16_columns() {
    let ed = Editor::new().await;
    // The emoji is two UTF-16 units: `goto ` ends at unit 24, so the cursor is column 25.
    let text = ivr_with_night().replace(
        "    goto after_hours",
        "    play \"😀\" then goto after_hours",
    );
    let reply = ed
        .send(
            "POST",
            "/api/complete",
            json!({"path": "ivr.dial", "text": text, "line": 4, "column": 25}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    // Counted in characters the cursor would sit after the `a` of `after_hours`, and
    // only that flow would be offered.
    let offered = labels(&body);
    assert!(
        offered.contains(&"after_hours") && offered.contains(&"night"),
        "{body}"
    );
    assert_eq!(body["from"], json!({"line": 4, "column": 25}));
    let night = &body["items"][offered.len() - 1];
    assert_eq!(
        (&night["kind"], &night["detail"]),
        (&json!("flow"), &json!("flow night"))
    );
}

#[tokio::test]
async fn completes_prompts_after_the_quote_and_step_words_with_their_usage() {
    let ed = Editor::new().await;
    let text = IVR.replace("    play \"welcome\"", "    play \"wel");
    let reply = ed
        .send(
            "POST",
            "/api/complete",
            json!({"path": "ivr.dial", "text": text, "line": 3, "column": 15}),
        )
        .await;
    let body = reply.json();
    assert_eq!(labels(&body), ["welcome"], "{body}");
    assert_eq!(body["items"][0]["kind"], "prompt");
    assert_eq!(body["from"], json!({"line": 3, "column": 11}));

    let text = IVR.replace("    answer", "    ans");
    let reply = ed
        .send(
            "POST",
            "/api/complete",
            json!({"path": "ivr.dial", "text": text, "line": 2, "column": 8}),
        )
        .await;
    let body = reply.json();
    assert_eq!(labels(&body), ["answer"], "{body}");
    assert_eq!(body["items"][0]["kind"], "step");
    assert!(
        body["items"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("answer")
    );
}

#[tokio::test]
async fn goes_to_a_definition_in_another_file() {
    let ed = Editor::new().await;
    // office.dial line 5: `dial "500" -> flow main_menu`; the cursor on `main_menu`.
    let reply = ed
        .send(
            "POST",
            "/api/definition",
            json!({"path": "office.dial", "text": OFFICE, "line": 5, "column": 22}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"path": "ivr.dial", "line": 1, "column": 6, "end_line": 1, "end_column": 15})
    );
    // On a word that names nothing: null.
    let reply = ed
        .send(
            "POST",
            "/api/definition",
            json!({"path": "office.dial", "text": OFFICE, "line": 5, "column": 2}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), Value::Null);
}

#[tokio::test]
async fn hovers_a_step_with_its_usage_and_a_name_with_its_definition() {
    let ed = Editor::new().await;
    let reply = ed
        .send(
            "POST",
            "/api/hover",
            json!({"path": "ivr.dial", "text": IVR, "line": 2, "column": 6}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert!(
        body["text"].as_str().unwrap().starts_with("`answer` step"),
        "{body}"
    );
    assert_eq!(
        (&body["line"], &body["column"], &body["end_column"]),
        (&json!(2), &json!(5), &json!(11))
    );
    let reply = ed
        .send(
            "POST",
            "/api/hover",
            json!({"path": "ivr.dial", "text": IVR, "line": 4, "column": 12}),
        )
        .await;
    let text = reply.json()["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("flow after_hours") && text.contains("ivr.dial:7"),
        "{text}"
    );
    let reply = ed
        .send(
            "POST",
            "/api/hover",
            json!({"path": "ivr.dial", "text": IVR, "line": 5, "column": 1}),
        )
        .await;
    assert_eq!(reply.json(), Value::Null);
}

#[tokio::test]
async fn outlines_a_saved_file() {
    let ed = Editor::new().await;
    let reply = ed.get("/api/symbols?path=ivr.dial").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!([
            {"name": "main_menu", "kind": "flow", "line": 1, "column": 6},
            {"name": "after_hours", "kind": "flow", "line": 7, "column": 6},
        ])
    );
    let reply = ed.get("/api/symbols?path=office.dial").await;
    assert_eq!(reply.json()[1]["name"], "101 Alice");
    assert_eq!(reply.json()[1]["kind"], "extension");
    let reply = ed.get("/api/symbols?path=nowhere.dial").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn questions_with_a_bad_place_or_without_a_session_are_refused() {
    let ed = Editor::new().await;
    let reply = ed
        .send(
            "POST",
            "/api/complete",
            json!({"path": "ivr.dial", "text": IVR, "line": 0, "column": 1}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("count from 1")
    );
    let reply = ed
        .send(
            "POST",
            "/api/hover",
            json!({"path": "/etc/passwd", "text": "", "line": 1, "column": 1}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    for (method, path, body) in [
        ("POST", "/api/check", json!({"files": {}})),
        (
            "POST",
            "/api/complete",
            json!({"path": "ivr.dial", "text": IVR, "line": 1, "column": 1}),
        ),
        ("GET", "/api/symbols?path=ivr.dial", Value::Null),
    ] {
        let reply = ed.anonymous(method, path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            reply.text()
        );
    }
}
