//! The web editor and the people's web client in a real headless Chromium against a real
//! `switchboard run`: this test starts the server on a copy of the shipped plan (with an
//! admin password set through `switchboard admin set-password`, and 101's and 102's
//! through `switchboard user set-password`, which sets the phone's and the web's) and runs the
//! browser tests in `editor/tests/` (`node editor/tests/run.mjs`, playwright-core driving
//! Debian's chromium); each of them says what it checks at its top.
//!
//! The chat tests need a website on another origin: run.mjs serves
//! `editor/tests/fixtures/` at `SITE_URL` (a port picked here), which the config lets
//! open the live chat (`chat.livechat.allowed-origins`). The plan's copy sends live chats
//! to queue 800 (Sales), whose agent 101 is signed in to the client.
//!
//! Screenshots the tests take go to this run's temp folder; `UPDATE_SCREENSHOTS=1` writes
//! them to `docs/` instead, for the manual.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{ADMIN, PASSWORD, Server, edit, free_port, office_copy, repo, wait_child};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The whole run; each browser test has its own limit (run.mjs's TEST_TIMEOUT_MS).
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[test]
fn the_editor_works_in_a_browser() {
    let editor = repo().join("editor");
    assert!(
        editor.join("node_modules/playwright-core").is_dir(),
        "editor/node_modules is missing: run `npm ci` in editor/ (it installs playwright-core \
         and esbuild from package-lock.json; .ci/run does)"
    );
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "`node` does not run: install Node.js 20 or later (.ci/run does)"
    );

    let dir = office_copy("editor-browser");
    // The test website's origin: `localhost`, where the server is `127.0.0.1`, so the two
    // are different origins as a real site and a real office are.
    let site_url = format!("http://localhost:{}", free_port());
    // Every browser test's visitor comes from 127.0.0.1, so the per-network cap on new
    // chats (5 in 10 minutes by default) is raised as an office behind shared addresses
    // would raise it; the cap itself is tested in `runtime/tests/livechat_abuse.rs`.
    std::fs::write(
        dir.join("config.yaml"),
        format!(
            "chat:\n  livechat:\n    office-name: Example Dental\n    allowed-origins:\n      - {site_url}\n    per-network:\n      new-chats-per-10-minutes: 100\n"
        ),
    )
    .unwrap();
    edit(
        &dir.join("dialplans/chat.dial"),
        "chat livechat                               -> queue 801",
        "chat livechat                               -> queue 800",
    );
    let server = Server::start(&dir, &["101", "102"], 10);
    let screenshots = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        repo().join("docs")
    } else {
        dir.join("screenshots")
    };
    let output = dir.join("browser-tests.log");
    let log = std::fs::File::create(&output).unwrap();
    let mut run = Command::new("node")
        .arg(editor.join("tests/run.mjs"))
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.http))
        .env("ADMIN_USER", ADMIN)
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("CHROMIUM", CHROMIUM)
        .env("SIP_ADDR", format!("127.0.0.1:{}", server.sip))
        .env("SITE_URL", &site_url)
        .env("PERSON_PASSWORD", PASSWORD)
        .env("SCREENSHOT_DIR", &screenshots)
        .env("FAILURE_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("node runs editor/tests/run.mjs");
    let status = wait_child(&mut run, RUN_LIMIT, "the browser tests to finish");
    let report = std::fs::read_to_string(&output).unwrap_or_default();
    println!("{report}");
    assert!(
        status.success(),
        "the browser tests failed ({status}):\n{report}\nthe server's log: {}",
        dir.join("server.log").display()
    );
}
