//! Debian's baresip (1.0.0 on libre 1.1.0), a phone nobody here wrote, against
//! `switchboard run` on its defaults: SIP bound to every interface, the default digest
//! challenge. Two of them call each other through the server, each sending a tone of
//! its own (`ausine`), and each hears the other's (`sndfile` writes what it heard). baresip registers as 102, subscribes to its message-waiting lamp (RFC
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
        Baresip::start_as(dir, "baresip", None, 0)
    }

    /// Starts baresip in `dir/name` with no account. With a `tone` its microphone is a
    /// sine of that many hertz (`ausine`, which takes 48 kHz stereo) and every call's
    /// sound both ways is written to `dir/name/dump/*-dec.wav` (what it heard) and
    /// `*-enc.wav` (what it sent) by `sndfile`. `slot` (0-2) gives each instance of a
    /// test RTP ports of its own.
    fn start_as(dir: &Path, name: &str, tone: Option<u32>, slot: u16) -> Baresip {
        let home = dir.join(name);
        std::fs::create_dir_all(home.join("dump")).unwrap();
        let rtp = 26_000 + (std::process::id() % 200) as u16 * 30 + slot * 10;
        let ctrl_port = free_port();
        let source = match tone {
            Some(hz) => format!(
                "audio_source\tausine,{hz}\nausrc_srate\t48000\nausrc_channels\t2\n\
                 module\tausine.so\nmodule\tsndfile.so\nsnd_path\t{}\n",
                home.join("dump").display()
            ),
            None => "audio_source\taubridge,nil\n".to_string(),
        };
        // SIP on a port whose next one (baresip's TLS) is free too.
        let sip = loop {
            let port = free_port();
            if std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
                break port;
            }
        };
        std::fs::write(
            home.join("config"),
            format!(
                "poll_method\tepoll\n\
                 sip_listen\t127.0.0.1:{sip}\n\
                 audio_player\taubridge,nil\n\
                 {source}\
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

/// The strength of `hz` in `samples` (8 kHz), by Goertzel's algorithm.
fn tone_power(samples: &[i16], hz: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = f64::from(x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - k * s1 * s2
}

/// The audio a baresip heard during its call (`sndfile`'s decoded dump), at 8 kHz.
fn heard(phone_dir: &Path) -> Vec<i16> {
    let dump = std::fs::read_dir(phone_dir.join("dump"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("no recording of what {} heard", phone_dir.display()));
    let mut reader = hound::WavReader::open(&dump).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    reader.samples::<i16>().map(Result::unwrap).collect()
}

#[test]
fn two_baresips_call_each_other_through_the_server_and_each_hears_the_others_tone() {
    assert!(
        Path::new(BARESIP).exists(),
        "{BARESIP} is missing: apt-get install baresip (.ci/run does)"
    );
    let dir = office_copy("baresip-call");
    let server = Server::start(&dir, &["101", "102"], 40);
    let mut alice = Baresip::start_as(&dir, "alice", Some(440), 1);
    let mut bob = Baresip::start_as(&dir, "bob", Some(1000), 2);
    for (phone, user, extra) in [
        (&mut alice, "101", ""),
        (&mut bob, "102", ";answermode=auto"),
    ] {
        phone.command("uafind", "nobody"); // see the top of this file
        let created = phone.command(
            "uanew",
            &format!(
                "<sip:{user}@127.0.0.1:{}>;auth_pass={PASSWORD};regint=600{extra}",
                server.sip
            ),
        );
        assert_eq!(created["ok"], true, "{created}");
        phone.wait_message("REGISTER_OK", |m| m["type"] == "REGISTER_OK");
    }
    // Alice (101) dials 102; Bob's baresip answers by itself.
    alice.command("dial", &format!("sip:102@127.0.0.1:{}", server.sip));
    alice.wait_message("the call established", |m| m["type"] == "CALL_ESTABLISHED");
    bob.wait_message("the call established", |m| m["type"] == "CALL_ESTABLISHED");
    // Two seconds of conversation: sndfile is writing what each one hears.
    wait_for(
        "two seconds of audio at Bob's",
        Duration::from_secs(20),
        || {
            let dump = std::fs::read_dir(dir.join("bob/dump")).ok()?;
            let bytes: u64 = dump
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum();
            (bytes > 2 * 2 * 16_000 + 200).then_some(())
        },
    );
    alice.command("hangup", "");
    bob.wait_message("the call closed", |m| m["type"] == "CALL_CLOSED");
    // Each heard the other's tone, not its own (and not silence).
    for (who, theirs, own) in [("alice", 1000.0, 440.0), ("bob", 440.0, 1000.0)] {
        let audio = heard(&dir.join(who));
        let middle = &audio[audio.len() / 4..audio.len() / 4 + 8000.min(audio.len() / 2)];
        let (theirs_power, own_power) = (tone_power(middle, theirs), tone_power(middle, own));
        assert!(
            theirs_power > 1e12 && theirs_power > 1000.0 * own_power.max(1.0),
            "{who} heard {theirs} Hz at {theirs_power:.3e} and its own {own} Hz at {own_power:.3e}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
