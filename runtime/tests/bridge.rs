//! Desk to desk through the whole server on loopback: 101 dials 102, 102's phone rings
//! and answers, and each hears the other — checked by content, a different byte each
//! way — through the server's bridge; then 102 hangs up and 101's phone is sent a BYE.
//! Both phones are raw UDP sockets speaking SIP and RTP, so every packet is the test's
//! to check. Every wait has a deadline.

mod bridged;
mod live_server;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bridged::{
    CALLEE_BYTE, CALLER_BYTE, answered, dial_branch, next_request, phone_of, pick_up, rtp_target,
    sdp, traced, with_body,
};
use live_server::{Live, read_store};
use support::raw::{Call, Phone, Sip, branch, register, request, signed_in, unregister};
use switchboard_core::store::{HungUpBy, Store};
use switchboard_runtime::server::{RunOptions, store_path};
use tokio::net::UdpSocket;

const PLAN: &str = r#"
dial "{ext:XXX}" -> extension ext             # 600 is the queue

device "001565AABBCC" "Yealink T46U" { hot_desk }

# 103 rings for a second only, then its voicemail answers.
extension 103 "Short" { voicemail; ring 1s }

queue 600 "Sales" {
    agents 102
    ring   20s
    then   -> voicemail 101
}
"#;

/// RTP packets of 160 `byte`s, every 20 ms, from `socket` to `to`, until `count`.
async fn talk(socket: &UdpSocket, to: SocketAddr, byte: u8, count: u16) {
    for n in 0..count {
        let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        packet[2..4].copy_from_slice(&(1000 + n).to_be_bytes());
        packet[4..8].copy_from_slice(&(u32::from(n) * 160).to_be_bytes());
        packet.extend(std::iter::repeat_n(byte, 160));
        socket.send_to(&packet, to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many packets arriving on `socket` carry `byte` as their audio, counting until
/// `enough` of them came (or the deadline fails the test); a packet with the other
/// side's own byte fails it at once.
async fn hear(socket: &UdpSocket, byte: u8, not: u8, enough: usize) -> usize {
    live_server::within("the other side's audio", async {
        let mut buffer = [0u8; 2048];
        let mut heard = 0;
        while heard < enough {
            let (n, _) = socket.recv_from(&mut buffer).await.unwrap();
            let payload = &buffer[12..n];
            assert!(
                !payload.iter().all(|b| *b == not),
                "a phone heard its own audio back"
            );
            if n == 12 + 160 && payload.iter().all(|b| *b == byte) {
                heard += 1;
            }
        }
        heard
    })
    .await
}

#[tokio::test]
async fn desk_to_desk_each_hears_the_other_and_a_hang_up_ends_both_legs() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;

    // 102's phone registers.
    let callee = Phone::new(server).await;
    assert_eq!(register(&callee, "102", "secret").await, 200);
    let callee_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();

    // 101 calls 102.
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;

    // 102's phone rings, then answers with its own RTP address.
    let invite = next_request(&callee, "INVITE").await;
    assert!(invite.header("From").contains("sip:101@"), "{}", invite.0);
    let server_for_callee = rtp_target(invite.body());
    callee
        .send(invite.reply_tagged("180 Ringing", "callee"))
        .await;
    let ringing = caller.response(&call.call_id, "2 INVITE").await;
    assert_eq!(ringing.status(), 180, "the caller hears the ringing");
    let answer = sdp(callee_rtp.local_addr().unwrap());
    let contact_102 = format!("sip:102@{}", callee.addr());
    callee
        .send(with_body(
            invite.reply_tagged("200 OK", "callee"),
            &contact_102,
            &answer,
        ))
        .await;
    next_request(&callee, "ACK").await;

    // The caller is answered and acknowledges.
    let (_, ok) = answered(&caller, call).await;
    let server_for_caller = rtp_target(ok.body());

    // Both talk at once; each hears the other's byte and never its own.
    let caller_talks = talk(&caller_rtp, server_for_caller, CALLER_BYTE, 50);
    let callee_talks = talk(&callee_rtp, server_for_callee, CALLEE_BYTE, 50);
    let caller_hears = hear(&caller_rtp, CALLEE_BYTE, CALLER_BYTE, 20);
    let callee_hears = hear(&callee_rtp, CALLER_BYTE, CALLEE_BYTE, 20);
    let ((), (), heard_by_caller, heard_by_callee) =
        tokio::join!(caller_talks, callee_talks, caller_hears, callee_hears);
    assert_eq!((heard_by_caller, heard_by_callee), (20, 20));

    // 102 hangs up: 101's phone gets a BYE.
    let mut leg = Call::new("102", "101", server);
    leg.call_id = invite.header("Call-ID");
    leg.tag = "callee".into();
    leg.to_tag = Some(
        invite
            .header("From")
            .split(";tag=")
            .nth(1)
            .unwrap()
            .to_string(),
    );
    leg.from = "102".into();
    let bye_102 = request("BYE", &leg, 1, &branch(), callee.addr(), &[], "");
    callee.send(bye_102).await;
    let bye = next_request(&caller, "BYE").await;
    caller.send(bye.reply("200 OK")).await;
    let record = live.ended_call("102").await;
    let outcome = record.outcome.unwrap_or_default();
    assert!(outcome.contains("102 hung up"), "{outcome}");
    // The office keeps the call's record: who answered, and who hung up.
    let details = live_server::within("the call's record", async {
        loop {
            let details = read_store(&store_path(&live.data()), |s| {
                s.call_details(0, u64::MAX, 10).unwrap()
            });
            if !details.is_empty() {
                return details;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let detail = &details[0];
    assert_eq!(
        (detail.caller.as_str(), detail.dialled.as_str()),
        ("101", "102")
    );
    assert_eq!(detail.answered_by.as_deref(), Some("102"));
    assert_eq!(detail.hung_up_by, HungUpBy::Callee);
    assert!(
        detail
            .answered_ms
            .is_some_and(|a| a >= detail.started_ms && a <= detail.ended_ms)
    );
    // Both legs ended: no call, port, dialog or lit line is left behind.
    live.nothing_held().await;
}

/// A restart (an upgrade, a config change) does not leave a registered phone silent until
/// its next REGISTER, which may be two hours away: the server keeps its registration and
/// rings it at once. A phone that unregistered just before the stop stays unregistered,
/// and one whose extension left the plan while the server was down is not put back.
#[tokio::test]
async fn a_phone_registered_before_a_restart_rings_after_it() {
    let mut live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let desk = Phone::new(live.listening.sip).await;
    assert_eq!(register(&desk, "102", "secret").await, 200);
    let gone = Phone::new(live.listening.sip).await;
    assert_eq!(register(&gone, "101", "secret").await, 200);
    assert_eq!(unregister(&gone, "101", "secret").await, 200);
    let removed = Phone::new(live.listening.sip).await;
    assert_eq!(register(&removed, "103", "secret").await, 200);

    live.restart(|dir| {
        let office = dir.join("plan/office.dial");
        let plan = std::fs::read_to_string(&office).unwrap();
        let without_103 = plan.replace(r#"extension 103 "Short" { voicemail; ring 1s }"#, "");
        assert_ne!(plan, without_103, "103 is taken out of the plan");
        std::fs::write(&office, without_103).unwrap();
    })
    .await;

    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    assert!(invite.header("From").contains("sip:101@"), "{}", invite.0);
    let office = live.get_json("/api/office").await;
    let users: Vec<&str> = office["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert_eq!(
        users,
        ["102"],
        "only the phone still registered is back: {office}"
    );
}

/// A new password, even set by `switchboard user set-password` beside the running server
/// (another connection to the store), forgets the phones registered with the old one:
/// a stolen phone stops ringing at once, here and after a restart. The phone that is
/// given the new password registers again.
#[tokio::test]
async fn a_new_password_forgets_the_phones_registered_with_the_old_one() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let desk = Phone::new(live.listening.sip).await;
    assert_eq!(register(&desk, "102", "secret").await, 200);
    let registered = |office: &serde_json::Value| {
        office["registrations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["user"] == "102")
    };
    assert!(registered(&live.get_json("/api/office").await));

    let db = switchboard_runtime::server::store_path(&live.data());
    live_server::read_store(&db, |s| {
        s.set_password("102", "switchboard", "a new secret")
            .unwrap()
    });
    live_server::within("102's phone to be forgotten", async {
        while registered(&live.get_json("/api/office").await) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let kept = live_server::read_store(&db, |s| s.saved_registrations(0).unwrap());
    assert!(kept.is_empty(), "nothing kept for the next start: {kept:?}");

    assert_eq!(
        register(&desk, "102", "secret").await,
        403,
        "the old one is refused"
    );
    assert_eq!(register(&desk, "102", "a new secret").await, 200);
    assert!(registered(&live.get_json("/api/office").await));
}

#[tokio::test]
async fn both_phones_of_an_extension_ring_the_first_answer_wins_and_the_other_is_cancelled() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;
    let desk = phone_of(&live, "102").await;
    let softphone = phone_of(&live, "102").await;
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let at_desk = next_request(&desk, "INVITE").await;
    let at_softphone = next_request(&softphone, "INVITE").await;
    softphone
        .send(at_softphone.reply_tagged("180 Ringing", "soft"))
        .await;
    // The desk phone answers first.
    let _desk_rtp = pick_up(&desk, &at_desk, "102", "desk").await;
    // The softphone is cancelled; it ends its INVITE with 487.
    let cancel = next_request(&softphone, "CANCEL").await;
    softphone.send(cancel.reply("200 OK")).await;
    softphone
        .send(at_softphone.reply_tagged("487 Request Terminated", "soft"))
        .await;
    answered(&caller, call).await;
    traced(&live, "102", "answered").await;
}

#[tokio::test]
async fn a_caller_who_gives_up_while_it_rings_cancels_the_phone() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, invite_branch) = dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    desk.send(invite.reply_tagged("180 Ringing", "desk")).await;
    assert_eq!(
        caller.response(&call.call_id, "2 INVITE").await.status(),
        180
    );
    // The caller hangs up: a CANCEL of its INVITE.
    caller
        .send(request(
            "CANCEL",
            &call,
            2,
            &invite_branch,
            caller.addr(),
            &[],
            "",
        ))
        .await;
    let cancel = next_request(&desk, "CANCEL").await;
    desk.send(cancel.reply("200 OK")).await;
    desk.send(invite.reply_tagged("487 Request Terminated", "desk"))
        .await;
    let record = live.ended_call("102").await;
    let outcome = record.outcome.unwrap_or_default();
    assert!(outcome.contains("hung up"), "{outcome}");
}

#[tokio::test]
async fn a_busy_phone_sends_the_caller_to_voicemail() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    desk.send(invite.reply_tagged("486 Busy Here", "desk"))
        .await;
    // The plan's busy path: 102's voicemail answers the caller.
    answered(&caller, call).await;
    traced(&live, "102", "busy").await;
}

#[tokio::test]
async fn a_queue_rings_its_logged_in_agents_phone_and_connects_it() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    read_store(&store_path(&live.data()), |s| {
        s.set_queue_logged_in("102", "600", true).unwrap()
    });
    let server = live.listening.sip;
    let agent = phone_of(&live, "102").await;
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "600", caller_rtp.local_addr().unwrap()).await;
    // The queue answers at once, to play hold music while the agents ring.
    answered(&caller, call).await;
    let invite = next_request(&agent, "INVITE").await;
    assert!(invite.header("To").contains("sip:102@"), "{}", invite.0);
    let _agent_rtp = pick_up(&agent, &invite, "102", "agent").await;
    traced(&live, "600", "102 answered").await;
}

#[tokio::test]
async fn a_hot_desk_phone_rings_for_the_extension_logged_in_on_it() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    read_store(&store_path(&live.data()), |s| {
        s.set_hot_desk(live_server::HOT_DESK_PHONE, Some("102"))
            .unwrap()
    });
    let server = live.listening.sip;
    let hot_desk = Phone::new(server).await;
    assert_eq!(
        register(&hot_desk, live_server::HOT_DESK_PHONE, "secret").await,
        200
    );
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&hot_desk, "INVITE").await;
    let _phone_rtp = pick_up(&hot_desk, &invite, live_server::HOT_DESK_PHONE, "desk").await;
    answered(&caller, call).await;
    traced(&live, "102", "answered").await;
}

/// 101 calls 102, whose phone answers; returns the phones, the caller's call (its
/// INVITE acknowledged) and the INVITE the phone got.
async fn connected_call(live: &Live) -> (Phone, Phone, Call, Sip) {
    let call = connected_call_lamp(live, None).await;
    traced(live, "102", "answered").await;
    call
}

#[tokio::test]
async fn the_callers_hang_up_ends_the_phones_leg_too() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let (caller, desk, call, _) = connected_call(&live).await;
    caller
        .send(request("BYE", &call, 3, &branch(), caller.addr(), &[], ""))
        .await;
    let bye = next_request(&desk, "BYE").await;
    desk.send(bye.reply("200 OK")).await;
    let outcome = live.ended_call("102").await.outcome.unwrap_or_default();
    assert!(outcome.contains("the caller hung up"), "{outcome}");
}

#[tokio::test]
async fn a_re_invite_from_the_phone_is_answered_with_the_calls_sdp() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let (_caller, desk, _call, invite) = connected_call(&live).await;
    // The phone puts the call on hold: a re-INVITE in its dialog.
    let mut leg = Call::new("102", "101", live.listening.sip);
    leg.call_id = invite.header("Call-ID");
    leg.tag = "desk".into();
    leg.to_tag = Some(
        invite
            .header("From")
            .split(";tag=")
            .nth(1)
            .unwrap()
            .to_string(),
    );
    let hold = sdp("127.0.0.1:7000".parse().unwrap()).replace("a=sendrecv", "a=sendonly");
    let headers = vec![
        format!("Contact: <sip:102@{}>", desk.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    let answer = desk.ask("INVITE", &leg, 5, &headers, &hold).await;
    assert_eq!(answer.status(), 200, "{}", answer.0);
    assert_eq!(rtp_target(answer.body()), rtp_target(invite.body()));
}

#[tokio::test]
async fn a_phone_that_does_not_answer_in_its_ring_time_goes_to_voicemail() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;
    let desk = Phone::new(server).await;
    assert_eq!(register(&desk, "103", "secret").await, 200);
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "103", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    desk.send(invite.reply_tagged("180 Ringing", "desk")).await;
    // Nobody picks up: after the plan's ring time the phone is cancelled.
    let cancel = next_request(&desk, "CANCEL").await;
    desk.send(cancel.reply("200 OK")).await;
    desk.send(invite.reply_tagged("487 Request Terminated", "desk"))
        .await;
    answered(&caller, call).await;
    traced(&live, "103", "nobody answered in time").await;
}

/// The next NOTIFY to `phone` in the subscription `call_id`, answered 200: its line
/// state (`early`, `confirmed`, `terminated`).
async fn next_line_state(phone: &Phone, call_id: &str) -> String {
    loop {
        let message = phone.next(call_id).await;
        if message.method() != "NOTIFY" {
            continue;
        }
        phone.send(message.reply("200 OK")).await;
        assert_eq!(message.header("Event"), "dialog");
        assert_eq!(
            message.header("Content-Type"),
            "application/dialog-info+xml"
        );
        let body = message.body();
        let state = body
            .split("<state>")
            .nth(1)
            .and_then(|s| s.split("</state>").next())
            .unwrap_or_else(|| panic!("no state in {body}"));
        return state.to_string();
    }
}

#[tokio::test]
async fn a_busy_lamp_sees_the_line_ring_talk_and_go_idle() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;
    // 103's phone watches 102's line.
    let watcher = Phone::new(server).await;
    let mut subscription = Call::new("103", "102", server);
    subscription.from = "103".into();
    let headers = vec![
        "Event: dialog".to_string(),
        "Expires: 600".to_string(),
        format!("Contact: <sip:103@{}>", watcher.addr()),
        "Accept: application/dialog-info+xml".to_string(),
    ];
    let signed = signed_in(
        &watcher,
        "SUBSCRIBE",
        &subscription,
        &headers,
        "",
        "103",
        "secret",
    )
    .await;
    let accepted = watcher
        .ask("SUBSCRIBE", &subscription, 2, &signed, "")
        .await;
    assert_eq!(accepted.status(), 200, "{}", accepted.0);
    let lamp = subscription.call_id.clone();
    assert_eq!(next_line_state(&watcher, &lamp).await, "terminated");

    // 101 calls 102: the lamp shows it ringing, then talking, then idle again.
    let (caller, desk, _call, invite) = connected_call_lamp(&live, Some((&watcher, &lamp))).await;
    assert_eq!(next_line_state(&watcher, &lamp).await, "confirmed");
    let mut leg = Call::new("102", "101", server);
    leg.call_id = invite.header("Call-ID");
    leg.tag = "desk".into();
    leg.to_tag = Some(
        invite
            .header("From")
            .split(";tag=")
            .nth(1)
            .unwrap()
            .to_string(),
    );
    desk.send(request("BYE", &leg, 1, &branch(), desk.addr(), &[], ""))
        .await;
    let bye = next_request(&caller, "BYE").await;
    caller.send(bye.reply("200 OK")).await;
    assert_eq!(next_line_state(&watcher, &lamp).await, "terminated");
}

/// `connected_call`, checking on the way, when a `lamp` watches (its phone and its
/// subscription's Call-ID), that it showed the line ringing before the phone answered.
async fn connected_call_lamp(
    live: &Live,
    lamp: Option<(&Phone, &str)>,
) -> (Phone, Phone, Call, Sip) {
    let server = live.listening.sip;
    let desk = phone_of(live, "102").await;
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (call, _) = dial_branch(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    if let Some((watcher, lamp)) = lamp {
        assert_eq!(next_line_state(watcher, lamp).await, "early");
    }
    pick_up(&desk, &invite, "102", "desk").await;
    let (acked, _) = answered(&caller, call).await;
    (caller, desk, acked, invite)
}

#[tokio::test]
async fn a_bridged_call_whose_phones_both_go_silent_is_hung_up() {
    let live = Live::start_configured(
        PLAN,
        Duration::from_secs(5),
        RunOptions::default(),
        |config| config.media_timeout = Duration::from_millis(500),
    )
    .await;
    // Connected, and then neither phone sends a packet (both lost their network).
    let (caller, desk, _call, _invite) = connected_call(&live).await;
    let bye_to_caller = next_request(&caller, "BYE").await;
    caller.send(bye_to_caller.reply("200 OK")).await;
    let bye_to_desk = next_request(&desk, "BYE").await;
    desk.send(bye_to_desk.reply("200 OK")).await;
    let outcome = live.ended_call("102").await.outcome.unwrap_or_default();
    assert!(outcome.contains("no media from either phone"), "{outcome}");
}
