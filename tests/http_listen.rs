//! Where `switchboard run` serves HTTP: without a TLS certificate it keeps to loopback
//! when asked for every interface, and says so at start-up naming the flags; a
//! certificate without its key stops start-up.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{free_port, office_copy, repo, wait_for};

/// The plain-HTTP answer to `GET /healthz` at `addr`, if any.
fn health(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// An address of this machine that is not loopback: the one it would send from to
/// a documentation address (192.0.2.1; a UDP `connect` sends nothing), if it has one.
fn non_loopback_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn without_a_certificate_every_interface_becomes_loopback_with_a_warning() {
    let dir = office_copy("http-listen");
    let (sip, http) = (free_port(), free_port());
    let rtp = free_port() & !1;
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("run")
        .args(["--sip-addr", &format!("127.0.0.1:{sip}")])
        .args(["--http-addr", &format!("0.0.0.0:{http}")])
        .args(["--rtp-ports", &format!("{rtp}-{}", rtp + 9)])
        .arg("--data-dir")
        .arg(dir.join("var"))
        .arg("--dialplans")
        .arg(dir.join("dialplans"))
        .arg("--prompts")
        .arg(repo().join("prompts"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let answered = wait_for(
        "the server to answer on loopback",
        Duration::from_secs(30),
        || {
            if let Some(answer) = health(&format!("127.0.0.1:{http}")) {
                return Some(answer);
            }
            let exited = child.try_wait().unwrap();
            assert!(
                exited.is_none(),
                "the server exited: {}",
                std::fs::read_to_string(dir.join("server.log")).unwrap()
            );
            None
        },
    );
    // Not reachable on the machine's other addresses: what "loopback only" means.
    let outside = non_loopback_address().map(|ip| (ip, TcpStream::connect((ip, http))));
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered.ends_with("ok"), "{answered}");
    match outside {
        Some((ip, connected)) => assert!(
            connected.is_err(),
            "the server answered on {ip}:{http}, an address that is not loopback"
        ),
        // A machine with no other address cannot be reached from elsewhere anyway.
        None => eprintln!("no address but loopback here: only loopback was checked"),
    }
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("without a TLS certificate"))
        .unwrap_or_else(|| panic!("no warning in the log:\n{log}"));
    assert!(
        warning.contains(&format!("listens on 127.0.0.1:{http} only"))
            && warning.contains("--tls-cert and --tls-key"),
        "{warning}"
    );
}

#[test]
fn a_certificate_without_its_key_stops_start_up_naming_the_flag() {
    let dir = office_copy("http-half-tls");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("run")
        .args(["--tls-cert", "cert.pem", "--data-dir"])
        .arg(dir.join("var"))
        .arg("--dialplans")
        .arg(dir.join("dialplans"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set --tls-key"), "{stderr}");
}
