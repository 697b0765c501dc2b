//! Debian's baresip (1.0.0 on libre 1.1.0), a phone nobody here wrote, against
//! `switchboard run` on its defaults: SIP bound to every interface, the default digest
//! challenge. Two of them call each other through the server, each sending a tone of
//! its own (`ausine`), and each hears the other's (`sndfile` writes what it heard). baresip registers as 102, subscribes to its message-waiting lamp (RFC
//! 3842; its account says `mwi=yes`), and the lamp lights when 101 leaves 102 a message
//! by `*4102` (sipp). On the same server a call from a phone on loopback is told
//! 127.0.0.1 in Contact and SDP (sipp checks the 200 it gets).
//!
//! baresip runs headless from a config folder made here: `aubridge` stands in for a
//! sound card, and the test drives it over `ctrl_tcp` (netstrings of JSON commands,
//! answered with responses and events such as `REGISTER_OK` and `MWI_NOTIFY`). Its
//! account is created by command once baresip is running, not from its `accounts`
//! file: baresip 1.0.0's mwi module re-subscribes in an endless loop when a
//! registration completes before a 1 ms timer it starts at load time has fired
//! (`modules/mwi/mwi.c`, `tmr_handler` appends to the list it walks), which a server
//! answering within a millisecond on loopback can trigger. That loop is the
//! "119,447 SUBSCRIBEs in two minutes" of issue 8; the server answers it with 503 and
//! `Retry-After` past its per-address rate, but cannot stop it. Every wait has a
//! deadline.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::baresip::{BARESIP, Baresip, heard, hears_tone};
use support::{PASSWORD, Server, office_copy, repo, wait_for};

/// Whether `message` is a message-waiting event whose summary holds every one of `lines`.
fn lamp(message: &Value, lines: &[&str]) -> bool {
    message["type"] == "MWI_NOTIFY"
        && message["param"]
            .as_str()
            .is_some_and(|body| lines.iter().all(|l| body.contains(l)))
}

#[test]
fn baresip_registers_on_the_defaults_and_its_subscribed_lamp_lights_for_a_message() {
    assert!(
        Path::new(BARESIP).exists(),
        "{BARESIP} is missing: apt-get install baresip (.ci/run does)"
    );
    let dir = office_copy("baresip");
    let server = Server::start_on(&dir, &["101", "102"], 40, "0.0.0.0");

    // A phone on loopback is told 127.0.0.1, not the machine's LAN address.
    let scenarios = repo().join("tests/sipp");
    server.sipp_ok(
        &scenarios.join("local_address.xml").to_string_lossy(),
        "999",
        &[],
    );

    let mut phone = Baresip::start(&dir);
    // One command answered first: baresip's event loop has run, and with it the mwi
    // module's start-up timer (see the top of this file).
    phone.command("uafind", "nobody");
    let created = phone.command(
        "uanew",
        &format!(
            "<sip:102@127.0.0.1:{}>;auth_pass={PASSWORD};regint=600;mwi=yes",
            server.sip
        ),
    );
    assert_eq!(created["ok"], true, "{created}");
    phone.wait_message("REGISTER_OK", |m| m["type"] == "REGISTER_OK");
    let out = phone.printed();
    assert!(out.contains("algorithm=MD5"), "{out}");
    assert!(
        !out.contains("SHA-256"),
        "the default challenge offers MD5 alone, which this baresip needs:\n{out}"
    );

    // It subscribes and hears the lamp's state at once: off.
    phone.wait_message("an unlit lamp", |m| lamp(m, &["Messages-Waiting: no"]));
    let out = phone.printed();
    assert!(out.contains("Subscription-State: active;expires="), "{out}");

    // 101 leaves 102 a message; the lamp lights in the subscription.
    server.sipp_ok(
        &scenarios.join("leave_message.xml").to_string_lossy(),
        "*4102",
        &[],
    );
    phone.wait_message("a lit lamp", |m| {
        lamp(m, &["Messages-Waiting: yes", "Voice-Message: 1/0"])
    });
    let subscribes = phone.printed().matches("\nSUBSCRIBE sip:").count();
    assert!(
        (1..=2).contains(&subscribes),
        "baresip subscribed {subscribes} times (a 401, then with credentials)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_baresips_call_each_other_through_the_server_and_each_hears_the_others_tone() {
    assert!(
        Path::new(BARESIP).exists(),
        "{BARESIP} is missing: apt-get install baresip (.ci/run does)"
    );
    let dir = office_copy("baresip-call");
    let server = Server::start(&dir, &["101", "102"], 40);
    let mut alice = Baresip::start_as(&dir, "alice", Some(440), 1);
    let mut bob = Baresip::start_as(&dir, "bob", Some(1000), 2);
    for (phone, user, extra) in [
        (&mut alice, "101", ""),
        (&mut bob, "102", ";answermode=auto"),
    ] {
        phone.command("uafind", "nobody"); // see the top of this file
        let created = phone.command(
            "uanew",
            &format!(
                "<sip:{user}@127.0.0.1:{}>;auth_pass={PASSWORD};regint=600{extra}",
                server.sip
            ),
        );
        assert_eq!(created["ok"], true, "{created}");
        phone.wait_message("REGISTER_OK", |m| m["type"] == "REGISTER_OK");
    }
    // Alice (101) dials 102; Bob's baresip answers by itself.
    alice.command("dial", &format!("sip:102@127.0.0.1:{}", server.sip));
    alice.wait_message("the call established", |m| m["type"] == "CALL_ESTABLISHED");
    bob.wait_message("the call established", |m| m["type"] == "CALL_ESTABLISHED");
    // Two seconds of conversation: sndfile is writing what each one hears.
    wait_for(
        "two seconds of audio at Bob's",
        Duration::from_secs(20),
        || {
            let dump = std::fs::read_dir(dir.join("bob/dump")).ok()?;
            let bytes: u64 = dump
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum();
            (bytes > 2 * 2 * 16_000 + 200).then_some(())
        },
    );
    alice.command("hangup", "");
    bob.wait_message("the call closed", |m| m["type"] == "CALL_CLOSED");
    // Each heard the other's tone, not its own (and not silence).
    for (who, theirs, own) in [("alice", 1000.0, 440.0), ("bob", 440.0, 1000.0)] {
        let audio = heard(&dir.join(who));
        if let Err(e) = hears_tone(&audio, 8000, theirs, own) {
            panic!("{who} heard {e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
