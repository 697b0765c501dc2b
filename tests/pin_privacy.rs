//! A PIN change on the real server, from a phone that types as quickly as people do:
//! afterwards the new PIN opens the mailbox, and no digit of it shows anywhere a person
//! or another program can look — the call traces of `/api/calls`, the status page, and
//! the server's log.

mod support;

use std::path::Path;
use std::time::Duration;
use support::{SIPP, Server, office_copy, repo, trace_has, wait_for};
use switchboard_core::store::Store;

/// Five digits: no port number (at most 65535) can hold it, so finding it anywhere in
/// the output can only mean the PIN leaked.
const NEW_PIN: &str = "97531";

#[test]
fn a_pin_change_shows_no_digit_in_any_trace_log_or_page() {
    assert!(
        Path::new(SIPP).exists(),
        "{SIPP} is missing: apt-get install sip-tester (.ci/run does)"
    );
    let dir = office_copy("pin_privacy");
    let server = Server::start(&dir, &["101"], 100);
    let scenario = repo().join("tests/sipp/change_pin.xml");
    server.sipp_ok(&scenario.to_string_lossy(), "999", &["-d", "1500"]);

    let call = wait_for(
        "the PIN change in a finished call",
        Duration::from_secs(20),
        || server.call_with("recent", "999", "mailbox set_pin"),
    );
    for step in ["mailbox open 101", "play vm-new-pin", "play vm-repeat-pin"] {
        assert!(trace_has(&call, step), "{step:?} missing: {call:#}");
    }
    let store =
        switchboard_runtime::sqlite_store::SqliteStore::open(&dir.join("var/switchboard.db"))
            .unwrap();
    assert_eq!(store.check_pin("101", NEW_PIN).unwrap(), Some(true));
    drop(store);

    let calls = server.get("/api/calls").expect("/api/calls answers");
    let page = server.get("/status").expect("the status page answers");
    assert!(
        page.contains("mailbox set_pin"),
        "the page shows the traces: {page}"
    );
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap();
    for (place, text) in [
        ("/api/calls", &calls),
        ("the status page", &page),
        ("the log", &log),
    ] {
        assert!(
            !text.contains(NEW_PIN),
            "the new PIN shows in {place}:\n{text}"
        );
    }
}
