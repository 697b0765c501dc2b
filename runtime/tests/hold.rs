//! Hold and resume across a bridged call, through the whole server on loopback: 101 calls
//! 102, both talk (a different byte each way), then one phone puts the call on hold by a
//! re-INVITE. Its re-INVITE is answered with the mirrored direction, the other phone is
//! sent a re-INVITE with `a=sendonly`, and hears the hold music — checked frame by frame
//! against the `hold-music` prompt — in the same RTP stream it heard the conversation
//! in. Resuming sends the other phone `a=sendrecv`, and each hears the other's byte
//! again. Both phones are raw UDP sockets; every wait has a deadline, and each test ends
//! with no call live and every RTP port free.

mod bridged;
mod live_server;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bridged::{
    Bridged, CALLEE_BYTE, CALLER_BYTE, Heard, answered, bridged, dial, direction, drain, hear_run,
    music_frames, next_packet, next_request, nothing_left, phone_of, pick_up, re_invite,
    rtp_target, sdp_with, server, server_on, talk, traced, with_body,
};
use live_server::read_store;
use support::raw::{Phone, Sip, branch, request};
use switchboard_core::store::Store;
use switchboard_runtime::server::store_path;
use tokio::net::UdpSocket;

/// The server's re-INVITE to `phone`, answered 200 in the direction that mirrors it,
/// with RTP at `rtp`; returns the re-INVITE once its ACK came.
async fn answer_re_invite(phone: &Phone, user: &str, rtp: SocketAddr) -> Sip {
    let reinvite = next_request(phone, "INVITE").await;
    let mirrored = match direction(reinvite.body()) {
        "sendonly" => "recvonly",
        "recvonly" => "sendonly",
        other => other,
    };
    let contact = format!("sip:{user}@{}", phone.addr());
    phone
        .send(with_body(
            reinvite.reply("200 OK"),
            &contact,
            &sdp_with(rtp, mirrored),
        ))
        .await;
    let ack = next_request(phone, "ACK").await;
    assert_eq!(
        ack.header("CSeq"),
        reinvite.header("CSeq").replace("INVITE", "ACK")
    );
    reinvite
}

/// Waits for the held phone's first packet of hold music, then checks the next `count`
/// frames are the music's, in order, each the packet after the last in the same stream
/// as `before` (the last packet heard before the hold, if any); returns the last one.
async fn hear_music(socket: &UdpSocket, before: Option<&Heard>, count: usize) -> Heard {
    let frames = music_frames();
    let first = loop {
        let packet = next_packet(socket).await;
        if packet.payload == frames[0] {
            break packet;
        }
        assert!(
            packet
                .payload
                .iter()
                .all(|b| *b == CALLER_BYTE || *b == CALLEE_BYTE),
            "neither the other phone nor the music: {:?}",
            &packet.payload[..8]
        );
    };
    if let Some(before) = before {
        assert_eq!(
            first.ssrc, before.ssrc,
            "the music comes in the same stream"
        );
        assert!(
            first.sequence.wrapping_sub(before.sequence) < 100,
            "the sequence goes on ({} after {})",
            first.sequence,
            before.sequence
        );
    }
    let mut last = first;
    for frame in frames.iter().skip(1).take(count) {
        let packet = next_packet(socket).await;
        assert_eq!(&packet.payload, frame, "the music, frame by frame");
        assert_eq!(packet.ssrc, last.ssrc);
        assert_eq!(packet.sequence, last.sequence.wrapping_add(1));
        assert_eq!(packet.timestamp, last.timestamp.wrapping_add(160));
        last = packet;
    }
    last
}

/// For `window`, `socket` hears nothing carrying `byte` (what was in flight before is
/// emptied first).
async fn hears_no(socket: &UdpSocket, byte: u8, window: Duration) {
    drain(socket);
    let quiet = tokio::time::timeout(window, async {
        loop {
            let packet = next_packet(socket).await;
            assert!(
                !packet.payload.iter().all(|b| *b == byte),
                "audio was relayed to a phone that holds"
            );
        }
    })
    .await;
    assert!(quiet.is_err());
}

#[tokio::test]
async fn the_caller_holds_the_callee_hears_music_then_the_caller_again() {
    let ports = 30000..=30039;
    let live = server(ports.clone()).await;
    let Bridged {
        caller,
        caller_rtp,
        caller_call,
        to_server_from_caller,
        desk,
        desk_rtp,
        to_server_from_desk,
        ..
    } = bridged(&live).await;
    let caller_talks = talk(caller_rtp.clone(), to_server_from_caller, CALLER_BYTE);
    let desk_talks = talk(desk_rtp.clone(), to_server_from_desk, CALLEE_BYTE);
    hear_run(&caller_rtp, CALLEE_BYTE, 10).await;
    let before = hear_run(&desk_rtp, CALLER_BYTE, 10).await;

    // The caller holds: answered recvonly, and the desk phone is held (sendonly).
    let caller_media = caller_rtp.local_addr().unwrap();
    let held = re_invite(
        &caller,
        &caller_call,
        3,
        &sdp_with(caller_media, "sendonly"),
    )
    .await;
    assert_eq!(direction(held.body()), "recvonly", "{}", held.0);
    assert_eq!(rtp_target(held.body()), to_server_from_caller);
    let reinvite = answer_re_invite(&desk, "102", desk_rtp.local_addr().unwrap()).await;
    assert_eq!(direction(reinvite.body()), "sendonly", "{}", reinvite.0);
    assert_eq!(rtp_target(reinvite.body()), to_server_from_desk);

    // The desk hears the music in its stream; the caller hears nothing of the desk.
    let last_music = hear_music(&desk_rtp, Some(&before), 50).await;
    hears_no(&caller_rtp, CALLEE_BYTE, Duration::from_millis(300)).await;
    traced(&live, "102", "the caller put the call on hold").await;

    // The caller resumes: the desk is taken off hold, and each hears the other again,
    // the desk in the stream the music came in.
    let resumed = re_invite(&caller, &caller_call, 4, &bridged::sdp(caller_media)).await;
    assert_eq!(direction(resumed.body()), "sendrecv", "{}", resumed.0);
    let reinvite = answer_re_invite(&desk, "102", desk_rtp.local_addr().unwrap()).await;
    assert_eq!(direction(reinvite.body()), "sendrecv", "{}", reinvite.0);
    let again = hear_run(&desk_rtp, CALLER_BYTE, 10).await;
    assert_eq!(
        again.ssrc, last_music.ssrc,
        "one stream across relay and music"
    );
    hear_run(&caller_rtp, CALLEE_BYTE, 10).await;
    traced(&live, "102", "the caller took the call off hold").await;

    // The caller hangs up; the desk's leg ends too.
    drop((caller_talks, desk_talks));
    caller
        .send(request(
            "BYE",
            &caller_call,
            5,
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
async fn the_callee_holds_the_old_way_and_the_caller_hears_music_until_it_resumes() {
    let ports = 30040..=30079;
    let live = server(ports.clone()).await;
    let Bridged {
        caller,
        caller_rtp,
        caller_call,
        to_server_from_caller,
        desk,
        desk_rtp,
        desk_call,
        to_server_from_desk,
    } = bridged(&live).await;
    let caller_talks = talk(caller_rtp.clone(), to_server_from_caller, CALLER_BYTE);
    let desk_talks = talk(desk_rtp.clone(), to_server_from_desk, CALLEE_BYTE);
    let before = hear_run(&caller_rtp, CALLEE_BYTE, 10).await;
    hear_run(&desk_rtp, CALLER_BYTE, 10).await;

    // The desk holds as RFC 2543 phones do, with a c= address of 0.0.0.0: answered
    // recvonly (we must not send to it), and the caller is held (sendonly).
    let nowhere: SocketAddr = format!("0.0.0.0:{}", desk_rtp.local_addr().unwrap().port())
        .parse()
        .unwrap();
    let held = re_invite(&desk, &desk_call, 2, &sdp_with(nowhere, "sendrecv")).await;
    assert_eq!(direction(held.body()), "recvonly", "{}", held.0);
    let reinvite = answer_re_invite(&caller, "101", caller_rtp.local_addr().unwrap()).await;
    assert_eq!(direction(reinvite.body()), "sendonly", "{}", reinvite.0);
    assert_eq!(
        reinvite.header("Call-ID"),
        caller_call.call_id,
        "in the caller's own dialog"
    );
    let last_music = hear_music(&caller_rtp, Some(&before), 25).await;
    hears_no(&desk_rtp, CALLER_BYTE, Duration::from_millis(300)).await;
    traced(&live, "102", "102 put the call on hold").await;

    // The desk resumes; the caller is taken off hold and hears the desk again.
    let desk_media = desk_rtp.local_addr().unwrap();
    let resumed = re_invite(&desk, &desk_call, 3, &bridged::sdp(desk_media)).await;
    assert_eq!(direction(resumed.body()), "sendrecv", "{}", resumed.0);
    let reinvite = answer_re_invite(&caller, "101", caller_rtp.local_addr().unwrap()).await;
    assert_eq!(direction(reinvite.body()), "sendrecv", "{}", reinvite.0);
    let again = hear_run(&caller_rtp, CALLEE_BYTE, 10).await;
    assert_eq!(
        again.ssrc, last_music.ssrc,
        "one stream across relay and music"
    );
    hear_run(&desk_rtp, CALLER_BYTE, 10).await;

    // The desk hangs up.
    drop((caller_talks, desk_talks));
    desk.send(request(
        "BYE",
        &desk_call,
        4,
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

#[tokio::test]
async fn a_caller_holding_while_a_queue_rings_holds_the_agent_who_answers() {
    let ports = 30080..=30099;
    let plan = r#"
dial "{ext:XXX}" -> extension ext
queue 600 "Sales" {
    agents 102
    ring   20s
    then   -> voicemail 101
}
"#;
    let live = server_on(plan, ports.clone()).await;
    read_store(&store_path(&live.data()), |s| {
        s.set_queue_logged_in("102", "600", true).unwrap()
    });
    let agent = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let caller_media = caller_rtp.local_addr().unwrap();
    // The queue answers the caller (it plays hold music while the agent rings), and the
    // caller puts the call on hold meanwhile.
    let (call, _) = answered(&caller, dial(&caller, "600", caller_media).await).await;
    let held = re_invite(&caller, &call, 3, &sdp_with(caller_media, "sendonly")).await;
    assert_eq!(direction(held.body()), "recvonly", "{}", held.0);
    traced(&live, "600", "nobody else is on the call yet").await;

    // The agent answers: connected, and held from the start, hearing the hold music.
    let invite = next_request(&agent, "INVITE").await;
    let agent_rtp = pick_up(&agent, &invite, "102", "agent").await;
    next_request(&agent, "ACK").await;
    let reinvite = answer_re_invite(&agent, "102", agent_rtp.local_addr().unwrap()).await;
    assert_eq!(direction(reinvite.body()), "sendonly", "{}", reinvite.0);
    hear_music(&agent_rtp, None, 25).await;
    traced(&live, "600", "102 hears hold music and is held too").await;

    caller
        .send(request("BYE", &call, 4, &branch(), caller.addr(), &[], ""))
        .await;
    let bye = next_request(&agent, "BYE").await;
    agent.send(bye.reply("200 OK")).await;
    live.ended_call("600").await;
    nothing_left(&live, ports).await;
}
