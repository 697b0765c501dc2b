//! `GET /api/events` over a real socket, read by a raw TCP client: the plan event on
//! connect and after a save reloads (or fails to reload) the plan, office and call
//! events, the stream ending when the server stops, and no stream without a session.

mod editor_fixture;
mod signed_in;

use axum::http::StatusCode;
use editor_fixture::{Editor, IVR, OFFICE, hash};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::ids::CallId;
use switchboard_runtime::call_log::NewCall;
use switchboard_runtime::http::auth::{Auth, AuthSettings};
use switchboard_runtime::http::{app, bind, serve};
use switchboard_runtime::reload::watch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The editor's state served on a loopback port until `stop` is cancelled.
struct Served {
    ed: Editor,
    addr: SocketAddr,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn served() -> Served {
    serve_editor(Editor::new().await).await
}

async fn serve_editor(ed: Editor) -> Served {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(serve(
        listener,
        app(ed.state.clone()),
        stop.clone().cancelled_owned(),
    ));
    Served {
        ed,
        addr,
        stop,
        server,
    }
}

/// An event stream read off the socket: the answer's head, then its chunked body cut
/// into events.
struct Events {
    socket: TcpStream,
    /// Bytes read and not yet decoded.
    raw: Vec<u8>,
    /// Decoded body not yet cut into events.
    body: String,
    pub status: u16,
    pub head: String,
    /// The body's last (empty) chunk was read: the answer is over, though the
    /// connection may stay open for another request.
    finished: bool,
}

impl Events {
    async fn open(addr: SocketAddr, cookie: Option<&str>) -> Events {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /api/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n{cookie}\r\n",
            signed_in::HOST
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut events = Events {
            socket,
            raw: Vec::new(),
            body: String::new(),
            status: 0,
            head: String::new(),
            finished: false,
        };
        while !events.raw.windows(4).any(|w| w == b"\r\n\r\n") {
            assert!(
                events.read_more().await,
                "the server closed before answering"
            );
        }
        let end = events
            .raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap()
            + 4;
        events.head = String::from_utf8_lossy(&events.raw[..end]).into_owned();
        events.raw.drain(..end);
        events.status = events.head[9..12].parse().unwrap();
        events
    }

    /// Reads more bytes; false at the end of the stream. Fails after 10 s of silence.
    async fn read_more(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), self.socket.read(&mut buf))
            .await
            .expect("no byte from the event stream for 10 s")
            .unwrap();
        self.raw.extend_from_slice(&buf[..n]);
        n > 0
    }

    /// Moves whole chunks of the chunked body from `raw` to `body`.
    fn decode(&mut self) {
        loop {
            let Some(line_end) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let size_text = String::from_utf8_lossy(&self.raw[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.trim(), 16).unwrap();
            if size == 0 {
                self.finished = true;
                return;
            }
            if self.raw.len() < line_end + 2 + size + 2 {
                return;
            }
            let data = &self.raw[line_end + 2..line_end + 2 + size];
            self.body.push_str(&String::from_utf8_lossy(data));
            self.raw.drain(..line_end + 2 + size + 2);
        }
    }

    /// The next event, `(name, data)`, skipping keep-alive comments; `None` when the
    /// stream ends.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            self.decode();
            while let Some(end) = self.body.find("\n\n") {
                let block: String = self.body.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(d).unwrap());
                    }
                }
                if let (Some(name), Some(data)) = (name, data) {
                    return Some((name, data));
                }
            }
            if self.finished || !self.read_more().await {
                return None;
            }
        }
    }

    /// The next event named `name`, skipping others.
    async fn next_named(&mut self, name: &str) -> Value {
        loop {
            let (n, data) = self.next().await.expect("the event stream ended");
            if n == name {
                return data;
            }
        }
    }
}

#[tokio::test]
async fn a_save_through_the_api_sends_a_plan_event_with_the_new_version() {
    let s = served().await;
    let _watching = watch(s.ed.state.plans.clone(), std::future::pending()).unwrap();
    let mut events = Events::open(s.addr, Some(&s.ed.admin.cookie)).await;
    assert_eq!(events.status, 200, "{}", events.head);
    assert!(events.head.contains("text/event-stream"), "{}", events.head);

    let hello = events.next_named("plan").await;
    assert_eq!(hello["version"], 1);
    assert_eq!(hello["last_attempt"]["ok"], true);
    assert!(hello["loaded_at"].as_str().unwrap().ends_with('Z'));

    let text = format!("{OFFICE}extension 102 \"Bruno\"\n");
    let reply =
        s.ed.send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": text, "base_hash": hash(OFFICE)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reloaded = events.next_named("plan").await;
    assert_eq!(reloaded["version"], 2);
    assert_eq!(reloaded["last_attempt"]["version"], 2);

    // A forced save of a broken plan: the reload is refused, and the page hears so.
    let broken = IVR.replace("goto after_hours", "goto after_hourz");
    let reply =
        s.ed.send(
            "PUT",
            "/api/files/ivr.dial",
            json!({"text": broken, "base_hash": hash(IVR), "force": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let refused = events.next_named("plan").await;
    assert_eq!(refused["version"], 2, "the running plan stays");
    assert_eq!(refused["last_attempt"]["ok"], false);
    assert_eq!(refused["last_attempt"]["errors"], 1);
    let diagnostic = &refused["last_attempt"]["diagnostics"][0];
    assert_eq!(diagnostic["code"], "unknown-flow");
    assert_eq!(
        diagnostic["file"], "ivr.dial",
        "named as the editor names it"
    );
    s.stop.cancel();
}

#[tokio::test]
async fn office_changes_and_calls_starting_and_ending_are_events() {
    let s = served().await;
    let mut events = Events::open(s.addr, Some(&s.ed.admin.cookie)).await;
    events.next_named("plan").await;

    s.ed.state.office_changes.bump();
    let office = events.next_named("office").await;
    assert!(office["generation"].as_u64().unwrap() >= 1, "{office}");

    s.ed.state.calls.start(NewCall {
        id: CallId(7),
        sip_call_id: "a84b4c76e66710@pc33.example.com".to_string(),
        caller: "101".to_string(),
        dialled: "100".to_string(),
        plan_version: 1,
    });
    assert_eq!(events.next_named("calls").await, json!({}));
    s.ed.state.calls.finish(CallId(7), "hung up");
    assert_eq!(events.next_named("calls").await, json!({}));
    s.stop.cancel();
}

#[tokio::test]
async fn the_server_stops_with_an_event_stream_open() {
    let s = served().await;
    let mut events = Events::open(s.addr, Some(&s.ed.admin.cookie)).await;
    events.next_named("plan").await;
    s.stop.cancel();
    // The stream ends, so the server's graceful stop does not wait on it forever.
    assert_eq!(events.next().await, None);
    tokio::time::timeout(Duration::from_secs(10), s.server)
        .await
        .expect("the server stopped")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_stream_ends_with_its_session_and_tells_a_logged_out_browser_nothing() {
    let s = served().await;
    let mut events = Events::open(s.addr, Some(&s.ed.admin.cookie)).await;
    assert_eq!(events.status, 200, "{}", events.head);
    events.next_named("plan").await;

    let reply = s.ed.send("POST", "/api/logout", Value::Null).await;
    assert!(
        reply.status.is_success(),
        "{} {}",
        reply.status,
        reply.text()
    );
    // The plan changes after the log-out: the stream ends instead of telling of it.
    std::fs::write(
        s.ed.file("office.dial"),
        format!("{OFFICE}extension 102 \"Bruno\"\n"),
    )
    .unwrap();
    let plans = s.ed.state.plans.clone();
    let p = plans.clone();
    tokio::task::spawn_blocking(move || p.reload())
        .await
        .unwrap();
    assert_eq!(plans.version(), 2);
    assert_eq!(events.next().await, None, "no event after the log-out");
    s.stop.cancel();
}

#[tokio::test]
async fn a_stream_ends_when_its_session_expires_though_nothing_happens() {
    let mut ed = Editor::new().await;
    // Sessions of this server last two seconds.
    ed.state.auth = Arc::new(Auth::new(AuthSettings {
        session_lifetime: Duration::from_secs(2),
        ..AuthSettings::default()
    }));
    ed.app = app(ed.state.clone());
    let short = signed_in::signed_in(&ed.state).await;
    let s = serve_editor(ed).await;
    let mut events = Events::open(s.addr, Some(&short.cookie)).await;
    assert_eq!(events.status, 200, "{}", events.head);
    events.next_named("plan").await;
    // Ends at the expiry: well before `read_more`'s 10 s of silence fail the test.
    assert_eq!(events.next().await, None);
    s.stop.cancel();
}

#[tokio::test]
async fn no_event_stream_without_a_session() {
    let s = served().await;
    let events = Events::open(s.addr, None).await;
    assert_eq!(events.status, 401, "{}", events.head);
    s.stop.cancel();
}
