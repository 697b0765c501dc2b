//! A small office's plan folder on disk, the server's state over it (a real SQLite store)
//! and a signed-in admin, for the editor's router tests: files, check-as-you-type,
//! events. Include it with `mod signed_in; mod editor_fixture;`.
#![allow(dead_code)] // Each test file uses its own part of it.

use crate::signed_in::{self, Reply, SignedIn};
use axum::Router;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use tempfile::TempDir;

/// Two extensions and the routes to them.
pub const OFFICE: &str = "\
extension 100 \"Front Desk\"
extension 101 \"Alice\"

dial \"{ext:XXX}\" -> extension ext
dial \"500\" -> flow main_menu
";

/// Two flows, one going to the other.
pub const IVR: &str = "\
flow main_menu {
    answer
    play \"welcome\"
    goto after_hours
}

flow after_hours {
    play \"goodbye\"
    hangup
}
";

/// The prompts the plan plays, its own and the system's (`prompts/en/*.wav`).
pub const PROMPTS: &[&str] = &[
    "welcome",
    "goodbye",
    "beep",
    "vm-unavailable",
    "vm-is-unavailable",
    "vm-saved",
];

pub struct Editor {
    pub dir: TempDir,
    /// The plan folder.
    pub plans: PathBuf,
    pub state: AppState,
    pub app: Router,
    pub admin: SignedIn,
}

impl Editor {
    /// `office.dial` and `ivr.dial` in a plan folder, loaded, with an admin signed in.
    pub async fn new() -> Editor {
        Editor::with_files(&[("office.dial", OFFICE), ("ivr.dial", IVR)]).await
    }

    pub async fn with_files(files: &[(&str, &str)]) -> Editor {
        let dir = tempfile::tempdir().unwrap();
        let store =
            switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
                .await
                .unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::create_dir_all(prompts.join("en/digits")).unwrap();
        let digits = (0..10).map(|d| format!("digits/{d}"));
        for p in PROMPTS.iter().map(|p| p.to_string()).chain(digits) {
            std::fs::write(prompts.join("en").join(format!("{p}.wav")), b"").unwrap();
        }
        for (name, text) in files {
            std::fs::write(plans.join(name), text).unwrap();
        }
        let holder = PlanHolder::load_initial(&plans, &prompts).unwrap();
        let plan_holder = Arc::new(holder);
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
            plans: plan_holder,
            calls: Default::default(),
            hosts: Arc::new(HostNames::new(signed_in::HOST.parse().unwrap(), &[])),
            office_changes: store.office_changes(),
            chat_config: Default::default(),
            store,
            live: None,
            auth: Default::default(),
        };
        let admin = signed_in::signed_in(&state).await;
        Editor {
            app: app(state.clone()),
            dir,
            plans,
            state,
            admin,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.admin.get(&self.app, path).await
    }

    pub async fn send(&self, method: &str, path: &str, json: Value) -> Reply {
        self.admin.send(&self.app, method, path, json).await
    }

    /// A request without a session: the same path, no cookie, no CSRF token.
    pub async fn anonymous(&self, method: &str, path: &str, json: Value) -> Reply {
        let mut request = self.admin.request(method, path, json);
        request.headers_mut().remove(axum::http::header::COOKIE);
        request.headers_mut().remove("x-csrf-token");
        signed_in::call(&self.app, request).await
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.plans.join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap()
    }

    /// The plan folder's entries, sorted: to show that nothing was written.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.plans)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Waits until `receiver`'s value satisfies `done`; fails after 10 s saying what was
/// awaited. Wakes on each change, never on a timer.
pub async fn wait_until(
    what: &str,
    receiver: &mut tokio::sync::watch::Receiver<u64>,
    done: impl FnMut(&u64) -> bool,
) -> u64 {
    match tokio::time::timeout(Duration::from_secs(10), receiver.wait_for(done)).await {
        Ok(Ok(value)) => *value,
        Ok(Err(_)) => panic!("the sender went away while waiting for {what}"),
        Err(_) => panic!("gave up after 10 s waiting for {what}"),
    }
}

/// The hex SHA-256 of `text`, as the API names a file's version.
pub fn hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
