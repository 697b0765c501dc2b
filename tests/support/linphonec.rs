//! Linphone's console phone (`linphonec`, Debian's `linphone-cli`) as a test's phone:
//! a config of its own (SIP on a free port, no TCP or TLS, RTP ports per process), fed
//! commands on its stdin, everything it prints kept. No sound card is needed: `soundcard
//! use files` (then `play` sends a WAV into the call and `record` writes what it hears).
//! Every wait has a deadline.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::free_port;

pub const LINPHONEC: &str = "/usr/bin/linphonec";

/// A child process killed when the test ends, however it ends.
pub struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// linphonec, fed commands on its stdin; everything it prints is kept.
pub struct Linphone {
    _child: Killed,
    stdin: ChildStdin,
    pub output: Arc<Mutex<String>>,
}

impl Linphone {
    pub fn start(dir: &Path) -> Linphone {
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

    pub fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn printed(&self, text: &str) -> bool {
        self.output.lock().unwrap().contains(text)
    }

    /// Waits for `text` in its output; the whole output if it never comes.
    pub fn wait_for(&self, text: &str, limit: Duration) {
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
