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

use std::path::Path;
use std::time::{Duration, Instant};
use support::linphonec::{LINPHONEC, Linphone};
use support::{PASSWORD, Server, office_copy, trace_has, wait_for};

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
