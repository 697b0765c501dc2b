//! Debian's baresip (1.0.0 on libre 1.1.0), a phone nobody here wrote, against
//! `switchboard run` on its defaults: SIP bound to every interface, the default digest
//! challenge. baresip registers as 102, subscribes to its message-waiting lamp (RFC
//! 3842; its account says `mwi=yes`), and the lamp lights when 101 leaves 102 a message
//! by `*4102` (sipp). On the same server a call from a phone on loopback is told
//! 127.0.0.1 in Contact and SDP (sipp checks the 200 it gets).
//!
//! baresip runs headless from a config folder made here: `aubridge` stands in for a
//! sound card, and the test drives it over `ctrl_tcp` (netstrings of JSON commands,
//! answered with responses and events such as `REGISTER_OK` and `MWI_NOTIFY`). Its
//! account is created by command once baresip is running, not from its `accounts`
//! file: baresip 1.0.0's mwi module re-subscribes in an endless loop when a
//! registration completes before a 1 ms timer it starts at load time has fired
//! (`modules/mwi/mwi.c`, `tmr_handler` appends to the list it walks), which a server
//! answering within a millisecond on loopback can trigger. That loop is the
//! "119,447 SUBSCRIBEs in two minutes" of issue 8; the server answers it with 503 and
//! `Retry-After` past its per-address rate, but cannot stop it. Every wait has a
//! deadline.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{PASSWORD, Server, free_port, office_copy, repo, wait_for};

const BARESIP: &str = "/usr/bin/baresip";

/// baresip, killed when the test ends however it ends; what it prints (its SIP trace)
/// and what it says over `ctrl_tcp` are kept.
struct Baresip {
    child: Child,
    output: Arc<Mutex<String>>,
    ctrl: TcpStream,
    /// Every netstring baresip sent over `ctrl_tcp`, parsed, in order.
    messages: Arc<Mutex<Vec<Value>>>,
    next_token: u32,
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Baresip {
    /// Starts baresip with no account, listening for SIP on loopback.
    fn start(dir: &Path) -> Baresip {
        let home = dir.join("baresip");
        std::fs::create_dir_all(&home).unwrap();
        let rtp = 26_000 + (std::process::id() % 400) as u16 * 10;
        let ctrl_port = free_port();
        std::fs::write(
            home.join("config"),
            format!(
                "poll_method\tepoll\n\
                 sip_listen\t127.0.0.1:{}\n\
                 audio_player\taubridge,nil\n\
                 audio_source\taubridge,nil\n\
                 audio_alert\taubridge,nil\n\
                 rtp_ports\t{rtp}-{}\n\
                 module_path\t/usr/lib/baresip/modules\n\
                 module\tg711.so\n\
                 module\taubridge.so\n\
                 module_tmp\taccount.so\n\
                 module_app\tmenu.so\n\
                 module_app\tmwi.so\n\
                 module_app\tctrl_tcp.so\n\
                 ctrl_tcp_listen\t127.0.0.1:{ctrl_port}\n",
                free_port(),
                rtp + 9
            ),
        )
        .unwrap();
        std::fs::write(home.join("accounts"), "").unwrap();
        let mut child = Command::new(BARESIP)
            .arg("-f")
            .arg(&home)
            .arg("-s")
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{BARESIP}: {e} (apt-get install baresip)"));
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
        let ctrl = wait_for("baresip's ctrl_tcp port", Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", ctrl_port)).ok()
        });
        let messages = Arc::new(Mutex::new(Vec::new()));
        let reader = ctrl.try_clone().unwrap();
        let sink = messages.clone();
        std::thread::spawn(move || read_netstrings(reader, &sink));
        Baresip {
            child,
            output,
            ctrl,
            messages,
            next_token: 1,
        }
    }

    /// Runs a command and returns its response.
    fn command(&mut self, command: &str, params: &str) -> Value {
        let token = self.next_token.to_string();
        self.next_token += 1;
        let body = json!({"command": command, "params": params, "token": token}).to_string();
        write!(self.ctrl, "{}:{body},", body.len()).unwrap();
        self.ctrl.flush().unwrap();
        self.wait_message(&format!("the answer to {command}"), |m| {
            m["response"] == true && m["token"] == token.as_str()
        })
    }

    /// The first message from baresip satisfying `check`, waiting for it.
    fn wait_message(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.messages.lock().unwrap().iter().find(|m| check(m)) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "baresip never said {what}; it said {:#?}\nand printed:\n{}",
                self.messages.lock().unwrap(),
                self.printed()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn printed(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

/// Reads `len:json,` netstrings until the connection closes.
fn read_netstrings(mut stream: TcpStream, sink: &Mutex<Vec<Value>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
        while let Some(colon) = buffer.iter().position(|&b| b == b':') {
            let Some(len) = std::str::from_utf8(&buffer[..colon])
                .ok()
                .and_then(|l| l.parse::<usize>().ok())
            else {
                return;
            };
            if buffer.len() < colon + 1 + len + 1 {
                break;
            }
            let body = buffer[colon + 1..colon + 1 + len].to_vec();
            buffer.drain(..colon + 1 + len + 1);
            if let Ok(value) = serde_json::from_slice(&body) {
                sink.lock().unwrap().push(value);
            }
        }
    }
}

/// Whether `message` is a message-waiting event whose summary holds every one of `lines`.
fn lamp(message: &Value, lines: &[&str]) -> bool {
    message["type"] == "MWI_NOTIFY"
        && message["param"]
            .as_str()
            .is_some_and(|body| lines.iter().all(|l| body.contains(l)))
}

#[test]
fn baresip_registers_on_the_defaults_and_its_subscribed_lamp_lights_for_a_message() {
    assert!(
        Path::new(BARESIP).exists(),
        "{BARESIP} is missing: apt-get install baresip (.ci/run does)"
    );
    let dir = office_copy("baresip");
    let server = Server::start_on(&dir, &["101", "102"], 40, "0.0.0.0");

    // A phone on loopback is told 127.0.0.1, not the machine's LAN address.
    let scenarios = repo().join("tests/sipp");
    server.sipp_ok(
        &scenarios.join("local_address.xml").to_string_lossy(),
        "999",
        &[],
    );

    let mut phone = Baresip::start(&dir);
    // One command answered first: baresip's event loop has run, and with it the mwi
    // module's start-up timer (see the top of this file).
    phone.command("uafind", "nobody");
    let created = phone.command(
        "uanew",
        &format!(
            "<sip:102@127.0.0.1:{}>;auth_pass={PASSWORD};regint=600;mwi=yes",
            server.sip
        ),
    );
    assert_eq!(created["ok"], true, "{created}");
    phone.wait_message("REGISTER_OK", |m| m["type"] == "REGISTER_OK");
    let out = phone.printed();
    assert!(out.contains("algorithm=MD5"), "{out}");
    assert!(
        !out.contains("SHA-256"),
        "the default challenge offers MD5 alone, which this baresip needs:\n{out}"
    );

    // It subscribes and hears the lamp's state at once: off.
    phone.wait_message("an unlit lamp", |m| lamp(m, &["Messages-Waiting: no"]));
    let out = phone.printed();
    assert!(out.contains("Subscription-State: active;expires="), "{out}");

    // 101 leaves 102 a message; the lamp lights in the subscription.
    server.sipp_ok(
        &scenarios.join("leave_message.xml").to_string_lossy(),
        "*4102",
        &[],
    );
    phone.wait_message("a lit lamp", |m| {
        lamp(m, &["Messages-Waiting: yes", "Voice-Message: 1/0"])
    });
    let subscribes = phone.printed().matches("\nSUBSCRIBE sip:").count();
    assert!(
        (1..=2).contains(&subscribes),
        "baresip subscribed {subscribes} times (a 401, then with credentials)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
