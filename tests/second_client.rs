//! A second SIP client nobody here wrote: Linphone's console phone (`linphonec`, Debian's
//! `linphone-cli`) registers to `switchboard run` with digest authentication, calls 999,
//! hears the PIN prompt, keys the PIN by RFC 4733 and gets into the mailbox.
//!
//! sipp (in `server_sipp.rs`) plays scenarios written here; this is a phone written
//! elsewhere, with its own SIP stack (belle-sip), SDP and DTMF. No sound card is needed:
//! `soundcard use files`. `docs/second-client.md` has the same run by hand, and why
//! Debian's baresip 1.0.0 is not the second client.
//!
//! Every wait has a deadline; nothing sleeps and hopes.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LINPHONEC: &str = "/usr/bin/linphonec";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A port nobody uses right now, for UDP and TCP alike.
fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// Waits until `check` gives a value, or fails with `what` after `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `switchboard run` on free ports.
struct Server {
    _child: Killed,
    http: u16,
    sip: u16,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let bin = env!("CARGO_BIN_EXE_switchboard");
        let data = dir.join("var");
        let mut set = Command::new(bin)
            .args(["user", "set-password", "101", "--data-dir"])
            .arg(&data)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        set.stdin.take().unwrap().write_all(b"secret\n").unwrap();
        assert!(set.wait().unwrap().success());
        let plans = dir.join("dialplans");
        std::fs::create_dir_all(&plans).unwrap();
        for e in std::fs::read_dir(repo().join("dialplans")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, plans.join(p.file_name().unwrap())).unwrap();
        }
        let (sip, http) = (free_port(), free_port());
        let rtp = 24_000 + (std::process::id() % 400) as u16 * 10;
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(bin)
            .arg("run")
            .args(["--sip-addr", &format!("127.0.0.1:{sip}")])
            .args(["--http-addr", &format!("127.0.0.1:{http}")])
            .args(["--rtp-ports", &format!("{rtp}-{}", rtp + 9)])
            .arg("--data-dir")
            .arg(&data)
            .arg("--dialplans")
            .arg(&plans)
            .arg("--prompts")
            .arg(repo().join("prompts"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Server {
            _child: Killed(child),
            http,
            sip,
        };
        wait_for(
            "the server to answer /healthz",
            Duration::from_secs(30),
            || (server.get("/healthz")? == "ok").then_some(()),
        );
        server
    }

    fn get(&self, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.http)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
    }

    /// The call to `number` in `list` ("live" or "recent") whose trace has `step`.
    fn call_with(&self, list: &str, number: &str, step: &str) -> Option<Value> {
        let calls: Value = serde_json::from_str(&self.get("/api/calls")?).ok()?;
        calls[list]
            .as_array()?
            .iter()
            .find(|c| c["dialled"] == number && trace_has(c, step))
            .cloned()
    }
}

fn trace_has(call: &Value, needle: &str) -> bool {
    call["trace"]
        .as_array()
        .is_some_and(|t| t.iter().any(|l| l.as_str().unwrap_or("").contains(needle)))
}

/// linphonec, fed commands on its stdin; everything it prints is kept.
struct Linphone {
    _child: Killed,
    stdin: ChildStdin,
    output: Arc<Mutex<String>>,
}

impl Linphone {
    fn start(dir: &Path) -> Linphone {
        let home = dir.join("linphone");
        std::fs::create_dir_all(home.join(".local/share/linphone")).unwrap();
        let rc = home.join("linphonerc");
        let rtp = 25_000 + (std::process::id() % 400) as u16 * 10;
        std::fs::write(
            &rc,
            format!(
                "[sip]\nsip_port={}\nsip_tcp_port=-1\nsip_tls_port=-1\nuse_ipv6=0\n\
                 [rtp]\naudio_rtp_port={rtp}-{}\n[net]\nfirewall_policy=0\n",
                free_port(),
                rtp + 9
            ),
        )
        .unwrap();
        let mut child = Command::new(LINPHONEC)
            .args(["-S", "-c"])
            .arg(&rc)
            .args(["-d", "5", "-l"])
            .arg(home.join("linphone.log"))
            .env("HOME", &home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{LINPHONEC}: {e} (apt-get install linphone-cli)"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        Linphone {
            _child: Killed(child),
            stdin,
            output,
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn printed(&self, text: &str) -> bool {
        self.output.lock().unwrap().contains(text)
    }

    /// Waits for `text` in its output; the whole output if it never comes.
    fn wait_for(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.printed(text) {
            assert!(
                Instant::now() < deadline,
                "linphonec never printed {text:?}:\n{}",
                self.output.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn linphone_registers_calls_the_ivr_and_keys_the_pin() {
    assert!(
        Path::new(LINPHONEC).exists(),
        "{LINPHONEC} is missing: apt-get install linphone-cli"
    );
    let dir = tempfile_dir();
    let server = Server::start(&dir);
    let mut phone = Linphone::start(&dir);
    phone.send("soundcard use files");
    phone.wait_for(
        "Using wav files instead of soundcard.",
        Duration::from_secs(20),
    );

    let host = format!("127.0.0.1:{}", server.sip);
    phone.send(&format!("register sip:101@{host} sip:{host} secret"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !phone.printed("LinphoneRegistrationOk") {
        assert!(
            Instant::now() < deadline,
            "linphonec did not register:\n{}\nserver log in {}",
            phone.output.lock().unwrap(),
            dir.display()
        );
        phone.send("states");
        std::thread::sleep(Duration::from_millis(300));
    }

    phone.send(&format!("call sip:999@{host}"));
    phone.wait_for("Media streams established", Duration::from_secs(20));
    wait_for("the PIN prompt", Duration::from_secs(20), || {
        server.call_with("live", "999", "play vm-enter-pin")
    });
    phone.send("1234#");
    let call = wait_for("the mailbox to open", Duration::from_secs(30), || {
        server.call_with("live", "999", "mailbox open 101")
    });
    assert_eq!(call["caller"], "101", "{call:#}");
    assert!(trace_has(&call, "digits \"****\""), "{call:#}");

    phone.send("terminate");
    let call = wait_for("the call to end", Duration::from_secs(20), || {
        server.call_with("recent", "999", "mailbox open 101")
    });
    assert_eq!(call["outcome"], "the caller hung up", "{call:#}");
    assert_eq!(call["prompts"][0], "vm-enter-pin", "{call:#}");
    phone.send("quit");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-linphone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
