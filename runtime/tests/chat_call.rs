//! Click-to-call (`POST /api/chat/call`) through the whole server on loopback: a person
//! signed in to the web client clicks a number; the server rings their own registered
//! phone (a raw UDP socket) showing that number; they answer; the server calls the
//! number through the plan's route and trunk, where a raw socket plays the provider and
//! answers; each hears the other through the bridge (checked by content); the person
//! hangs up, the provider is sent a BYE, and the server holds nothing afterwards.
//!
//! A person who declines on their phone (603), or lets it ring out, calls nobody and
//! leaves a call record (`/api/cdr`'s store) saying so. A number the extension may not
//! call (premium rate) is refused as a desk call would be: the person hears
//! `not-allowed`, is hung up on, and nothing reaches the provider. No phone registered
//! is a 409; a number no route takes is a 400 saying so. What the person hears while
//! the number rings: `chat_call_tones.rs`. Every wait has a deadline.

mod bridged;
mod click_to_call;
mod live_server;
mod support;

use bridged::{
    CALLEE_BYTE, CALLER_BYTE, dialog_of, next_request, phone_of, pick_up, rtp_target, sdp,
    with_body,
};
use click_to_call::{hear, office, office_for, record_of, soon, talk};
use support::raw::{branch, request};
use switchboard_core::store::HungUpBy;
use tokio::net::UdpSocket;

#[tokio::test]
async fn the_persons_phone_rings_then_the_number_through_the_trunk_and_both_are_bridged() {
    let (live, provider, session) = office().await;
    let agent = phone_of(&live, "101").await;

    let (status, started) = session.call("(260) 555-9876").await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["number"], "+12605559876");
    assert!(started["call_id"].as_u64().is_some(), "{started}");

    // 101's phone rings, showing the number it is about to call, and answers.
    let invite = next_request(&agent, "INVITE").await;
    assert!(
        invite.header("From").contains("+12605559876"),
        "{}",
        invite.0
    );
    let server_for_agent = rtp_target(invite.body());
    agent
        .send(invite.reply_tagged("180 Ringing", "agent"))
        .await;
    let agent_rtp = pick_up(&agent, &invite, "101", "agent").await;
    next_request(&agent, "ACK").await;

    // Only then is the number called, through trunk "main", as 101 would dial it.
    let out = next_request(&provider, "INVITE").await;
    assert!(
        out.start_line().starts_with("INVITE sip:+12605559876@"),
        "{}",
        out.0
    );
    let server_for_carrier = rtp_target(out.body());
    let carrier_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("sip:+12605559876@{}", provider.addr());
    provider
        .send(with_body(
            out.reply_tagged("200 OK", "carrier"),
            &contact,
            &sdp(carrier_rtp.local_addr().unwrap()),
        ))
        .await;
    next_request(&provider, "ACK").await;

    // Each hears the other through the bridge.
    tokio::join!(
        talk(&agent_rtp, server_for_agent, CALLER_BYTE, 25),
        hear(&carrier_rtp, CALLER_BYTE, 5),
    );
    tokio::join!(
        talk(&carrier_rtp, server_for_carrier, CALLEE_BYTE, 25),
        hear(&agent_rtp, CALLEE_BYTE, 5),
    );

    // 101 hangs up: the provider is sent a BYE.
    let leg = dialog_of(&invite, "101", "agent", live.listening.sip);
    agent
        .send(request("BYE", &leg, 2, &branch(), agent.addr(), &[], ""))
        .await;
    let bye = next_request(&provider, "BYE").await;
    provider.send(bye.reply("200 OK")).await;

    let record = live.ended_call("+12605559876").await;
    let trace = record.trace.join("\n");
    for line in [
        "calling +12605559876 through trunk main",
        "+12605559876 through trunk main answered; connected",
    ] {
        assert!(trace.contains(line), "{line:?} missing:\n{trace}");
    }
    assert_eq!(record.caller, "101");
    live.nothing_held().await;
}

#[tokio::test]
async fn a_number_the_extension_may_not_call_is_refused_to_them_and_never_reaches_the_trunk() {
    let (live, provider, session) = office().await;
    let agent = phone_of(&live, "101").await;

    // A 1-900 number: the route takes it, the toll-fraud rules refuse it for 101.
    let (status, started) = session.call("+1 900 555 1234").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    let _rtp = pick_up(&agent, &invite, "101", "agent").await;
    next_request(&agent, "ACK").await;

    // 101 hears why, then is hung up on.
    let bye = next_request(&agent, "BYE").await;
    agent.send(bye.reply("200 OK")).await;
    let record = live.ended_call("+19005551234").await;
    assert!(
        record
            .trace
            .iter()
            .any(|l| l.contains("refused") && l.contains("allow premium")),
        "{:#?}",
        record.trace
    );
    assert!(
        record.prompts.iter().any(|p| p == "not-allowed"),
        "{:#?}",
        record.prompts
    );
    // The call is over, so an INVITE of its would have been sent: none was.
    let mut buffer = vec![0u8; 65_536];
    let reached = provider.socket.try_recv_from(&mut buffer);
    assert!(
        reached.is_err(),
        "the provider got a message: {}",
        reached
            .map(|(n, _)| String::from_utf8_lossy(&buffer[..n]).into_owned())
            .unwrap_or_default()
    );
    live.nothing_held().await;
}

#[tokio::test]
async fn no_registered_phone_is_a_409_and_a_number_no_route_takes_a_400() {
    let (live, _provider, session) = office().await;
    let (status, refused) = session.call("(260) 555-9876").await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("your phone is not registered"),
        "{refused}"
    );

    let _agent = phone_of(&live, "101").await;
    let (status, refused) = session.call("+44 20 7946 0958").await;
    assert_eq!(status, 400, "{refused}");
    let words = refused["error"].as_str().unwrap();
    assert!(
        words.contains("no dial route") && words.contains("+442079460958"),
        "{words}"
    );
    let (status, refused) = session.call("not a number").await;
    assert_eq!(status, 400, "{refused}");
    live.nothing_held().await;
}

#[tokio::test]
async fn a_person_who_declines_on_their_phone_calls_nobody_and_the_record_says_so() {
    let (live, provider, session) = office().await;
    let agent = phone_of(&live, "101").await;
    let (status, started) = session.call("2605559876").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    agent
        .send(invite.reply_tagged("603 Decline", "agent"))
        .await;
    next_request(&agent, "ACK").await;
    let declined = "101 declined on their phone (603): +12605559876 was not called";
    let record = live.ended_call("+12605559876").await;
    assert_eq!(record.outcome.as_deref(), Some(declined), "{record:#?}");
    let detail = record_of(&live, "+12605559876").await;
    assert_eq!(detail.outcome, declined);
    assert_eq!(detail.caller, "101");
    assert_eq!(detail.hung_up_by, HungUpBy::Caller);
    assert_eq!((detail.answered_ms, detail.answered_by), (None, None));
    let mut buffer = vec![0u8; 65_536];
    assert!(provider.socket.try_recv_from(&mut buffer).is_err());
    live.nothing_held().await;
}

#[tokio::test]
async fn a_person_who_lets_their_phone_ring_out_leaves_a_record_saying_so() {
    // 103's desk rings 2 s for any call, and so for this one.
    let (live, provider, session) = office_for("103", "extension 103 \"Agent\" { ring 2s }").await;
    let agent = phone_of(&live, "103").await;
    let (status, started) = session.call("2605559876").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    agent
        .send(invite.reply_tagged("180 Ringing", "agent"))
        .await;
    let cancel = soon(
        "the CANCEL after 103's ring time",
        next_request(&agent, "CANCEL"),
    )
    .await;
    agent.send(cancel.reply("200 OK")).await;
    agent
        .send(invite.reply_tagged("487 Request Terminated", "agent"))
        .await;
    let detail = record_of(&live, "+12605559876").await;
    assert_eq!(
        detail.outcome,
        "103 did not answer in 2 s: +12605559876 was not called"
    );
    assert_eq!(detail.caller, "103");
    assert_eq!(detail.hung_up_by, HungUpBy::Server);
    assert_eq!(detail.answered_ms, None);
    let mut buffer = vec![0u8; 65_536];
    assert!(provider.socket.try_recv_from(&mut buffer).is_err());
    live.nothing_held().await;
}
