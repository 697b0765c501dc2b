//! Desk to desk through `switchboard run` with sipp playing both phones: 102's phone
//! registers with digest and answers (sipp), 101 (sipp) dials 102 and authenticates,
//! the server rings 102 and bridges the two. Once with the caller hanging up, once with
//! the callee; each call leaves a record naming who answered and who hung up, and
//! afterwards the server holds no call, media port, dialog or lit line.
//!
//! The audio itself is checked by content in `runtime/tests/bridge.rs` (raw sockets) and
//! between two phones nobody here wrote in `tests/baresip_calls_linphonec.rs`. The
//! caller's and the registration's scenarios are the bridge bench's own
//! (`bench/sipp/`), so the bench and this test run the same calls.

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{PASSWORD, SIPP, Server, free_port, office_copy, repo, wait_child, wait_for};

/// 102's phone: registered from `port`, then answering there with `answer` (a scenario
/// file) or sipp's built-in `uas`.
fn callee(server: &Server, port: &str, answer: Option<&str>) -> std::process::Child {
    server.sipp_ok(
        &repo()
            .join("bench/sipp/register_callee.xml")
            .to_string_lossy(),
        "102",
        &["-au", "102", "-p", port],
    );
    answer_message_waiting(port);
    let media = (free_port() & !1).to_string();
    let mut command = Command::new(SIPP);
    match answer {
        Some(scenario) => command
            .arg("-sf")
            .arg(repo().join("tests/sipp").join(scenario)),
        None => command.args(["-sn", "uas"]),
    };
    command
        .args(["-i", "127.0.0.1", "-p", port, "-mp", &media, "-m", "1"])
        .arg(format!("127.0.0.1:{}", server.sip))
        .args([
            "-nostdin",
            "-timeout",
            "40s",
            "-timeout_error",
            "-trace_err",
        ])
        .current_dir(&server.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp runs (install Debian's sip-tester)")
}

/// Answers, on 102's port, the message-waiting NOTIFY the server sends a new
/// registration of an extension with a mailbox. The registering sipp has exited by then
/// and cannot answer it; unanswered, the server sends it again (RFC 3261's retransmission,
/// for up to 32 s), and the sipp that answers calls on the same port next would take it
/// for a call gone wrong and fail. One arrives within 4 s of the first try.
fn answer_message_waiting(port: &str) {
    let socket = std::net::UdpSocket::bind(format!("127.0.0.1:{port}"))
        .expect("the registering sipp let go of 102's port");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    loop {
        let (n, from) = socket
            .recv_from(&mut buf)
            .expect("the server tells 102's registration whether messages wait");
        let text = String::from_utf8_lossy(&buf[..n]);
        if !text.starts_with("NOTIFY ") {
            continue;
        }
        let copied: Vec<&str> = text
            .lines()
            .filter(|line| {
                let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
                ["via", "from", "to", "call-id", "cseq"].contains(&name.as_str())
            })
            .collect();
        let reply = format!(
            "SIP/2.0 200 OK\r\n{}\r\nContent-Length: 0\r\n\r\n",
            copied.join("\r\n")
        );
        socket.send_to(reply.as_bytes(), from).unwrap();
        return;
    }
}

/// The call records the server keeps, newest last.
fn records(server: &Server) -> Vec<Value> {
    let body = server.get("/api/cdr").unwrap_or_default();
    let mut rows = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["records"].as_array().cloned())
        .unwrap_or_default();
    rows.sort_by_key(|r| r["started"].as_str().unwrap_or_default().to_string());
    rows
}

/// Waits until the server holds no call, media port, dialog or lit line: what every
/// call left behind once it ended. Fails naming what is still held.
fn nothing_held(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let held: Value = server
            .get("/api/debug/counts")
            .and_then(|body| serde_json::from_str(&body).ok())
            .unwrap_or_default();
        let zero = |v: &Value| v.as_u64() == Some(0);
        if zero(&held["calls"])
            && zero(&held["media_ports"])
            && zero(&held["sip"]["dialogs"])
            && zero(&held["sip"]["busy_lines"])
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still held after the calls ended: {held}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sipp_calls_sipp_through_the_bridge_and_either_side_hangs_up() {
    let dir = office_copy("desk-sipp");
    let server = Server::start(&dir, &["101", "102"], 40);

    // The caller hangs up after a second (the bench's call).
    let port = free_port().to_string();
    let mut phone = callee(&server, &port, None);
    server.sipp_ok(
        &repo().join("bench/sipp/bridged_call.xml").to_string_lossy(),
        "102",
        &["-ap", PASSWORD],
    );
    let status = wait_child(&mut phone, Duration::from_secs(30), "102's sipp");
    assert!(status.success(), "102's phone failed ({status})");

    // The callee hangs up after a second; the caller's phone gets the BYE. The phone
    // answers on the same port, so it stays 102's only contact.
    let mut phone = callee(&server, &port, Some("answer_then_bye.xml"));
    server.sipp_ok(
        &repo()
            .join("runtime/tests/sipp/await_bye.xml")
            .to_string_lossy(),
        "102",
        &[],
    );
    let status = wait_child(&mut phone, Duration::from_secs(30), "102's sipp");
    assert!(status.success(), "102's phone failed ({status})");

    let rows = wait_for("two call records", Duration::from_secs(10), || {
        let rows = records(&server);
        (rows.len() >= 2).then_some(rows)
    });
    for (row, hung_up_by) in rows.iter().zip(["caller", "callee"]) {
        assert_eq!(row["caller"], "101", "{row:#}");
        assert_eq!(row["dialled"], "102", "{row:#}");
        assert_eq!(row["answered_by"], "102", "{row:#}");
        assert_eq!(row["hung_up_by"], hung_up_by, "{row:#}");
    }
    nothing_held(&server);
    let _ = std::fs::remove_dir_all(&dir);
}
