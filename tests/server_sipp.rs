//! `switchboard run` driven by sipp, as phones and a carrier would drive it: register with
//! digest auth, call 999 and enter the PIN by RFC 4733, call the main menu from the trunk
//! and press a key, leave a voicemail and find the WAV, its record and the NOTIFY, hear it
//! and delete it at 999, save a changed plan during a call, save a broken one, and stop
//! on SIGTERM.
//!
//! One server serves the whole story, step by step, so each step sees the office the
//! steps before it left. Every wait has a deadline; nothing sleeps and hopes.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{SIPP, Server, edit, free_port, office_copy, repo, trace_has, wait_child, wait_for};
use switchboard_core::store::{Folder, Store};

/// What this story does with the server besides `support`'s basics.
impl Server {
    /// The finished call that dialled `number` (the latest one).
    fn recent_call(&self, number: &str) -> Value {
        let calls = self.json("/api/calls");
        calls["recent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["dialled"] == number)
            .unwrap_or_else(|| panic!("no finished call to {number}: {calls:#}"))
            .clone()
    }
}

#[test]
fn phones_register_call_the_ivr_leave_voicemail_and_plans_reload_during_calls() {
    assert!(
        Path::new(SIPP).exists(),
        "{SIPP} is missing: apt-get install sip-tester (.ci/run does)"
    );
    let dir = office_copy("server");
    // The carrier is sipp on a port of its own: its INVITEs are the trunk's. Office
    // hours depend on the clock, so the copy leaves the after-hours route out.
    let carrier = free_port();
    edit(
        &dir.join("dialplans/office.dial"),
        "host      \"sip.carrier.example\"",
        &format!("host      \"127.0.0.1:{carrier}\""),
    );
    edit(
        &dir.join("dialplans/routes.dial"),
        "inbound trunk \"main\" when is_after_hours()        -> flow after_hours",
        "",
    );
    let sipp_dir = repo().join("runtime/tests/sipp");
    let scenarios = repo().join("tests/sipp");
    let scenario = |d: &Path, name: &str| d.join(name).to_string_lossy().into_owned();
    let mut server = Server::start(&dir, &["101", "102"], 100);

    // Register with the right password, and be refused with a wrong one.
    server.sipp_ok(&scenario(&sipp_dir, "register.xml"), "101", &[]);
    server.sipp_ok(
        &scenario(&sipp_dir, "register_wrong_password.xml"),
        "101",
        &["-ap", "wrong"],
    );

    // 999: the PIN by RFC 4733 opens the mailbox, and the menu plays.
    let login = scenario(&scenarios, "voicemail_login.xml");
    server.sipp_ok(&login, "999", &["-d", "1500"]);
    let call = server.recent_call("999");
    for step in [
        "play vm-enter-pin",
        "digits \"****\"",
        "mailbox open 101",
        "play vm-main",
    ] {
        assert!(trace_has(&call, step), "{step:?} missing: {call:#}");
    }
    assert!(call["sip_call_id"].as_str().unwrap().contains('@'));
    assert_eq!(call["plan_version"], 1);

    // A call from outside reaches the main menu; 2 is support.
    let carrier = carrier.to_string();
    server.sipp_ok(
        &scenario(&scenarios, "inbound_ivr.xml"),
        "+12605550100",
        &["-p", &carrier, "-d", "1500"],
    );
    let call = server.recent_call("+12605550100");
    for step in [
        "inbound on trunk \"main\"",
        "play main-greeting",
        "-> key 2",
        "queue 801",
    ] {
        assert!(trace_has(&call, step), "{step:?} missing: {call:#}");
    }
    assert_eq!(call["caller"], "+15551230000");

    // *4102: a message left and hung up on is kept, as a WAV and a record, and 102's
    // registered phone gets a message-waiting NOTIFY.
    let phone = free_port().to_string();
    server.sipp_ok(
        &scenario(&scenarios, "register_102.xml"),
        "102",
        &["-au", "102", "-p", &phone],
    );
    let mut lamp = Command::new(SIPP)
        .arg("-sf")
        .arg(scenario(&scenarios, "notify_uas.xml"))
        .args(["-i", "127.0.0.1", "-p", &phone, "-m", "100", "-nostdin"])
        .args(["-trace_msg", "-message_file", "notify.log"])
        .current_dir(&server.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    server.sipp_ok(&scenario(&scenarios, "leave_message.xml"), "*4102", &[]);
    // The phone heard its counts when it registered (0/0; the NOTIFY is repeated until
    // answered, so it reaches this listener too), then the message's NOTIFY: one new.
    let notify_log = server.dir.join("notify.log");
    wait_for(
        "102's message-waiting NOTIFYs",
        Duration::from_secs(30),
        || {
            let log = std::fs::read_to_string(&notify_log).ok()?;
            (log.contains("Voice-Message: 0/0") && log.contains("Voice-Message: 1/0")).then_some(())
        },
    );
    let _ = lamp.kill();
    let _ = lamp.wait();
    let call = server.recent_call("*4102");
    assert!(trace_has(&call, "recorded msg-"), "{call:#}");
    let store =
        switchboard_runtime::sqlite_store::SqliteStore::open(&dir.join("var/switchboard.db"))
            .unwrap();
    let messages = store.messages("102", Folder::New).unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].from, "101");
    let wav = dir
        .join("var/recordings")
        .join(format!("{}.wav", messages[0].recording));
    let reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!((spec.sample_rate, spec.channels), (8000, 1));
    let seconds = reader.duration() as f64 / 8000.0;
    assert!(seconds > 3.0, "the message is only {seconds} s long");

    // 102 hears the message at 999 and deletes it with 7.
    server.sipp_ok(
        &scenario(&scenarios, "listen_delete.xml"),
        "999",
        &["-au", "102", "-d", "1500"],
    );
    let call = server.recent_call("999");
    let heard = format!("play vm-message recording:{}", messages[0].recording);
    for step in [
        "mailbox open 102",
        &heard,
        "mailbox delete",
        "play vm-no-more-messages",
    ] {
        assert!(trace_has(&call, step), "{step:?} missing: {call:#}");
    }
    assert_eq!(store.message_counts("102").unwrap(), (0, 0));
    assert!(!wav.exists(), "the deleted message's WAV is still there");
    drop(store);

    // A plan saved during a call: that call finishes on the old plan, the next call
    // runs on the new one.
    let mut first = server.sipp(&login, "999", &["-d", "6000"]);
    wait_for("the first call to be live", Duration::from_secs(20), || {
        (server.json("/api/calls")["live"].as_array()?.len() == 1).then_some(())
    });
    edit(
        &dir.join("dialplans/voicemail.dial"),
        "ask \"vm-enter-pin\" digits 4..8",
        "ask \"vm-new-pin\" digits 4..8",
    );
    wait_for("version 2 of the plan", Duration::from_secs(20), || {
        (server.json("/api/plan")["version"] == 2).then_some(())
    });
    server.sipp_ok(&login, "999", &["-d", "1500"]);
    let status = wait_child(&mut first, Duration::from_secs(60), "the first call");
    assert!(status.success(), "the call across the reload failed");
    let calls = server.json("/api/calls");
    let recent: Vec<&Value> = calls["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["dialled"] == "999")
        .collect();
    let old = recent
        .iter()
        .find(|c| c["plan_version"] == 1 && trace_has(c, "play vm-enter-pin") && c["id"] != 1);
    let old = old.unwrap_or_else(|| panic!("no call finished on version 1: {calls:#}"));
    assert!(trace_has(old, "mailbox open 101"), "{old:#}");
    let new = recent.iter().find(|c| c["plan_version"] == 2);
    let new = new.unwrap_or_else(|| panic!("no call on version 2: {calls:#}"));
    assert!(trace_has(new, "play vm-new-pin"), "{new:#}");
    assert!(trace_has(new, "mailbox open 101"), "{new:#}");

    // The carrier moves: the plan names its new address, and after the reload its calls
    // are trusted there, with no restart.
    let moved = free_port();
    edit(
        &dir.join("dialplans/office.dial"),
        &format!("host      \"127.0.0.1:{carrier}\""),
        &format!("host      \"127.0.0.1:{moved}\""),
    );
    wait_for("version 3 of the plan", Duration::from_secs(20), || {
        (server.json("/api/plan")["version"] == 3).then_some(())
    });
    let moved = moved.to_string();
    let ivr = scenario(&scenarios, "inbound_ivr.xml");
    wait_for(
        "the carrier's call from its new address",
        Duration::from_secs(20),
        || {
            let mut child = server.sipp(&ivr, "+12605550100", &["-p", &moved, "-d", "1500"]);
            wait_child(&mut child, Duration::from_secs(60), &ivr)
                .success()
                .then_some(())
        },
    );
    let call = server.recent_call("+12605550100");
    assert!(trace_has(&call, "inbound on trunk \"main\""), "{call:#}");
    assert_eq!(call["plan_version"], 3);

    // A broken plan is refused: the version stays, the diagnostics are reported.
    std::fs::write(
        dir.join("dialplans/broken.dial"),
        "flow broken {\n    play \"goodbye\"\n",
    )
    .unwrap();
    let attempt = wait_for(
        "the broken plan to be refused",
        Duration::from_secs(20),
        || {
            let plan = server.json("/api/plan");
            (plan["last_attempt"]["ok"] == false).then_some(plan)
        },
    );
    assert_eq!(attempt["version"], 3);
    assert!(attempt.to_string().contains("broken.dial"), "{attempt:#}");

    // SIGTERM stops the server cleanly.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_child(
        &mut server.child,
        Duration::from_secs(20),
        "the server to stop",
    );
    assert!(status.success(), "the server exited with {status}");
}
