//! sipvicious, the scanner every SIP server on the internet meets, against `switchboard
//! run`: `svwar` finds no extension and `svcrack` finds no password, while a phone that
//! signed in before the attack signs in again at once.
//!
//! sipvicious 0.3.8 ignores its own `-b` (the option is parsed but never handed to the
//! scanner), so it always sends from 127.0.0.1. The phone therefore signs in from
//! 127.0.0.2, before and after the attack: the per-address refusal that svcrack earns is
//! not the phone's, and 127.0.0.2 is an address account 101 has signed in from, so the
//! account's lock (for the addresses it has not signed in from) spares it.
//!
//! The scans are paced (`-t`) under the server's 100 messages a second per address,
//! so every request is answered and what holds is the answers, not the flood limit:
//! svwar asks 102 numbers per scan, svcrack tries all 301 passwords and is answered.
//! The whole test takes about 30 s, 20 of them svcrack's (10 s of which are its own
//! fixed wait for late answers after its last guess).
//!
//! Before the real server, both tools run against a deliberately leaky target (404 for
//! a number nobody has, 401 for 101 and 102, and 200 for 101 with the right password
//! without any digest), so the test knows what a finding looks like in their output
//! and that its checks would see one.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::{PASSWORD, SIPP, Server, free_port, office_copy, repo};

/// The version `.ci/run` installs; its output format is what the checks below read.
const SIPVICIOUS_VERSION: &str = "0.3.8";
/// How long one sipvicious run may take before it is killed and the test fails.
const RUN_DEADLINE: Duration = Duration::from_secs(120);
/// Seconds between two requests of a scan (`-t`): at most 67 a second, under the
/// server's 100 per address, so the flood limit never answers for the server.
const PACE: &str = "0.015";
/// The numbers svwar asks about after its first: the shipped plan's extensions (100–105,
/// 101 and 102 with a password), numbers nobody has, the queue and voicemail.
const SCAN_RANGE: &str = "100-199,800,999";
/// Wrong passwords in svcrack's dictionary; the right one comes after the first 50.
const WRONG_PASSWORDS: usize = 300;
const RIGHT_PASSWORD_AFTER: usize = 50;

/// Where `.ci/run` installs sipvicious: a virtualenv in the target directory.
fn venv_bin() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("sipvicious/bin")
}

/// The path of one of sipvicious's commands (`sipvicious_svwar`…), from `.ci/run`'s
/// virtualenv or else from `PATH`; fails, never skips, when it is not installed.
fn tool(name: &str) -> PathBuf {
    let venv = venv_bin().join(name);
    let found = std::iter::once(venv.clone())
        .chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join(name)),
        )
        .find(|p| p.is_file());
    let Some(path) = found else {
        panic!(
            "{name} is missing: .ci/run installs sipvicious {SIPVICIOUS_VERSION} into {} \
             (or put its commands on PATH)",
            venv_bin().display()
        );
    };
    let version = Command::new(&path).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(&format!("v{SIPVICIOUS_VERSION}")),
        "{} is not sipvicious {SIPVICIOUS_VERSION} (.ci/run installs that one): {}",
        path.display(),
        version.lines().next().unwrap_or("")
    );
    path
}

/// What one sipvicious run printed, and how it ended.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs a sipvicious command against 127.0.0.1:`port` from a local port of its own;
/// killed and failed after [`RUN_DEADLINE`].
fn run(dir: &Path, tool_name: &str, args: &[&str], port: u16) -> Run {
    let name = format!("{tool_name}-{}", free_port());
    let (out, err) = (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.err")),
    );
    let started = Instant::now();
    let mut child = Command::new(tool(tool_name))
        .args(args)
        // The local port (its default is 5060, maybe taken) and the address it puts in
        // Via and Contact (else it asks the resolver for the host's name).
        .args(["-P", &free_port().to_string(), "-x", "127.0.0.1"])
        .arg(format!("udp://127.0.0.1:{port}"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{tool_name} {args:?} ran over {RUN_DEADLINE:?}; see {}",
                err.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run {
        status,
        stdout: std::fs::read_to_string(&out).unwrap(),
        stderr: std::fs::read_to_string(&err).unwrap(),
    };
    eprintln!(
        "{tool_name} {} — {:.1?}, {status}:\n{}",
        args.join(" "),
        started.elapsed(),
        summary(&run)
    );
    run
}

/// The lines of a run worth showing: sipvicious's verdicts and result tables, not its
/// packet dumps and debug lines.
fn summary(run: &Run) -> String {
    run.all()
        .lines()
        .filter(|l| {
            ["INFO", "WARNING", "ERROR", "CRITICAL", "|", "+"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| format!("    {}", l.chars().take(160).collect::<String>()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The extensions svwar says exist: its `extension 'N' exists …` (or `probably exists`)
/// lines at `-v`, and the rows of the table it prints when it found any.
fn svwar_findings(run: &Run) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = run
        .stderr
        .lines()
        .filter(|l| l.contains("exists"))
        .filter_map(|l| l.split('\'').nth(1).map(str::to_string))
        .collect();
    if run.stdout.contains("| Extension") {
        found.extend(table_rows(&run.stdout));
    }
    found
}

/// The user → password pairs svcrack says it found: `The password for U is P` at `-v`,
/// and the rows of its table.
fn svcrack_findings(run: &Run) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = run
        .stderr
        .lines()
        .filter_map(|l| {
            l.split_once("The password for ")
                .map(|(_, rest)| rest.to_string())
        })
        .collect();
    if run.stdout.contains("| Password") {
        found.extend(table_rows(&run.stdout));
    }
    found
}

/// The first cells of a sipvicious result table's rows (`| 101 | reqauth |`).
fn table_rows(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix('|'))
        .filter_map(|l| l.split('|').next())
        .map(|c| c.trim().to_string())
        .filter(|c| c != "Extension")
        .collect()
}

/// What svwar received (`--debug` prints each datagram as a Python bytes literal), by
/// the number it asked about (its From display name): their status lines.
fn svwar_answers(run: &Run) -> BTreeMap<String, BTreeSet<String>> {
    let mut answers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in run.stdout.lines().filter(|l| l.starts_with("b'SIP/2.0 ")) {
        let status = line[2..].split("\\r\\n").next().unwrap().to_string();
        let number = line
            .split("\\r\\nFrom: \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no From in svwar's answer {line}"));
        answers
            .entry(number.to_string())
            .or_default()
            .insert(status);
    }
    answers
}

/// A SIP target that leaks: 404 for a number other than 101 and 102, 401/407 for those,
/// and 200 for a REGISTER from 101 whose svcrack tag holds [`PASSWORD`] (it checks no
/// digest: it only shows what a finding looks like). Answers until `stop`.
fn leaky_target(stop: Arc<AtomicBool>) -> (u16, JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while !stop.load(Ordering::Relaxed) {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            if let Some(answer) = leaky_answer(&request) {
                let _ = socket.send_to(answer.as_bytes(), from);
            }
        }
    });
    (port, thread)
}

fn leaky_answer(request: &str) -> Option<String> {
    let first = request.lines().next()?;
    let method = first.split(' ').next()?;
    if method == "ACK" || first.starts_with("SIP/2.0") {
        return None;
    }
    let header = |name: &str| {
        request
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
    };
    // A REGISTER's request URI names the domain only: the user is the To's.
    let user = header("to")?.split("sip:").nth(1)?.split('@').next()?;
    let from = header("from")?;
    let status = if user != "101" && user != "102" {
        "404 Not Found"
    } else if header("authorization").is_none() && header("proxy-authorization").is_none() {
        match method {
            "REGISTER" => {
                "401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"leaky\", nonce=\"n\""
            }
            "INVITE" => {
                "407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm=\"leaky\", nonce=\"n\""
            }
            _ => "200 OK",
        }
    } else {
        // svcrack puts `user:password` in its From tag, hex-encoded, then \x01 and noise.
        let tag = from.split("tag=").nth(1)?.trim();
        let bytes: Vec<u8> = (0..tag.len() / 2)
            .filter_map(|i| u8::from_str_radix(&tag[2 * i..2 * i + 2], 16).ok())
            .collect();
        let tagged = String::from_utf8_lossy(&bytes);
        let guess = tagged.split('\u{1}').next()?;
        if guess == format!("101:{PASSWORD}") {
            "200 OK"
        } else {
            "403 Forbidden"
        }
    };
    let mut answer = format!("SIP/2.0 {status}\r\n");
    for name in ["via", "from", "to", "call-id", "cseq"] {
        let line = header(name)?;
        answer.push_str(line);
        if name == "to" && !line.contains("tag=") {
            answer.push_str(";tag=leaky");
        }
        answer.push_str("\r\n");
    }
    answer.push_str("Content-Length: 0\r\n\r\n");
    Some(answer)
}

/// svcrack's dictionary: [`WRONG_PASSWORDS`] wrong ones, the right one after the
/// first [`RIGHT_PASSWORD_AFTER`].
fn dictionary(dir: &Path) -> PathBuf {
    let mut words: Vec<String> = (1..=WRONG_PASSWORDS)
        .map(|i| format!("wrong-guess-{i:03}"))
        .collect();
    words.insert(RIGHT_PASSWORD_AFTER, PASSWORD.to_string());
    let path = dir.join("passwords.txt");
    std::fs::write(&path, words.join("\n") + "\n").unwrap();
    path
}

/// The phone: 101 registering from 127.0.0.2 (sipp, `support`'s `-i` overridden).
fn phone_registers(server: &Server) {
    let scenario = repo().join("runtime/tests/sipp/register.xml");
    server.sipp_ok(&scenario.to_string_lossy(), "101", &["-i", "127.0.0.2"]);
}

#[test]
fn sipvicious_enumerates_no_extension_and_cracks_no_password() {
    assert!(
        Path::new(SIPP).exists(),
        "{SIPP} is missing: apt-get install sip-tester (.ci/run does)"
    );
    let svwar = "sipvicious_svwar";
    let svcrack = "sipvicious_svcrack";
    let dir = office_copy("sipvicious");
    let passwords = dictionary(&dir);
    let passwords = passwords.to_str().unwrap();

    // What a finding looks like, on the leaky target.
    let stop = Arc::new(AtomicBool::new(false));
    let (leaky, leaky_thread) = leaky_target(stop.clone());
    let found = run(&dir, svwar, &["-v", "-e", "100-105", "-t", PACE], leaky);
    assert_eq!(
        svwar_findings(&found),
        BTreeSet::from(["101".to_string(), "102".to_string()]),
        "svwar finds 101 and 102 on the leaky target:\n{}",
        found.all()
    );
    assert_eq!(
        found.status.code(),
        Some(40),
        "svwar's exit code for a finding"
    );
    let cracked = run(&dir, svcrack, &["-v", "-u", "101", "-d", passwords], leaky);
    assert_eq!(
        svcrack_findings(&cracked),
        BTreeSet::from([format!("101 is {PASSWORD}"), "101".to_string()]),
        "svcrack finds 101's password on the leaky target:\n{}",
        cracked.all()
    );
    assert_eq!(
        cracked.status.code(),
        Some(40),
        "svcrack's exit code for a password"
    );
    stop.store(true, Ordering::Relaxed);
    leaky_thread.join().unwrap();

    let server = Server::start(&dir, &["101", "102"], 4);
    // The desk phone signs in before the attack, so 127.0.0.2 is an address 101 uses.
    phone_registers(&server);

    // svwar as it runs by default: it asks a random number first, and gives up when the
    // server challenges that as it challenges everyone.
    let default = run(
        &dir,
        svwar,
        &["-v", "-e", SCAN_RANGE, "-t", PACE],
        server.sip,
    );
    assert!(
        default
            .stderr
            .contains("replied with an authentication request for an unknown extension"),
        "svwar by default stops at the challenge for a number nobody has:\n{}",
        default.all()
    );
    assert!(svwar_findings(&default).is_empty());

    // Forced, by each method, starting with each real extension. svwar compares every
    // answer with the one for its random number and stops at the first answer that is
    // the same but not `404`/`200` — so for REGISTER and INVITE the real extension it
    // asks first is the one that decides; OPTIONS it asks about every number.
    for method in ["REGISTER", "INVITE", "OPTIONS"] {
        for first in ["101", "102"] {
            let range = format!("{first},{SCAN_RANGE}");
            let scan = run(
                &dir,
                svwar,
                &[
                    "-v", "--force", "--debug", "-m", method, "-e", &range, "-t", PACE,
                ],
                server.sip,
            );
            let findings = svwar_findings(&scan);
            assert!(
                findings.is_empty(),
                "svwar -m {method} found extensions {findings:?}:\n{}",
                scan.all()
            );
            assert!(scan.stderr.contains("found nothing"), "{}", scan.all());
            assert_ne!(
                scan.status.code(),
                Some(40),
                "svwar's exit code for a finding"
            );
            let answers = svwar_answers(&scan);
            assert!(
                answers.contains_key(first),
                "svwar -m {method} got no answer for {first}, so it compared nothing: {answers:?}"
            );
            if method == "OPTIONS" {
                for n in (100..=199).chain([800, 999]) {
                    assert!(answers.contains_key(&n.to_string()), "no answer for {n}");
                }
            }
            let statuses: BTreeSet<_> = answers.values().flatten().collect();
            assert_eq!(
                statuses.len(),
                1,
                "svwar -m {method} got different answers for different numbers: {answers:?}"
            );
        }
    }

    // svcrack on 101 with 300 wrong passwords and the right one at 51st. It never gets
    // the right one evaluated: guesses 1–5 are checked and wrong, and the fifth locks
    // account 101 (1 minute) for every address it has not signed in from, 127.0.0.1
    // among them; guesses 6–10 wait the second the address's 5 failures cost and are then
    // refused unchecked by that lock, each counting as a failure of the address; the
    // tenth has 127.0.0.1 refused for 5 minutes, and from there on every guess, the right
    // one at 51st included, is answered 403 before any digest is computed — the same 403
    // as a wrong one, so svcrack cannot tell it either.
    let crack = run(
        &dir,
        svcrack,
        &["-vvv", "-u", "101", "-d", passwords, "-t", PACE],
        server.sip,
    );
    let findings = svcrack_findings(&crack);
    assert!(
        findings.is_empty(),
        "svcrack found {findings:?}:\n{}",
        summary(&crack)
    );
    assert!(
        crack.stderr.contains("found nothing"),
        "{}",
        summary(&crack)
    );
    assert_ne!(
        crack.status.code(),
        Some(40),
        "svcrack's exit code for a password"
    );
    let tried = crack.stderr.matches("DEBUG:ASipOfRedWine:trying ").count();
    let refused = crack
        .stderr
        .matches("Received response: SIP/2.0 403")
        .count();
    eprintln!("svcrack tried {tried} passwords and was answered 403 {refused} times");
    assert!(
        crack
            .stderr
            .contains(&format!("DEBUG:ASipOfRedWine:trying {PASSWORD}\n")),
        "svcrack never sent the right password, so this proved nothing:\n{}",
        summary(&crack)
    );
    assert_eq!(
        tried,
        WRONG_PASSWORDS + 1,
        "svcrack tried the whole dictionary"
    );
    assert_eq!(refused, tried, "every guess was answered, with 403");

    let log = std::fs::read_to_string(dir.join("server.log")).unwrap();
    let checked = log.matches("registration failed: wrong password").count();
    eprintln!("the server logged {checked} failed sign-ins");
    // A failed sign-in is logged when a guess was checked (or, in some versions, refused
    // by the account's lock): the lock and the address's refusal keep that to at most 10.
    assert!(
        (1..=10).contains(&checked),
        "{checked} guesses were checked and failed"
    );
    assert_eq!(
        log.matches("too many failed sign-ins").count(),
        1,
        "127.0.0.1 refused once"
    );
    assert_eq!(
        log.matches("SIP flood").count(),
        0,
        "the scans stayed under the flood limit, so the answers held, not the limit"
    );

    // The server is up and the phone signs in again from its own address.
    assert!(server.get("/healthz").as_deref() == Some("ok"));
    let again = Instant::now();
    phone_registers(&server);
    eprintln!("the phone registered again in {:?}", again.elapsed());
}
