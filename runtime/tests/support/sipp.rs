//! sipp runs of the scenarios in `runtime/tests/sipp/` against a server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The longest a sipp run may take (its own timeout is 20 s).
const SIPP_WAIT: Duration = Duration::from_secs(40);

pub struct SippRun {
    pub code: Option<i32>,
    /// sipp's stderr and its `*_errors.log`.
    pub errors: String,
}

impl SippRun {
    pub fn assert_success(&self) {
        assert_eq!(self.code, Some(0), "sipp failed:\n{}", self.errors);
    }
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs one call of a scenario from `tests/sipp` against the server.
pub async fn sipp(scenario: &str, server: SocketAddr, extra: &[&str]) -> SippRun {
    let dir = tempfile::tempdir().unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(scenario);
    let mut command = Command::new("/usr/bin/sipp");
    command
        .arg(server.to_string())
        .arg("-sf")
        .arg(&path)
        .args(["-m", "1", "-timeout", "20s", "-timeout_error", "-trace_err"])
        .args(["-nostdin", "-i", "127.0.0.1", "-p"])
        .arg(free_udp_port().to_string())
        .args(extra)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let run = tokio::task::spawn_blocking(move || command.output());
    let output = tokio::time::timeout(SIPP_WAIT, run)
        .await
        .expect("sipp ends")
        .unwrap()
        .expect("sipp is installed at /usr/bin/sipp");
    let mut errors = String::from_utf8_lossy(&output.stderr).into_owned();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with("_errors.log") {
            errors.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    SippRun {
        code: output.status.code(),
        errors,
    }
}
