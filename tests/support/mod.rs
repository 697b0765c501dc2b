//! What the tests that run `switchboard run` share: free ports, waiting with a deadline,
//! and a server process on a fresh data folder that is killed when the test ends.

#![allow(dead_code)] // each test binary uses its own part of this

pub mod baresip;
pub mod linphonec;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Debian's `sip-tester`.
pub const SIPP: &str = "/usr/bin/sipp";

/// The SIP password every test user gets, through `switchboard user set-password` as
/// an admin sets one, so it must pass the password policy; sipp, linphonec and baresip
/// sign in with it. No spaces or `;`: it goes into linphonec's command line and a
/// baresip account line as it is.
pub const PASSWORD: &str = "amber-kettle-harbour";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A port nobody uses right now, for UDP and TCP alike.
pub fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// Waits until `check` gives a value, or fails with `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for a child process to end, or fails with `what` after `limit`.
pub fn wait_child(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    wait_for(what, limit, || child.try_wait().unwrap())
}

/// A fresh folder for one test, with a copy of the shipped `dialplans/` in it.
pub fn office_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plans = dir.join("dialplans");
    std::fs::create_dir_all(&plans).unwrap();
    for e in std::fs::read_dir(repo().join("dialplans")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, plans.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

/// Replaces `from` (which must be there) with `to` in a file.
pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

pub fn trace_has(call: &Value, needle: &str) -> bool {
    call["trace"]
        .as_array()
        .is_some_and(|t| t.iter().any(|l| l.as_str().unwrap_or("").contains(needle)))
}

/// The web admin every test server has (`switchboard admin set-password`); the API's
/// routes need their session. Their password is [`PASSWORD`].
pub const ADMIN: &str = "admin";

/// `switchboard run` on free ports, on `dir/dialplans` and `dir/var`, logging to
/// `dir/server.log`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub http: u16,
    pub sip: u16,
    pub dir: PathBuf,
    /// `switchboard_session=…`, the admin's session, which `get` sends.
    pub cookie: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Gives each of `extensions` the SIP password [`PASSWORD`], starts the server with
    /// `rtp_ports` ports of its own and waits until it answers.
    pub fn start(dir: &Path, extensions: &[&str], rtp_ports: u16) -> Server {
        Server::start_on(dir, extensions, rtp_ports, "127.0.0.1")
    }

    /// [`Server::start`] with SIP bound to `sip_host` (`0.0.0.0`, as the server's
    /// default `--sip-addr` is, for every interface).
    pub fn start_on(dir: &Path, extensions: &[&str], rtp_ports: u16, sip_host: &str) -> Server {
        let bin = env!("CARGO_BIN_EXE_switchboard");
        let data = dir.join("var");
        for ext in extensions {
            let mut set = Command::new(bin)
                .args(["user", "set-password", ext, "--data-dir"])
                .arg(&data)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            writeln!(set.stdin.take().unwrap(), "{PASSWORD}").unwrap();
            assert!(set.wait().unwrap().success(), "set-password {ext} failed");
        }
        let mut admin = Command::new(bin)
            .args(["admin", "set-password", ADMIN, "--data-dir"])
            .arg(&data)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(admin.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        assert!(admin.wait().unwrap().success(), "admin set-password failed");
        // Free ports are only free when asked: another test may take one before the server
        // binds it, and the server then exits at once. Such a start is tried again on
        // other ports; a server that runs but never answers still fails the test.
        for attempt in 1..=5 {
            let mut server = Server::spawn(dir, &data, rtp_ports, sip_host);
            let answered = wait_for(
                "the server to answer /healthz or exit",
                Duration::from_secs(30),
                || {
                    if server.get("/healthz").as_deref() == Some("ok") {
                        return Some(true);
                    }
                    server.child.try_wait().ok().flatten().map(|_| false)
                },
            );
            if answered {
                server.cookie = server.sign_in(ADMIN, PASSWORD);
                return server;
            }
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            assert!(attempt < 5, "the server exited at start five times:\n{log}");
        }
        unreachable!("every attempt returns or fails")
    }

    /// `switchboard run` on ports picked now, not waited for.
    fn spawn(dir: &Path, data: &Path, rtp_ports: u16, sip_host: &str) -> Server {
        let bin = env!("CARGO_BIN_EXE_switchboard");
        let (sip, http) = (free_port(), free_port());
        // Tests run side by side: each takes its own slice of RTP ports, clear of its SIP
        // port (the server refuses a range that holds it).
        let rtp = loop {
            let rtp = (free_port() & !1).min(u16::MAX - rtp_ports - 1);
            if !(rtp..rtp + rtp_ports).contains(&sip) {
                break rtp;
            }
        };
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let mut command = Command::new(bin);
        command.arg("run");
        // A test that needs settings only the config file holds (`chat:`) writes them to
        // `dir/config.yaml`.
        let config = dir.join("config.yaml");
        if config.exists() {
            command.arg("--config").arg(config);
        }
        let child = command
            .args(["--sip-addr", &format!("{sip_host}:{sip}")])
            .args(["--http-addr", &format!("127.0.0.1:{http}")])
            .args(["--rtp-ports", &format!("{rtp}-{}", rtp + rtp_ports - 1)])
            .arg("--data-dir")
            .arg(data)
            .arg("--dialplans")
            .arg(dir.join("dialplans"))
            .arg("--prompts")
            .arg(repo().join("prompts"))
            // The registrar's debug line tells a test when a phone has registered.
            .env(
                "RUST_LOG",
                "info,rsipstack=warn,switchboard_runtime::sip::register=debug",
            )
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Server {
            child,
            http,
            sip,
            dir: dir.to_path_buf(),
            cookie: String::new(),
        }
    }

    /// `GET path` as the signed-in admin: the body.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.http)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\nConnection: close\r\n\r\n",
            self.cookie
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
    }

    /// Signs in to the web API as `user`: the `Cookie` value of the session; panics,
    /// showing the answer, when the sign-in is refused.
    pub fn sign_in(&self, user: &str, password: &str) -> String {
        let body = serde_json::json!({"user": user, "password": password}).to_string();
        let mut s = TcpStream::connect(("127.0.0.1", self.http)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.lines()
            .find_map(|line| line.strip_prefix("set-cookie: "))
            .and_then(|cookie| cookie.split(';').next())
            .unwrap_or_else(|| panic!("the admin's sign-in was refused: {out}"))
            .to_string()
    }

    pub fn json(&self, path: &str) -> Value {
        let body = self
            .get(path)
            .unwrap_or_else(|| panic!("GET {path} failed"));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// The call to `number` in `list` ("live" or "recent") whose trace has `step`.
    pub fn call_with(&self, list: &str, number: &str, step: &str) -> Option<Value> {
        let calls: Value = serde_json::from_str(&self.get("/api/calls")?).ok()?;
        calls[list]
            .as_array()?
            .iter()
            .find(|c| c["dialled"] == number && trace_has(c, step))
            .cloned()
    }

    /// Runs sipp with `scenario` against the server; returns its child to wait on.
    pub fn sipp(&self, scenario: &str, service: &str, extra: &[&str]) -> Child {
        let port = free_port().to_string();
        let media = (free_port() & !1).to_string();
        let mut command = Command::new(SIPP);
        command
            .arg(format!("127.0.0.1:{}", self.sip))
            .arg("-sf")
            .arg(scenario)
            .args(["-s", service, "-ap", PASSWORD, "-m", "1"])
            .args(["-i", "127.0.0.1", "-mp", &media])
            .args([
                "-nostdin",
                "-timeout",
                "40s",
                "-timeout_error",
                "-trace_err",
            ]);
        // Calls come from 101 on a port of their own unless the step says otherwise.
        if !extra.contains(&"-au") {
            command.args(["-au", "101"]);
        }
        if !extra.contains(&"-p") {
            command.args(["-p", &port]);
        }
        command
            .args(extra)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp runs (install Debian's sip-tester)")
    }

    pub fn sipp_ok(&self, scenario: &str, service: &str, extra: &[&str]) {
        let mut child = self.sipp(scenario, service, extra);
        let status = wait_child(&mut child, Duration::from_secs(60), scenario);
        assert!(
            status.success(),
            "sipp {scenario} {service} failed ({status}); see {}/*_errors.log",
            self.dir.display()
        );
    }
}
