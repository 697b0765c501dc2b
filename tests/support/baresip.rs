//! Debian's baresip (1.0.0 on libre 1.1.0) as a test's phone: started headless from a
//! config folder made here (`aubridge` stands in for a sound card; with a tone, `ausine`
//! is its microphone and `sndfile` writes what it hears), driven over `ctrl_tcp`
//! (netstrings of JSON commands, answered with responses and events such as
//! `REGISTER_OK`). Its account is created by command once it runs: see `tests/baresip.rs`
//! for the mwi start-up race that avoids. Every wait has a deadline.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{free_port, wait_for};

pub const BARESIP: &str = "/usr/bin/baresip";

/// baresip, killed when the test ends however it ends; what it prints (its SIP trace)
/// and what it says over `ctrl_tcp` are kept.
pub struct Baresip {
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
    pub fn start(dir: &Path) -> Baresip {
        Baresip::start_as(dir, "baresip", None, 0)
    }

    /// Starts baresip in `dir/name` with no account. With a `tone` its microphone is a
    /// sine of that many hertz (`ausine`, which takes 48 kHz stereo) and every call's
    /// sound both ways is written to `dir/name/dump/*-dec.wav` (what it heard) and
    /// `*-enc.wav` (what it sent) by `sndfile`. `slot` (0-2) gives each instance of a
    /// test RTP ports of its own.
    pub fn start_as(dir: &Path, name: &str, tone: Option<u32>, slot: u16) -> Baresip {
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
    pub fn command(&mut self, command: &str, params: &str) -> Value {
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
    pub fn wait_message(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
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

    pub fn printed(&self) -> String {
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

/// The strength of `hz` in `samples` taken at `rate` Hz, by Goertzel's algorithm.
pub fn tone_power(samples: &[i16], hz: f64, rate: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * hz / rate).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = f64::from(x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - k * s1 * s2
}

/// Whether `audio` (at `rate` Hz), in a second from its middle, carries `theirs` Hz
/// strongly and `own` Hz a thousand times less: the far end's tone, not its own echo.
pub fn hears_tone(audio: &[i16], rate: u32, theirs: f64, own: f64) -> Result<(), String> {
    let second = rate as usize;
    let start = audio.len() / 4;
    let middle = &audio[start..(start + second).min(audio.len())];
    let rate = f64::from(rate);
    let (theirs_power, own_power) = (
        tone_power(middle, theirs, rate),
        tone_power(middle, own, rate),
    );
    if theirs_power > 1e12 && theirs_power > 1000.0 * own_power.max(1.0) {
        Ok(())
    } else {
        Err(format!(
            "{theirs} Hz at {theirs_power:.3e} and its own {own} Hz at {own_power:.3e} \
             in {} samples",
            audio.len()
        ))
    }
}

/// The audio a baresip heard during its call (`sndfile`'s decoded dump), at 8 kHz.
pub fn heard(phone_dir: &Path) -> Vec<i16> {
    let dump = std::fs::read_dir(phone_dir.join("dump"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("no recording of what {} heard", phone_dir.display()));
    let mut reader = hound::WavReader::open(&dump).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    reader.samples::<i16>().map(Result::unwrap).collect()
}
