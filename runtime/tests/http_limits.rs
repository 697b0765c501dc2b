//! The HTTP server's connection limits over real sockets on 127.0.0.1: idle connections
//! cannot take every descriptor, and a request head that never ends is cut off.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_runtime::call_log::CallLog;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::{AppState, HostNames, Limits, app, bind, serve, serve_with};
use switchboard_runtime::reload::PlanHolder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;

/// The API on 127.0.0.1:0 over a one-extension plan, served by `run` until the returned
/// sender is dropped.
async fn start<F, Fut>(dir: &Path, run: F) -> (std::net::SocketAddr, oneshot::Sender<()>)
where
    F: FnOnce(tokio::net::TcpListener, axum::Router, oneshot::Receiver<()>) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let plans = dir.join("dialplans");
    let prompts = dir.join("prompts");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::create_dir_all(prompts.join("en")).unwrap();
    std::fs::write(plans.join("office.dial"), "extension 100 \"Front Desk\"\n").unwrap();
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
    let store = switchboard_runtime::sqlite_store::StoreThread::open(&dir.join("office.db"))
        .await
        .unwrap();
    let state = AppState {
        chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
        plans: plan_holder,
        calls: Arc::new(CallLog::new()),
        hosts: Arc::new(HostNames::new(addr, &[])),
        store,
        live: None,
        auth: Default::default(),
        office_changes: Default::default(),
        chat_config: Default::default(),
    };
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(run(listener, app(state), stopped));
    (addr, stop)
}

/// `GET /healthz` (open without signing in) from `source` (a loopback address of its
/// own), answered in full.
async fn get_health_from(source: &str, server: std::net::SocketAddr) -> String {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut tcp = socket.connect(server).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    response
}

const IDLE: usize = 2_000;

#[tokio::test]
async fn two_thousand_idle_connections_are_shed_and_a_request_is_still_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = start(dir.path(), |l, app, stopped| {
        serve(l, app, async {
            let _ = stopped.await;
        })
    })
    .await;
    let limits = Limits::default();

    // Open the idle connections; each is watched by a task that reports when the server
    // closes it, and holds it open otherwise.
    let (closed_tx, mut closed) = tokio::sync::mpsc::unbounded_channel::<()>();
    for _ in 0..IDLE {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let closed_tx = closed_tx.clone();
        tokio::spawn(async move {
            let mut byte = [0u8; 1];
            // EOF or a reset: either way the server let go of it.
            if matches!(tcp.read(&mut byte).await, Ok(0) | Err(_)) {
                let _ = closed_tx.send(());
            }
            // Keep our end open until the test ends, as an attacker would.
            std::future::pending::<()>().await;
        });
    }

    // The server holds at most its per-address share of them and closes the rest: that
    // is what keeps its descriptors free. (Served by `axum::serve`, none was closed.)
    let shed = IDLE - limits.max_per_source;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while n < shed {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, closed.recv()).await {
            Ok(Some(())) => n += 1,
            _ => panic!("the server closed only {n} of {IDLE} idle connections in 20 s"),
        }
    }

    // Someone else (another address) is answered at once.
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(2), get_health_from("127.0.0.2", addr))
        .await
        .expect("no answer within 2 s while idle connections are open");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    eprintln!(
        "{n} of {IDLE} idle connections closed by the server; a request from another \
         address answered in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_closed_after_the_deadline() {
    let deadline = Duration::from_millis(500);
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        header_read_timeout: deadline,
        ..Limits::default()
    };
    let (addr, _stop) = start(dir.path(), move |l, app, stopped| {
        serve_with(l, app, limits, async {
            let _ = stopped.await;
        })
    })
    .await;

    // Slowloris sends part of a head; an idle connection sends nothing at all.
    for sent in [
        &b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-a: b\r\n"[..],
        b"",
    ] {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(sent).await.unwrap();
        let started = Instant::now();
        let mut rest = Vec::new();
        let end = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut rest))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "a connection that sent {:?} was still open after 10 s",
                    String::from_utf8_lossy(sent)
                )
            });
        let waited = started.elapsed();
        // Closed because of the deadline, not at once: allow for the timer starting when
        // the server first polled the connection, a little before we started ours.
        assert!(
            waited >= deadline / 2,
            "closed after {waited:?}, before the {deadline:?} deadline ({end:?})"
        );
        eprintln!(
            "sent {} bytes of head: closed after {waited:?} ({end:?}, {} bytes back)",
            sent.len(),
            rest.len()
        );
    }

    // A prompt request is still answered.
    let response = get_health_from("127.0.0.1", addr).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
}

/// An answer read off a socket: the status, the head's lines and the body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// The body's `error`, after checking the answer is JSON.
    fn error(&self) -> String {
        assert!(
            self.head
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{} {}\n{}",
            self.status,
            self.head,
            self.body
        );
        let json: serde_json::Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body));
        json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no `error`: {}", self.body))
            .to_string()
    }
}

/// Sends `request` (a whole request, head and any body) on a fresh connection and reads
/// the answer: its head, then its body by `Content-Length`. The server may close the
/// connection on a body it refused unread, so the answer is not read to the end.
async fn exchange(server: std::net::SocketAddr, request: &[u8]) -> Answer {
    let mut tcp = TcpStream::connect(server).await.unwrap();
    // A refusal can come before the whole body is sent; the answer is what counts.
    let _ = tcp.write_all(request).await;
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_string();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    let body = String::from_utf8_lossy(&got[end + 4..end + 4 + length]);
                    let status = head[9..12].parse().unwrap();
                    return Answer {
                        status,
                        head,
                        body: body.into_owned(),
                    };
                }
            }
            let n = tcp.read(&mut buf).await.expect("the answer");
            assert!(n > 0, "closed before a whole answer: {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer within 10 s")
}

/// The API served on 127.0.0.1:0 for the tests below.
async fn served(dir: &Path) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    start(dir, |l, app, stopped| {
        serve(l, app, async {
            let _ = stopped.await;
        })
    })
    .await
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_in_json_naming_the_limit_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = served(dir.path()).await;

    // Declared too long: refused before anything reads it.
    let declared = format!(
        "POST /api/people/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 20000\r\n\r\n"
    );
    let answer = exchange(addr, declared.as_bytes()).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    let words = answer.error();
    assert!(
        words.contains("20000 bytes")
            && words.contains("at most 16384")
            && words.contains("send a smaller body"),
        "{words}"
    );
    // A plan file has its own, larger limit, and says so.
    let plan = format!(
        "PUT /api/files/office.dial HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 5000000\r\n\r\n"
    );
    let answer = exchange(addr, plan.as_bytes()).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(answer.error().contains("at most 1 MB"), "{}", answer.body);

    // Streamed without a length: found too long while reading.
    let big = format!("{{\"extension\": \"{}\"}}", "1".repeat(20_000));
    let mut chunked = format!(
        "POST /api/people/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        big.len()
    )
    .into_bytes();
    chunked.extend_from_slice(big.as_bytes());
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = exchange(addr, &chunked).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(
        answer.error().contains("a sign-in is at most 16384 bytes"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_host_that_is_not_ours_and_no_host_at_all_are_refused_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = served(dir.path()).await;

    let foreign = "GET /api/session HTTP/1.1\r\nHost: attacker.example\r\n\r\n";
    let answer = exchange(addr, foreign.as_bytes()).await;
    assert_eq!(answer.status, 421, "{}", answer.body);
    let words = answer.error();
    assert!(
        words.contains("does not answer to the name `attacker.example`")
            && words.contains("--http-names attacker.example"),
        "{words}"
    );

    // HTTP/1.0 needs no Host; we do.
    let answer = exchange(addr, b"GET /api/session HTTP/1.0\r\n\r\n").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.error().contains("no Host header"), "{}", answer.body);
}

#[tokio::test]
async fn the_routers_own_refusals_answer_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = served(dir.path()).await;

    // A method the path does not take: axum answers 405 with no body of its own.
    let wrong_method = format!("PUT /api/people/login HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let answer = exchange(addr, wrong_method.as_bytes()).await;
    assert_eq!(answer.status, 405, "{}", answer.body);
    assert!(
        answer
            .error()
            .contains("/api/people/login does not take PUT; docs/api.md lists"),
        "{}",
        answer.body
    );
    // The security headers are still on it.
    assert!(
        answer
            .head
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff")
    );
}
