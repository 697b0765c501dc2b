//! The edges of a bridged call, through the whole server on loopback with raw UDP phones:
//! a phone answering 200 without SDP, two phones of one extension answering at once, a
//! BYE for a call that is over, and re-INVITEs that cross (glare) on either leg. Each
//! test ends with no call live and every RTP port of its own range free again. Every
//! wait has a deadline.

mod bridged;
mod live_server;
mod support;

use std::time::{Duration, Instant};

use bridged::{
    Bridged, CALLEE_BYTE, CALLER_BYTE, answered, bridged, bridged_between, dial, direction,
    hear_run, music_frames, next_packet, next_request, nothing_left, phone_of, pick_up, re_invite,
    rtp_target, sdp_with, server, talk, traced, with_body,
};
use support::raw::{Call, Phone, Sip, branch, request};
use tokio::net::UdpSocket;

/// `phone` sends `method` in `call` with CSeq `cseq` and an SDP `body`; the response.
async fn ask_with_sdp(phone: &Phone, call: &Call, method: &str, cseq: u32, body: &str) -> Sip {
    let headers = vec![
        format!("Contact: <sip:{}@{}>", call.from, phone.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    phone.ask(method, call, cseq, &headers, body).await
}

/// The branch of the transaction `response` answers: the ACK of a non-2xx final
/// response belongs to the INVITE's transaction and carries its branch (RFC 3261
/// §17.1.1.3).
fn branch_of(response: &Sip) -> String {
    let via = response.header("Via");
    via.split(';')
        .find_map(|p| p.trim().strip_prefix("branch="))
        .unwrap_or_else(|| panic!("no branch in {via}"))
        .to_string()
}

#[tokio::test]
async fn a_phone_answering_without_sdp_is_hung_up_and_the_plan_goes_on() {
    let ports = 30100..=30139;
    let live = server(ports.clone()).await;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    assert!(!invite.body().is_empty(), "our INVITE carries an offer");
    // 200 OK with a Contact but no SDP: RFC 3261 §13.2.1 wants the answer in it.
    let contact = format!(
        "Contact: <sip:102@{}>\r\nContent-Length: 0\r\n\r\n",
        desk.addr()
    );
    desk.send(invite.reply_tagged("200 OK", "desk").replacen(
        "Content-Length: 0\r\n\r\n",
        &contact,
        1,
    ))
    .await;
    // The 200 is acknowledged (it made a dialog), then the dialog is ended.
    next_request(&desk, "ACK").await;
    let bye = next_request(&desk, "BYE").await;
    desk.send(bye.reply("200 OK")).await;
    // The call goes on as the plan says when the phone fails: to 102's voicemail.
    let (call, _) = answered(&caller, call).await;
    traced(&live, "102", "answered without SDP").await;
    traced(&live, "102", "voicemail").await;
    caller
        .send(request("BYE", &call, 3, &branch(), caller.addr(), &[], ""))
        .await;
    live.ended_call("102").await;
    let record = live.ended_call("102").await;
    assert_eq!(record.dialled, "102");
    nothing_left(&live, ports).await;
}

#[tokio::test]
async fn two_phones_answering_together_one_is_connected_the_other_acked_and_hung_up() {
    let ports = 30140..=30179;
    let live = server(ports.clone()).await;
    let desks = [phone_of(&live, "102").await, phone_of(&live, "102").await];
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invites = [
        next_request(&desks[0], "INVITE").await,
        next_request(&desks[1], "INVITE").await,
    ];
    // Both answer at once, before either hears anything back.
    let rtps = [
        pick_up(&desks[0], &invites[0], "102", "desk0").await,
        pick_up(&desks[1], &invites[1], "102", "desk1").await,
    ];
    for desk in &desks {
        next_request(desk, "ACK").await;
    }
    // One of them is hung up (a CANCEL that crossed its 200 is answered on the way).
    let loser = tokio::select! {
        bye = next_request(&desks[0], "BYE") => { desks[0].send(bye.reply("200 OK")).await; 0 }
        bye = next_request(&desks[1], "BYE") => { desks[1].send(bye.reply("200 OK")).await; 1 }
    };
    let winner = 1 - loser;
    let (call, ok) = answered(&caller, call).await;
    traced(&live, "102", "answered; connected").await;

    // The caller is bridged to the winner alone, both ways.
    let winner_rtp = std::sync::Arc::new(rtps.into_iter().nth(winner).unwrap());
    let caller_rtp = std::sync::Arc::new(caller_rtp);
    let _caller_talks = talk(caller_rtp.clone(), rtp_target(ok.body()), CALLER_BYTE);
    let _winner_talks = talk(
        winner_rtp.clone(),
        rtp_target(invites[winner].body()),
        CALLEE_BYTE,
    );
    hear_run(&winner_rtp, CALLER_BYTE, 10).await;
    hear_run(&caller_rtp, CALLEE_BYTE, 10).await;
    let list = live.calls.list();
    assert_eq!(list.live.len(), 1, "one call");

    // The winner hangs up: the caller is sent a BYE, and nothing is left.
    let mut leg = bridged::dialog_of(
        &invites[winner],
        "102",
        ["desk0", "desk1"][winner],
        live.listening.sip,
    );
    leg.from = "102".into();
    desks[winner]
        .send(request(
            "BYE",
            &leg,
            1,
            &branch(),
            desks[winner].addr(),
            &[],
            "",
        ))
        .await;
    let bye = next_request(&caller, "BYE").await;
    caller.send(bye.reply("200 OK")).await;
    let _ = call;
    let outcome = live.ended_call("102").await.outcome.unwrap_or_default();
    assert!(outcome.contains("102 hung up"), "{outcome}");
    nothing_left(&live, ports).await;
}

#[tokio::test]
async fn a_bye_for_a_call_that_is_over_gets_481_and_the_server_carries_on() {
    let ports = 30180..=30219;
    let live = server(ports.clone()).await;
    let Bridged {
        caller,
        caller_call,
        desk,
        desk_call,
        ..
    } = bridged(&live).await;
    caller
        .send(request(
            "BYE",
            &caller_call,
            3,
            &branch(),
            caller.addr(),
            &[],
            "",
        ))
        .await;
    let bye = next_request(&desk, "BYE").await;
    desk.send(bye.reply("200 OK")).await;
    live.ended_call("102").await;

    // BYEs for the dead dialogs, from both phones (new transactions, not resends), and
    // for one that never was.
    let again = caller.ask("BYE", &caller_call, 4, &[], "").await;
    assert_eq!(again.status(), 481, "{}", again.0);
    let from_desk = desk.ask("BYE", &desk_call, 7, &[], "").await;
    assert_eq!(from_desk.status(), 481, "{}", from_desk.0);
    let mut never = caller_call.clone();
    never.call_id = "never-was@test".into();
    assert_eq!(caller.ask("BYE", &never, 1, &[], "").await.status(), 481);

    // The server carries on: the next call between the same phones is connected.
    let next = bridged_between(&live, caller, desk).await;
    next.caller
        .send(request(
            "BYE",
            &next.caller_call,
            3,
            &branch(),
            next.caller.addr(),
            &[],
            "",
        ))
        .await;
    let bye = next_request(&next.desk, "BYE").await;
    next.desk.send(bye.reply("200 OK")).await;
    nothing_left(&live, ports).await;
}

#[tokio::test]
async fn a_phones_re_invite_crossing_ours_gets_491_and_ours_is_sent_again_after_2_to_4_s() {
    let ports = 30220..=30259;
    let live = server(ports.clone()).await;
    let Bridged {
        caller,
        caller_rtp,
        caller_call,
        desk,
        desk_rtp,
        desk_call,
        ..
    } = bridged(&live).await;
    // The caller holds, so the server re-INVITEs the desk phone...
    let caller_media = caller_rtp.local_addr().unwrap();
    re_invite(
        &caller,
        &caller_call,
        3,
        &sdp_with(caller_media, "sendonly"),
    )
    .await;
    let ours = next_request(&desk, "INVITE").await;
    assert_eq!(direction(ours.body()), "sendonly");

    // ...and while that waits for its answer, the desk phone sends a re-INVITE of its
    // own: 491. Then it refuses ours with 491 too.
    let desk_media = desk_rtp.local_addr().unwrap();
    let crossing = ask_with_sdp(
        &desk,
        &desk_call,
        "INVITE",
        2,
        &sdp_with(desk_media, "sendrecv"),
    )
    .await;
    assert_eq!(crossing.status(), 491, "{}", crossing.0);
    desk.send(request(
        "ACK",
        &desk_call,
        2,
        &branch_of(&crossing),
        desk.addr(),
        &[],
        "",
    ))
    .await;
    desk.send(ours.reply("491 Request Pending")).await;
    let refused_at = Instant::now();

    // We chose this dialog's Call-ID: ours comes again 2.1 to 4 s later (RFC 3261 §14.1),
    // in a new transaction.
    let retried = next_request(&desk, "INVITE").await;
    let waited = refused_at.elapsed();
    assert!(
        waited >= Duration::from_millis(2100) && waited < Duration::from_millis(4500),
        "sent again after {waited:?}"
    );
    assert_ne!(retried.header("CSeq"), ours.header("CSeq"));
    assert_eq!(direction(retried.body()), "sendonly");
    let contact = format!("sip:102@{}", desk.addr());
    desk.send(with_body(
        retried.reply("200 OK"),
        &contact,
        &sdp_with(desk_media, "recvonly"),
    ))
    .await;
    next_request(&desk, "ACK").await;
    traced(&live, "102", "the caller put the call on hold").await;

    // The desk hears the music now: a frame of the hold-music prompt, not relayed audio.
    let packet = next_packet(&desk_rtp).await;
    assert!(
        music_frames().contains(&packet.payload),
        "not the hold music: {:?}",
        &packet.payload[..8]
    );

    caller
        .send(request(
            "BYE",
            &caller_call,
            4,
            &branch(),
            caller.addr(),
            &[],
            "",
        ))
        .await;
    let bye = next_request(&desk, "BYE").await;
    desk.send(bye.reply("200 OK")).await;
    live.ended_call("102").await;
    nothing_left(&live, ports).await;
}

#[tokio::test]
async fn the_callers_re_invite_crossing_ours_gets_491_and_ours_is_sent_again_within_2_s() {
    let ports = 30260..=30299;
    let live = server(ports.clone()).await;
    let Bridged {
        caller,
        caller_rtp,
        caller_call,
        desk,
        desk_rtp,
        desk_call,
        ..
    } = bridged(&live).await;
    // The desk holds, so the server re-INVITEs the caller...
    let desk_media = desk_rtp.local_addr().unwrap();
    let held = re_invite(&desk, &desk_call, 2, &sdp_with(desk_media, "inactive")).await;
    assert_eq!(direction(held.body()), "inactive", "{}", held.0);
    let ours = next_request(&caller, "INVITE").await;
    assert_eq!(direction(ours.body()), "sendonly");

    // ...and the caller's own re-INVITE crosses it: 491; the caller refuses ours too.
    let caller_media = caller_rtp.local_addr().unwrap();
    let crossing = ask_with_sdp(
        &caller,
        &caller_call,
        "INVITE",
        3,
        &sdp_with(caller_media, "sendrecv"),
    )
    .await;
    assert_eq!(crossing.status(), 491, "{}", crossing.0);
    caller
        .send(request(
            "ACK",
            &caller_call,
            3,
            &branch_of(&crossing),
            caller.addr(),
            &[],
            "",
        ))
        .await;
    caller.send(ours.reply("491 Request Pending")).await;
    let refused_at = Instant::now();

    // The caller chose this dialog's Call-ID: ours comes again within 2 s.
    let retried = next_request(&caller, "INVITE").await;
    let waited = refused_at.elapsed();
    assert!(
        waited < Duration::from_millis(2500),
        "sent again after {waited:?}"
    );
    assert_ne!(retried.header("CSeq"), ours.header("CSeq"));
    let contact = format!("sip:101@{}", caller.addr());
    caller
        .send(with_body(
            retried.reply("200 OK"),
            &contact,
            &sdp_with(caller_media, "recvonly"),
        ))
        .await;
    next_request(&caller, "ACK").await;

    // The caller, whose re-INVITE was refused, sends it again and is answered.
    let again = ask_with_sdp(
        &caller,
        &caller_call,
        "INVITE",
        4,
        &sdp_with(caller_media, "sendrecv"),
    )
    .await;
    assert_eq!(again.status(), 200, "{}", again.0);
    caller
        .send(request(
            "ACK",
            &caller_call,
            4,
            &branch(),
            caller.addr(),
            &[],
            "",
        ))
        .await;
    // We still hold it, for the desk holds: our answer only sends.
    assert_eq!(direction(again.body()), "sendonly", "{}", again.0);

    desk.send(request(
        "BYE",
        &desk_call,
        3,
        &branch(),
        desk.addr(),
        &[],
        "",
    ))
    .await;
    let bye = next_request(&caller, "BYE").await;
    caller.send(bye.reply("200 OK")).await;
    live.ended_call("102").await;
    nothing_left(&live, ports).await;
}
