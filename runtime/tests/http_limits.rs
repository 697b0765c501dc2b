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
