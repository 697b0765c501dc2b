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

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{PASSWORD, Server, free_port, office_copy, trace_has, wait_for};

const LINPHONEC: &str = "/usr/bin/linphonec";

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    let dir = office_copy("linphone");
    let server = Server::start(&dir, &["101"], 10);
    let mut phone = Linphone::start(&dir);
    phone.send("soundcard use files");
    phone.wait_for(
        "Using wav files instead of soundcard.",
        Duration::from_secs(20),
    );

    let host = format!("127.0.0.1:{}", server.sip);
    phone.send(&format!("register sip:101@{host} sip:{host} {PASSWORD}"));
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
