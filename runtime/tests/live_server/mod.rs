//! A whole server (`server::run_with`) in the test's process on loopback, with a plan,
//! a data folder and a SQLite store of its own, driven by sipp as the phone: what the
//! runtime tests of whole calls share. Every wait has a deadline.
//!
//! The store file is only ever opened here on a plain thread (`read_store`), never on a
//! tokio thread, so that `sqlite_store::calls_in_async_runtime` counts the server's
//! calls only.

#![allow(dead_code)] // each test binary uses its own part of this

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::call_log::{CallLog, CallRecord};
use switchboard_runtime::config::ServerConfig;
use switchboard_runtime::server::{self, Listening, RunOptions, store_path};
use switchboard_runtime::sqlite_store::SqliteStore;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const SIPP: &str = "/usr/bin/sipp";

/// How long any one thing may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(60);

/// The settings every test plan starts with; extension 101 is the caller, 102 a mailbox
/// (both with the password `secret`, so 102's phone may register where a test needs it;
/// so has 103, for a plan that defines it).
pub const OFFICE: &str = r#"
settings {
    extension_digits = 3
    operator         = 101
    language         = "en"
    timezone         = "UTC"
}

extension 101 "Caller" { voicemail }
extension 102 "Mailbox" { voicemail }
"#;

/// The admin every test server has, and their password, for the API.
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "amber-kettle-harbour";

/// Signs in to the API at `addr` as `ADMIN`; the `Cookie` value that carries the session.
async fn sign_in(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = format!(r#"{{"user": "{ADMIN}", "password": "{ADMIN_PASSWORD}"}}"#);
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    response
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|cookie| cookie.split(';').next())
        .unwrap_or_else(|| panic!("the admin's sign-in was refused: {response}"))
        .to_string()
}

/// The MAC of the hot-desk phone a test plan may define (with the password `secret`).
pub const HOT_DESK_PHONE: &str = "001565AABBCC";

/// One running server.
pub struct Live {
    pub dir: TempDir,
    pub listening: Listening,
    /// What SIGTERM does in `switchboard run`: cancels this.
    pub stop: CancellationToken,
    /// The server's record of calls, kept after it stopped.
    pub calls: Arc<CallLog>,
    /// `switchboard_session=…`: the admin's session, for the API's guarded routes.
    pub cookie: String,
    /// What it was started with, for `restart`.
    config: ServerConfig,
    task: Option<JoinHandle<Result<(), switchboard_runtime::error::ServerError>>>,
}

impl Live {
    /// Starts a server on `plan` (added to `OFFICE`), with `deadline` for calls in
    /// progress at shutdown and `options` (its call log is replaced by one the test keeps).
    pub async fn start(plan: &str, deadline: Duration, options: RunOptions) -> Live {
        Live::start_configured(plan, deadline, options, |_| {}).await
    }

    /// `start`, with `configure` changing the server's settings last.
    pub async fn start_configured(
        plan: &str,
        deadline: Duration,
        mut options: RunOptions,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Live {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let plans = dir.path().join("plan");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::write(plans.join("office.dial"), format!("{OFFICE}\n{plan}")).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let db = store_path(&data);
        read_store(&db, |s| {
            s.set_password("101", "switchboard", "secret").unwrap();
            s.set_password("102", "switchboard", "secret").unwrap();
            s.set_password("103", "switchboard", "secret").unwrap();
            s.set_password(HOT_DESK_PHONE, "switchboard", "secret")
                .unwrap();
            s.set_admin_password(ADMIN, ADMIN_PASSWORD, 0).unwrap();
        });
        let mut config = ServerConfig {
            sip_addr: "127.0.0.1:0".parse().unwrap(),
            http_addr: "127.0.0.1:0".parse().unwrap(),
            rtp_ports: 31000..=32999,
            data_dir: data,
            dialplans: plans,
            prompts: repo().join("prompts"),
            shutdown_deadline: deadline,
            ..ServerConfig::default()
        };
        configure(&mut config);
        let calls = Arc::new(CallLog::new());
        options.call_log = Some(calls.clone());
        let stop = CancellationToken::new();
        let (ready, listening) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(server::run_with(
            config.clone(),
            options,
            stop.clone(),
            Some(ready),
        ));
        let listening = within("the server to listen", listening)
            .await
            .expect("the server starts");
        let cookie = sign_in(listening.http).await;
        Live {
            dir,
            listening,
            stop,
            calls,
            cookie,
            config,
            task: Some(task),
        }
    }

    /// Stops the server, runs `between` on the stopped server's folder (`plan/` and
    /// `data/`), and starts another on the same plan and data folder, as an admin's
    /// restart does; it listens on new ports (`listening` says which) and keeps a new
    /// record of calls.
    pub async fn restart(&mut self, between: impl FnOnce(&Path)) {
        self.stop.cancel();
        self.stopped().await;
        between(self.dir.path());
        self.calls = Arc::new(CallLog::new());
        let options = RunOptions {
            call_log: Some(self.calls.clone()),
        };
        self.stop = CancellationToken::new();
        let (ready, listening) = tokio::sync::oneshot::channel();
        self.task = Some(tokio::spawn(server::run_with(
            self.config.clone(),
            options,
            self.stop.clone(),
            Some(ready),
        )));
        self.listening = within("the restarted server to listen", listening)
            .await
            .expect("the server starts again");
        self.cookie = sign_in(self.listening.http).await;
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// sipp as 101 calling `service` once with `scenario` (in `runtime/tests/sipp/`).
    pub fn sipp(&self, scenario: &str, service: &str) -> Child {
        let port = free_port().to_string();
        let media = (free_port() & !1).to_string();
        let scenario = repo().join("runtime/tests/sipp").join(scenario);
        Command::new(SIPP)
            .arg(self.listening.sip.to_string())
            .arg("-sf")
            .arg(&scenario)
            .args(["-s", service, "-au", "101", "-ap", "secret", "-m", "1"])
            .args(["-i", "127.0.0.1", "-p", &port, "-mp", &media])
            .args([
                "-nostdin",
                "-timeout",
                "90s",
                "-timeout_error",
                "-trace_err",
            ])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp runs (apt-get install sip-tester)")
    }

    /// Waits for sipp to end, and asserts its one call succeeded.
    pub async fn sipp_ok(&self, mut child: Child, what: &str) {
        let status = wait_child(&mut child, what).await;
        if !status.success() {
            let mut errors = String::new();
            for entry in std::fs::read_dir(self.dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path.to_string_lossy().ends_with("_errors.log") {
                    errors.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
            panic!("sipp ({what}) failed with {status}:\n{errors}");
        }
    }

    /// Waits until a live call satisfies `f`; returns it.
    pub async fn live_call(&self, what: &str, f: impl Fn(&CallRecord) -> bool) -> CallRecord {
        within(what, async {
            loop {
                if let Some(c) = self.calls.list().live.into_iter().find(|c| f(c)) {
                    return c;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    /// Waits until the call to `dialled` has ended; returns its record.
    pub async fn ended_call(&self, dialled: &str) -> CallRecord {
        within(&format!("the call to {dialled} to end"), async {
            loop {
                if let Some(c) = self
                    .calls
                    .list()
                    .recent
                    .into_iter()
                    .find(|c| c.dialled == dialled)
                {
                    return c;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    /// What the server holds now, from `GET /api/debug/counts`.
    pub async fn held(&self) -> serde_json::Value {
        self.get_json("/api/debug/counts").await
    }

    /// `GET path` of the API as the admin: its JSON body.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.listening.http;
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\n\
             Connection: close\r\n\r\n",
            self.cookie
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
    }

    /// Waits until the server holds no call, media port, call dialog or busy line:
    /// what every call left behind once it ended. Fails naming what is still held.
    pub async fn nothing_held(&self) {
        let mut last = serde_json::Value::Null;
        let settled = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                last = self.held().await;
                let zero = |v: &serde_json::Value| v.as_u64() == Some(0);
                if zero(&last["calls"])
                    && zero(&last["media_ports"])
                    && zero(&last["sip"]["dialogs"])
                    && zero(&last["sip"]["busy_lines"])
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(settled.is_ok(), "still held after the calls ended: {last}");
    }

    /// Waits for the server to stop (after `stop`, or on its own error).
    pub async fn stopped(&mut self) {
        let task = self.task.take().expect("the server runs");
        within("the server to stop", task)
            .await
            .expect("the server task")
            .expect("the server stops cleanly");
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Opens the store at `path` on a plain thread (never a tokio one) and runs `f` on it.
pub fn read_store<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce(&mut SqliteStore) -> T + Send + 'static,
) -> T {
    let path = path.to_path_buf();
    std::thread::spawn(move || f(&mut SqliteStore::open(&path).expect("the store opens")))
        .join()
        .expect("the store thread of the test")
}

pub async fn wait_child(child: &mut Child, what: &str) -> ExitStatus {
    within(what, async {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A UDP port nobody holds right now.
pub fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
