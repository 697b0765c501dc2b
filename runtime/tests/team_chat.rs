//! Colleagues' chat (`/api/team/*`) through the router (`oneshot`, no socket) on a real
//! SQLite file: Alice (101) and Bruno (102) are agents of queue 800, Carla (103) manages
//! it, Dario (104) is in no queue. Direct threads are seen by their two only; the queue's
//! group by its members in the running plan, also after a reload takes someone out;
//! unread counts and read marks; each person's event stream hears only the threads they
//! are in; bad requests are refused with words and store nothing. Files and images go
//! into threads as in the customers' chat (the same checks, the same `chat-files/`
//! folder) and only the thread's members read them back. Every wait has a deadline.

mod signed_in;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use signed_in::{HOST, PERSON_PASSWORD, Reply, SignedIn, call, signed_in_person};
use std::path::PathBuf;
use std::time::Duration;
use switchboard_runtime::http::{AppState, app};
use switchboard_runtime::reload::ReloadOutcome;
use tempfile::TempDir;
use tower::ServiceExt;

const PLAN: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
extension 103 "Carla"
extension 104 "Dario"
queue 800 "Sales" { agents 101, 102; managers 103 }
"#;

struct Office {
    dir: TempDir,
    state: AppState,
    app: Router,
    alice: SignedIn,
    bruno: SignedIn,
    carla: SignedIn,
    dario: SignedIn,
}

impl Office {
    async fn new() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let state = signed_in::office_state(dir.path(), PLAN).await;
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        let bruno = signed_in_person(&state, "102", PERSON_PASSWORD).await;
        let carla = signed_in_person(&state, "103", PERSON_PASSWORD).await;
        let dario = signed_in_person(&state, "104", PERSON_PASSWORD).await;
        Office {
            dir,
            app: app(state.clone()),
            state,
            alice,
            bruno,
            carla,
            dario,
        }
    }

    fn plan_file(&self) -> PathBuf {
        self.dir.path().join("dialplans").join("office.dial")
    }

    async fn get(&self, who: &SignedIn, path: &str) -> Reply {
        who.get(&self.app, path).await
    }

    async fn post(&self, who: &SignedIn, path: &str, body: Value) -> Reply {
        who.send(&self.app, "POST", path, body).await
    }

    /// `who`'s threads; panics unless 200.
    async fn threads(&self, who: &SignedIn) -> Vec<Value> {
        let reply = self.get(who, "/api/team/threads").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json().as_array().unwrap().clone()
    }

    /// `who`'s thread `id` as listed, if they have it.
    async fn listed(&self, who: &SignedIn, id: i64) -> Option<Value> {
        self.threads(who)
            .await
            .into_iter()
            .find(|t| t["id"].as_i64() == Some(id))
    }

    /// The direct thread of `who` with `with`; its id.
    async fn direct(&self, who: &SignedIn, with: &str) -> i64 {
        let reply = self
            .post(who, "/api/team/direct", json!({ "with": with }))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["id"].as_i64().unwrap()
    }

    /// `who` writes `text` in thread `id`; the message's id.
    async fn write(&self, who: &SignedIn, id: i64, text: &str) -> i64 {
        let path = format!("/api/team/threads/{id}/messages");
        let reply = self.post(who, &path, json!({ "text": text })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        reply.json()["id"].as_i64().unwrap()
    }

    /// The texts of thread `id` as `who` reads them, or the refusal's status.
    async fn texts(&self, who: &SignedIn, id: i64) -> Result<Vec<String>, StatusCode> {
        let reply = self
            .get(who, &format!("/api/team/threads/{id}/messages"))
            .await;
        if reply.status != StatusCode::OK {
            return Err(reply.status);
        }
        Ok(reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect())
    }

    /// The id of the group thread of queue `queue` in `who`'s list.
    async fn group(&self, who: &SignedIn, queue: &str) -> Option<i64> {
        self.threads(who)
            .await
            .into_iter()
            .find(|t| t["kind"] == "group" && t["with"] == queue)
            .map(|t| t["id"].as_i64().unwrap())
    }
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_direct_thread_is_seen_by_its_two_and_no_one_else() {
    let o = Office::new().await;
    let id = o.direct(&o.alice, "102").await;
    // Started from either side, it is the same thread.
    assert_eq!(o.direct(&o.bruno, "101").await, id);
    o.write(&o.alice, id, "Lunch at noon?").await;

    assert_eq!(o.texts(&o.bruno, id).await.unwrap(), ["Lunch at noon?"]);
    assert_eq!(o.texts(&o.alice, id).await.unwrap(), ["Lunch at noon?"]);
    let brunos = o.listed(&o.bruno, id).await.expect("Bruno lists it");
    assert_eq!(brunos["kind"], "direct");
    assert_eq!(brunos["with"], "101");
    assert_eq!(brunos["name"], "Alice");
    assert_eq!(brunos["last"]["text"], "Lunch at noon?");

    // Carla is not in it: the thread is answered as if it did not exist.
    assert_eq!(o.texts(&o.carla, id).await, Err(StatusCode::NOT_FOUND));
    assert_eq!(o.texts(&o.carla, 999_999).await, Err(StatusCode::NOT_FOUND));
    let path = format!("/api/team/threads/{id}/messages");
    let reply = o.post(&o.carla, &path, json!({"text": "hi"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = o
        .post(&o.carla, &format!("/api/team/threads/{id}/read"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(o.listed(&o.carla, id).await.is_none());
    assert_eq!(o.texts(&o.alice, id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_direct_thread_needs_a_colleague_in_the_plan_other_than_yourself() {
    let o = Office::new().await;
    let reply = o
        .post(&o.alice, "/api/team/direct", json!({"with": "199"}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(error_of(&reply).contains("199"), "{}", reply.text());
    let reply = o
        .post(&o.alice, "/api/team/direct", json!({"with": "101"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&reply).contains("your own"), "{}", reply.text());
    let listed: Vec<Value> = o.threads(&o.alice).await;
    assert!(listed.iter().all(|t| t["kind"] == "group"), "{listed:?}");
}

#[tokio::test]
async fn a_queues_group_is_its_agents_and_managers_only() {
    let o = Office::new().await;
    let group = o.group(&o.alice, "800").await.expect("Alice's group");
    assert_eq!(o.group(&o.bruno, "800").await, Some(group));
    assert_eq!(o.group(&o.carla, "800").await, Some(group), "the manager");
    assert_eq!(o.group(&o.dario, "800").await, None);
    let listed = o.listed(&o.alice, group).await.unwrap();
    assert_eq!(listed["name"], "Sales");
    assert_eq!(listed["members"], json!(["101", "102", "103"]));

    o.write(&o.carla, group, "Team meeting at 3").await;
    for member in [&o.alice, &o.bruno, &o.carla] {
        assert_eq!(o.texts(member, group).await.unwrap(), ["Team meeting at 3"]);
    }
    assert_eq!(o.texts(&o.dario, group).await, Err(StatusCode::NOT_FOUND));
    let path = format!("/api/team/threads/{group}/messages");
    let reply = o.post(&o.dario, &path, json!({"text": "me too"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(o.texts(&o.alice, group).await.unwrap().len(), 1);
}

#[tokio::test]
async fn someone_a_reload_takes_out_of_the_queue_no_longer_sees_its_group() {
    let o = Office::new().await;
    let group = o.group(&o.bruno, "800").await.unwrap();
    o.write(&o.alice, group, "Before the change").await;
    assert!(o.texts(&o.bruno, group).await.is_ok());

    std::fs::write(
        o.plan_file(),
        PLAN.replace("agents 101, 102;", "agents 101;"),
    )
    .unwrap();
    assert!(matches!(
        o.state.plans.reload(),
        ReloadOutcome::Loaded { .. }
    ));

    assert_eq!(o.group(&o.bruno, "800").await, None);
    assert_eq!(o.texts(&o.bruno, group).await, Err(StatusCode::NOT_FOUND));
    let path = format!("/api/team/threads/{group}/messages");
    let reply = o
        .post(&o.bruno, &path, json!({"text": "still here?"}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // The others keep it, with what was said.
    assert_eq!(
        o.texts(&o.alice, group).await.unwrap(),
        ["Before the change"]
    );
    let listed = o.listed(&o.alice, group).await.unwrap();
    assert_eq!(listed["members"], json!(["101", "103"]));
}

#[tokio::test]
async fn unread_counts_others_messages_until_the_thread_is_marked_read() {
    let o = Office::new().await;
    let id = o.direct(&o.alice, "102").await;
    o.write(&o.alice, id, "one").await;
    o.write(&o.alice, id, "two").await;
    assert_eq!(o.listed(&o.bruno, id).await.unwrap()["unread"], 2);
    assert_eq!(o.listed(&o.alice, id).await.unwrap()["unread"], 0, "own");

    let read = format!("/api/team/threads/{id}/read");
    let reply = o.post(&o.bruno, &read, json!({})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(o.listed(&o.bruno, id).await.unwrap()["unread"], 0);

    o.write(&o.alice, id, "three").await;
    assert_eq!(o.listed(&o.bruno, id).await.unwrap()["unread"], 1);
    // Writing in a thread marks it read for the writer (they have it open); Alice has
    // the reply unread.
    o.write(&o.bruno, id, "ok").await;
    assert_eq!(o.listed(&o.bruno, id).await.unwrap()["unread"], 0);
    assert_eq!(o.listed(&o.alice, id).await.unwrap()["unread"], 1);

    // Marks are per member and per thread.
    let group = o.group(&o.bruno, "800").await.unwrap();
    o.write(&o.carla, group, "hello team").await;
    assert_eq!(o.listed(&o.bruno, group).await.unwrap()["unread"], 1);
    assert_eq!(o.listed(&o.alice, group).await.unwrap()["unread"], 1);
    o.post(
        &o.alice,
        &format!("/api/team/threads/{group}/read"),
        json!({}),
    )
    .await;
    assert_eq!(o.listed(&o.alice, group).await.unwrap()["unread"], 0);
    assert_eq!(o.listed(&o.bruno, group).await.unwrap()["unread"], 1);
}

#[tokio::test]
async fn older_messages_come_a_page_at_a_time_before_a_given_one() {
    let o = Office::new().await;
    let id = o.direct(&o.alice, "102").await;
    let mut ids = Vec::new();
    for n in 0..60 {
        ids.push(o.write(&o.alice, id, &format!("m{n}")).await);
    }
    let latest = o.texts(&o.bruno, id).await.unwrap();
    assert_eq!(latest.len(), 50);
    assert_eq!(latest.first().unwrap(), "m10");
    assert_eq!(latest.last().unwrap(), "m59");
    let reply = o
        .get(
            &o.bruno,
            &format!("/api/team/threads/{id}/messages?before={}", ids[10]),
        )
        .await;
    let older: Vec<String> = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(older, (0..10).map(|n| format!("m{n}")).collect::<Vec<_>>());
}

/// A person's `/api/team/events` stream, read off the router's answer.
struct TeamEvents {
    body: axum::body::BodyDataStream,
    text: String,
}

impl TeamEvents {
    async fn open(o: &Office, who: &SignedIn) -> TeamEvents {
        let request = who.request("GET", "/api/team/events", Value::Null);
        let response = o.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        TeamEvents {
            body: response.into_body().into_data_stream(),
            text: String::new(),
        }
    }

    /// The next `team` event's data; fails after 10 s without one, or at the end.
    async fn next(&mut self) -> Value {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str::<Value>(d).unwrap());
                    }
                }
                if let (Some(name), Some(data)) = (name, data) {
                    assert_eq!(name, "team");
                    return data;
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("no team event for 10 s")
                .expect("the event stream ended")
                .unwrap();
            self.text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test]
async fn a_new_message_is_told_to_the_other_members_only() {
    let o = Office::new().await;
    let with_bruno = o.direct(&o.alice, "102").await;
    let bruno_carla = o.direct(&o.bruno, "103").await;
    let mut alices = TeamEvents::open(&o, &o.alice).await;
    let mut brunos = TeamEvents::open(&o, &o.bruno).await;
    let mut carlas = TeamEvents::open(&o, &o.carla).await;

    let first = o.write(&o.alice, with_bruno, "Are you in?").await;
    let told = brunos.next().await;
    assert_eq!(
        told,
        json!({"kind": "message", "thread_id": with_bruno, "message_id": first})
    );
    // What each of the others hears next is a later message of a thread of theirs: the
    // first was never told to them (the stream is in order).
    let reply = o.write(&o.bruno, with_bruno, "Yes").await;
    assert_eq!(
        alices.next().await["message_id"],
        reply,
        "not her own first"
    );
    let to_carla = o.write(&o.bruno, bruno_carla, "Carla?").await;
    let heard = carlas.next().await;
    assert_eq!(heard["thread_id"], bruno_carla);
    assert_eq!(heard["message_id"], to_carla);
}

#[tokio::test]
async fn bad_requests_are_refused_with_words_and_nothing_is_stored() {
    let o = Office::new().await;
    let id = o.direct(&o.alice, "102").await;
    let path = format!("/api/team/threads/{id}/messages");

    let reply = o
        .post(&o.alice, &path, json!({"text": "Hi", "txet": "typo"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(error_of(&reply).contains("txet"), "{}", reply.text());

    let reply = o.post(&o.alice, &path, json!({"text": "   "})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(error_of(&reply).contains("no text"), "{}", reply.text());

    // Too long is 413, as in the customers' chat, in the same shape of words.
    let long = "a".repeat(switchboard_runtime::chat::MAX_TEXT_CHARS + 1);
    let reply = o.post(&o.alice, &path, json!({"text": long})).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );
    assert_eq!(
        error_of(&reply),
        "the text is 4097 characters long; a team message is at most 4096 characters, so \
         split it in two"
    );
    // A body over the API's limit before its text is even read: 413 in words too.
    let huge = "é".repeat(9000);
    let reply = o.post(&o.alice, &path, json!({"text": huge})).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );
    assert!(
        error_of(&reply).contains("split it in two"),
        "{}",
        reply.text()
    );

    let reply = o.post(&o.alice, &path, json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&reply).contains("text"), "{}", reply.text());

    let reply = o
        .post(&o.alice, "/api/team/direct", json!({"with": "102", "x": 1}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = o.get(&o.alice, "/api/team/threads/abc/messages").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&reply).contains("not a thread id"));
    let reply = o.get(&o.alice, &format!("{path}?befor=3")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    assert_eq!(o.texts(&o.alice, id).await.unwrap(), Vec::<String>::new());
    assert_eq!(o.texts(&o.bruno, id).await.unwrap(), Vec::<String>::new());
    assert_eq!(o.listed(&o.bruno, id).await.unwrap()["unread"], 0);
}

#[tokio::test]
async fn an_admin_session_is_refused_the_team_chat() {
    let o = Office::new().await;
    let admin = signed_in::signed_in(&o.state).await;
    let reply = admin.get(&o.app, "/api/team/threads").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xb8, 0x60, 0x60, 0x00,
    0x00, 0x03, 0x04, 0x01, 0x31, 0x74, 0xbf, 0x75, 0x77, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// The start of a Windows program, padded.
fn exe() -> Vec<u8> {
    let mut v = b"MZ".to_vec();
    v.extend_from_slice(&[0u8; 62]);
    v
}

impl Office {
    /// `who` sends `bytes` named `name` into thread `id` (the raw bytes as the body, the
    /// length declared as a browser declares it).
    async fn send_file(&self, who: &SignedIn, id: i64, name: &str, bytes: Vec<u8>) -> Reply {
        let request = Request::builder()
            .method("POST")
            .uri(format!(
                "/api/team/threads/{id}/files?name={}",
                name.replace(' ', "%20")
            ))
            .header(header::HOST, HOST)
            .header(header::COOKIE, &who.cookie)
            .header("x-csrf-token", &who.csrf)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, bytes.len())
            .body(Body::from(bytes))
            .unwrap();
        call(&self.app, request).await
    }

    /// `who` sends a file the server takes; the message's attachment.
    async fn sent(&self, who: &SignedIn, id: i64, name: &str, bytes: &[u8]) -> Value {
        let reply = self.send_file(who, id, name, bytes.to_vec()).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{name}: {}",
            reply.text()
        );
        let message = reply.json();
        assert_eq!(message["text"], "");
        message["attachment"].clone()
    }

    /// `GET /api/team/files/{id}` as `who`.
    async fn file(&self, who: &SignedIn, id: &Value) -> Reply {
        self.get(who, &format!("/api/team/files/{id}")).await
    }

    /// The files in the data folder's `chat-files` (none when it does not exist).
    fn files_on_disk(&self) -> Vec<String> {
        match std::fs::read_dir(self.dir.path().join("chat-files")) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// How many files the store records.
    fn files_recorded(&self) -> i64 {
        let db = rusqlite::Connection::open(self.dir.path().join("office.db")).unwrap();
        db.query_row("SELECT COUNT(*) FROM chat_files", [], |r| r.get(0))
            .unwrap()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The answer is `bytes`, served as `content_type` with `disposition` ("inline" or
/// "attachment") and the file's name.
fn assert_served(reply: &Reply, bytes: &[u8], content_type: &str, disposition: &str, name: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, bytes);
    assert_eq!(reply.headers[header::CONTENT_TYPE], content_type);
    let told = reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        told.starts_with(&format!("{disposition}; filename=\"{name}\"")),
        "{told}"
    );
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn files_in_a_group_and_a_direct_thread_are_read_back_by_their_members_only() {
    let o = Office::new().await;
    let group = o.group(&o.carla, "800").await.unwrap();
    let direct = o.direct(&o.alice, "102").await;

    // Carla (the queue's manager) sends a picture to the queue's group.
    let png = o.sent(&o.carla, group, "floor plan.png", PNG).await;
    assert_eq!(png["name"], "floor plan.png");
    assert_eq!(png["type"], "image/png");
    assert_eq!(png["size"], PNG.len());
    // Alice sends a PDF to Bruno alone.
    let pdf = o.sent(&o.alice, direct, "rota.pdf", PDF).await;
    assert_eq!(pdf["type"], "application/pdf");
    assert_ne!(png["id"], pdf["id"]);

    // The messages carry them, as the members read the threads.
    let messages = o
        .get(&o.bruno, &format!("/api/team/threads/{group}/messages"))
        .await
        .json();
    assert_eq!(messages[0]["attachment"], png);
    assert_eq!(messages[0]["author_name"], "Carla");
    let last = o.listed(&o.bruno, direct).await.unwrap()["last"].clone();
    assert_eq!(last["attachment"], pdf);

    // Every member of the group reads the picture, inline; the direct thread's two the PDF.
    for member in [&o.alice, &o.bruno, &o.carla] {
        let reply = o.file(member, &png["id"]).await;
        assert_served(&reply, PNG, "image/png", "inline", "floor plan.png");
    }
    for member in [&o.alice, &o.bruno] {
        let reply = o.file(member, &pdf["id"]).await;
        assert_served(&reply, PDF, "application/pdf", "attachment", "rota.pdf");
    }

    // Anyone else: 404, in the same words as for a file that was never sent.
    let never = o.file(&o.alice, &json!(999_999)).await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    for (who, file) in [(&o.dario, &png), (&o.dario, &pdf), (&o.carla, &pdf)] {
        let reply = o.file(who, &file["id"]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
        assert_eq!(reply.body, never.body);
    }
    // Nor does the customers' chat hand out a colleague's file.
    let reply = o
        .get(&o.bruno, &format!("/api/chat/files/{}", pdf["id"]))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // The bytes are kept once each, named by their SHA-256, beside the store.
    let mut on_disk = o.files_on_disk();
    on_disk.sort();
    let mut expected = vec![sha256_hex(PNG), sha256_hex(PDF)];
    expected.sort();
    assert_eq!(on_disk, expected);
}

#[tokio::test]
async fn someone_a_reload_takes_out_of_the_queue_no_longer_reads_its_files() {
    let o = Office::new().await;
    let group = o.group(&o.alice, "800").await.unwrap();
    let png = o.sent(&o.alice, group, "dot.png", PNG).await;
    assert_eq!(o.file(&o.bruno, &png["id"]).await.status, StatusCode::OK);
    std::fs::write(
        o.plan_file(),
        PLAN.replace("agents 101, 102;", "agents 101;"),
    )
    .unwrap();
    assert!(matches!(
        o.state.plans.reload(),
        ReloadOutcome::Loaded { .. }
    ));
    assert_eq!(
        o.file(&o.bruno, &png["id"]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(o.file(&o.alice, &png["id"]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_file_is_answered_in_words_and_nothing_is_stored() {
    let o = Office::new().await;
    let group = o.group(&o.alice, "800").await.unwrap();
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "setup.exe",
            exe(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "files ending .exe cannot be sent in chat",
        ),
        // A program renamed to look like a PDF.
        (
            "invoice.pdf",
            exe(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the file's content is not a PDF, though its name ends .pdf",
        ),
        (
            "empty.pdf",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "the file is empty",
        ),
        (
            "",
            PDF.to_vec(),
            StatusCode::BAD_REQUEST,
            "the file has no name",
        ),
        (
            "big.pdf",
            {
                let mut big = b"%PDF-".to_vec();
                big.resize(11 * 1024 * 1024, b' ');
                big
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "files up to 10 MB",
        ),
    ];
    for (name, bytes, status, words) in cases {
        let reply = o.send_file(&o.alice, group, name, bytes).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.text());
        assert!(error_of(&reply).contains(words), "{name}: {}", reply.text());
    }
    // Streamed with no length declared (chunked), an oversized file is still refused in
    // words, by the route's own limit.
    let mut big = b"%PDF-".to_vec();
    big.resize(11 * 1024 * 1024, b' ');
    let stream = futures_util::stream::iter(
        big.chunks(1024 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let request = Request::builder()
        .method("POST")
        .uri(format!("/api/team/threads/{group}/files?name=big.pdf"))
        .header(header::HOST, HOST)
        .header(header::COOKIE, &o.alice.cookie)
        .header("x-csrf-token", &o.alice.csrf)
        .body(Body::from_stream(stream))
        .unwrap();
    let reply = call(&o.app, request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_of(&reply).contains("files up to 10 MB"),
        "{}",
        reply.text()
    );

    // Into a thread she is not in, Dario's PDF is refused like a thread that does not
    // exist, before its bytes are written.
    for thread in [group, 999_999] {
        let reply = o
            .send_file(&o.dario, thread, "rota.pdf", PDF.to_vec())
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
        assert!(error_of(&reply).contains("you have no team thread"));
    }
    let reply = o
        .send_file(&o.alice, group, "rota.pdf&nme=x", PDF.to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());

    assert_eq!(o.files_on_disk(), Vec::<String>::new());
    assert_eq!(o.files_recorded(), 0);
    assert_eq!(
        o.texts(&o.bruno, group).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(o.listed(&o.bruno, group).await.unwrap()["unread"], 0);
}

#[tokio::test]
async fn a_photo_of_a_few_megabytes_is_taken_whole() {
    // Phones' photos run to megabytes: the API's 16 KiB body limit must not apply here.
    let o = Office::new().await;
    let direct = o.direct(&o.alice, "102").await;
    let mut photo = PNG.to_vec();
    photo.resize(3 * 1024 * 1024, 0);
    let attachment = o.sent(&o.alice, direct, "photo.png", &photo).await;
    assert_eq!(attachment["size"], photo.len());
    let reply = o.file(&o.bruno, &attachment["id"]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body.len(), photo.len());
}

#[tokio::test]
async fn a_file_is_told_to_the_other_members_like_a_text() {
    let o = Office::new().await;
    let direct = o.direct(&o.alice, "102").await;
    let group = o.group(&o.alice, "800").await.unwrap();
    let mut brunos = TeamEvents::open(&o, &o.bruno).await;
    let mut carlas = TeamEvents::open(&o, &o.carla).await;

    let reply = o
        .send_file(&o.alice, direct, "rota.pdf", PDF.to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let told = brunos.next().await;
    assert_eq!(
        told,
        json!({"kind": "message", "thread_id": direct, "message_id": reply.json()["id"]})
    );
    // Carla is not in the direct thread: what she hears first is the group's picture.
    let reply = o.send_file(&o.alice, group, "dot.png", PNG.to_vec()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let heard = carlas.next().await;
    assert_eq!(heard["thread_id"], group);
    assert_eq!(heard["message_id"], reply.json()["id"]);
    assert_eq!(brunos.next().await["message_id"], reply.json()["id"]);
}
