//! Early media through the whole server on loopback: a rung desk phone or a provider
//! answers the INVITE with 183 and SDP and sends audio before (or instead of) its answer.
//! The caller gets 183 with the SDP its 200 will carry and hears that audio through the
//! server; if the far end then answers, the call is bridged in the same stream; if it
//! fails, the plan goes on (voicemail) in the same stream; a 200 naming another address
//! or codec than the 183 is followed. A plain 180 still gives a plain 180, and a queue's
//! caller (answered for its hold music) hears no agent's early media. Phones and provider are raw UDP sockets, so every packet is the test's to
//! check; every wait has a deadline.

mod bridged;
mod live_server;
mod support;

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use bridged::{
    CALLEE_BYTE, CALLER_BYTE, Heard, answered, dial, final_response, hear_run, next_packet,
    next_request, nothing_left, phone_of, rtp_target, sdp, server_on, traced, with_body,
};
use live_server::{Live, read_store};
use support::raw::{Call, Phone, Sip};
use switchboard_core::store::Store;
use switchboard_runtime::media::g711::Codec;
use switchboard_runtime::server::store_path;
use tokio::net::UdpSocket;

/// What the rung phone's or the provider's early media carries (a μ-law byte).
const EARLY_BYTE: u8 = 0x33;

/// A phone sending a packet of 160 bytes every 20 ms, one stream (SSRC, sequence numbers,
/// timestamps going on) whatever it says; what it says can change as it goes.
struct Voice {
    byte: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
}

impl Voice {
    /// A μ-law voice (payload type 0).
    fn start(socket: Arc<UdpSocket>, to: SocketAddr, byte: u8) -> Voice {
        Voice::start_as(socket, to, byte, 0)
    }

    fn start_as(socket: Arc<UdpSocket>, to: SocketAddr, byte: u8, payload_type: u8) -> Voice {
        let voice = Voice {
            byte: Arc::new(AtomicU8::new(byte)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (saying, stopped) = (voice.byte.clone(), voice.stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n: u16 = 0;
            while !stopped.load(Ordering::SeqCst) {
                tick.tick().await;
                let mut packet = vec![0x80, payload_type, 0, 0, 0, 0, 0, 0, 0, 0, 0x5E, 0x11];
                packet[2..4].copy_from_slice(&(4000u16.wrapping_add(n)).to_be_bytes());
                packet[4..8].copy_from_slice(&(u32::from(n) * 160).to_be_bytes());
                packet.extend(std::iter::repeat_n(saying.load(Ordering::SeqCst), 160));
                let _ = socket.send_to(&packet, to).await;
                n = n.wrapping_add(1);
            }
        });
        voice
    }

    fn say(&self, byte: u8) {
        self.byte.store(byte, Ordering::SeqCst);
    }
}

impl Drop for Voice {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The caller's responses to its INVITE up to the first `status` (a provisional one);
/// fails on a final response before it. Returns that response and every status seen.
async fn provisional(caller: &Phone, call: &Call, status: u16) -> (Sip, Vec<u16>) {
    let mut seen = Vec::new();
    loop {
        let r = caller.response(&call.call_id, "2 INVITE").await;
        seen.push(r.status());
        assert!(
            r.status() < 200,
            "a final response before {status}: {}",
            r.0
        );
        if r.status() == status {
            return (r, seen);
        }
    }
}

/// Reads what the caller hears after `heard` until `done` says a packet is enough;
/// `heard` and every packet after it, in order.
async fn hear_until(
    socket: &UdpSocket,
    mut heard: Vec<Heard>,
    mut done: impl FnMut(&Heard) -> bool,
) -> Vec<Heard> {
    loop {
        let packet = next_packet(socket).await;
        let enough = done(&packet);
        heard.push(packet);
        if enough {
            return heard;
        }
    }
}

/// The packets a phone heard are one stream: one SSRC, each sequence number the last
/// one's plus one, each timestamp later than the last.
fn one_stream(heard: &[Heard]) {
    for pair in heard.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(a.ssrc, b.ssrc, "the caller's stream changed SSRC");
        assert_eq!(
            b.sequence,
            a.sequence.wrapping_add(1),
            "the caller's sequence numbers jumped from {} to {}",
            a.sequence,
            b.sequence
        );
        assert!(
            (b.timestamp.wrapping_sub(a.timestamp) as i32) > 0,
            "the caller's timestamps went back from {} to {}",
            a.timestamp,
            b.timestamp
        );
    }
}

fn all(packet: &Heard, byte: u8) -> bool {
    packet.payload.len() == 160 && packet.payload.iter().all(|b| *b == byte)
}

/// Speech rather than a constant byte (silence, or a test's marker byte): a prompt.
fn spoken(packet: &Heard) -> bool {
    packet.payload.iter().any(|b| *b != packet.payload[0])
}

async fn server(plan: &str, ports: RangeInclusive<u16>) -> Live {
    server_on(plan, ports).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_phones_early_media_is_heard_and_its_answer_goes_on_in_the_same_stream() {
    let ports = 30600..=30619;
    let live = server(bridged::PLAN, ports.clone()).await;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;

    // The desk phone answers 183 with its SDP and sends its early audio.
    let invite = next_request(&desk, "INVITE").await;
    let to_server_from_desk = rtp_target(invite.body());
    let desk_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let contact = format!("sip:102@{}", desk.addr());
    let desk_sdp = sdp(desk_rtp.local_addr().unwrap());
    desk.send(with_body(
        invite.reply_tagged("183 Session Progress", "desk"),
        &contact,
        &desk_sdp,
    ))
    .await;
    let (progress, _) = provisional(&caller, &call, 183).await;
    assert!(
        progress.body().contains("m=audio"),
        "the caller's 183 carries no SDP: {}",
        progress.0
    );
    let to_server_from_caller = rtp_target(progress.body());
    // The caller's phone opens its media on the 183, as phones do for early media.
    let _caller_voice = Voice::start(caller_rtp.clone(), to_server_from_caller, CALLER_BYTE);
    let desk_voice = Voice::start(desk_rtp.clone(), to_server_from_desk, EARLY_BYTE);
    let first = hear_run(&caller_rtp, EARLY_BYTE, 3).await;
    traced(&live, "102", "sends early media").await;
    // Early media goes one way: the desk phone hears nothing of the caller before it
    // answers.
    let mut buffer = [0u8; 2048];
    assert!(
        desk_rtp.try_recv_from(&mut buffer).is_err(),
        "the desk phone heard the caller before it answered"
    );

    // The desk phone answers: the caller gets its 200 with the very SDP of its 183.
    desk.send(with_body(
        invite.reply_tagged("200 OK", "desk"),
        &contact,
        &desk_sdp,
    ))
    .await;
    desk_voice.say(CALLEE_BYTE);
    next_request(&desk, "ACK").await;
    let (caller_call, ok) = answered(&caller, call).await;
    assert_eq!(
        ok.body(),
        progress.body(),
        "the 200 carries another SDP than the 183"
    );
    // The caller hears the desk phone's answer after its early media, one stream all
    // along (the bridge took over without a gap in the numbers); the desk phone hears
    // the caller.
    let heard = hear_until(&caller_rtp, vec![first], |p| all(p, CALLEE_BYTE)).await;
    one_stream(&heard);
    hear_run(&caller_rtp, CALLEE_BYTE, 5).await;
    hear_run(&desk_rtp, CALLER_BYTE, 5).await;

    // The caller hangs up; the desk phone is sent a BYE.
    let bye = caller.ask("BYE", &caller_call, 3, &[], "").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    let desk_bye = next_request(&desk, "BYE").await;
    desk.send(desk_bye.reply("200 OK")).await;
    drop(desk_voice);
    nothing_left(&live, ports).await;
}

/// A plan calling US numbers out through trunk "main" (a raw socket at
/// `provider_port`).
fn trunk_plan(provider_port: u16) -> String {
    format!(
        r#"
trunk "main" {{
    host      "127.0.0.1:{provider_port}"
    caller_id "+12605550199"
}}

dial "{{n:NXXNXXXXXX}}" -> trunk "main" to "+1{{n}}"
"#
    )
}

/// The caller's side of a ring whose far end (`far`, a desk phone or the provider, rung
/// with `invite`) plays an announcement as early media and then refuses with 486: the
/// caller gets 183 with SDP, opens its media (as phones do for early media) and hears
/// the announcement. Returns the caller's 183, what it heard from the announcement's
/// third packet on, and the caller's voice (talking until dropped).
async fn announced_then_busy(
    far: &Phone,
    invite: &Sip,
    caller: &Phone,
    call: &Call,
    caller_rtp: &Arc<UdpSocket>,
) -> (Sip, Vec<Heard>, Voice) {
    let to_server_from_far = rtp_target(invite.body());
    let far_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let contact = format!("sip:far@{}", far.addr());
    far.send(with_body(
        invite.reply_tagged("183 Session Progress", "far"),
        &contact,
        &sdp(far_rtp.local_addr().unwrap()),
    ))
    .await;
    let (progress, _) = provisional(caller, call, 183).await;
    let to_server_from_caller = rtp_target(progress.body());
    let voice = Voice::start(caller_rtp.clone(), to_server_from_caller, CALLER_BYTE);
    let announcement = Voice::start(far_rtp, to_server_from_far, EARLY_BYTE);
    let first = hear_run(caller_rtp, EARLY_BYTE, 3).await;
    let mut more = 0;
    let heard = hear_until(caller_rtp, vec![first], |_| {
        more += 1;
        more == 10
    })
    .await;
    drop(announcement);
    far.send(invite.reply_tagged("486 Busy Here", "far")).await;
    (progress, heard, voice)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_announcement_before_its_486_is_heard_and_the_call_ends_as_before() {
    let ports = 30620..=30639;
    let provider = Phone::new("127.0.0.1:9".parse().unwrap()).await;
    let live = server(&trunk_plan(provider.addr().port()), ports.clone()).await;
    let provider = Phone {
        server: live.listening.sip,
        ..provider
    };
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let call = dial(&caller, "2605550123", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&provider, "INVITE").await;
    let (_, _, _voice) = announced_then_busy(&provider, &invite, &caller, &call, &caller_rtp).await;

    // A call out that does not connect ends the call (the engine's rule for trunks, as
    // without early media): the caller is refused.
    let refused = final_response(&caller, &call).await;
    assert_eq!(refused.status(), 480, "{}", refused.0);
    traced(&live, "2605550123", "sends early media").await;
    traced(&live, "2605550123", "the provider answered 486").await;
    live.ended_call("2605550123").await;
    nothing_left(&live, ports).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_announcement_and_a_486_the_plans_voicemail_plays_in_the_same_stream() {
    let ports = 30660..=30679;
    let live = server(bridged::PLAN, ports.clone()).await;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    let (progress, announced, _voice) =
        announced_then_busy(&desk, &invite, &caller, &call, &caller_rtp).await;

    // 102 is busy: the plan goes on to its voicemail, which answers the caller with the
    // SDP of its 183 and plays the greeting in the stream the announcement came in.
    let ok = final_response(&caller, &call).await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    assert_eq!(ok.body(), progress.body(), "the 200 carries another SDP");
    let caller_call = acknowledge(&caller, call, &ok).await;
    let heard = hear_until(&caller_rtp, announced, spoken).await;
    one_stream(&heard);
    assert!(
        heard.iter().filter(|p| all(p, EARLY_BYTE)).count() >= 10,
        "the caller heard too little of the announcement"
    );
    traced(&live, "102", "busy").await;

    let bye = caller.ask("BYE", &caller_call, 3, &[], "").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    live.ended_call("102").await;
    nothing_left(&live, ports).await;
}

/// Acknowledges the 200 `ok` already read for `call`; the call with its To tag.
async fn acknowledge(caller: &Phone, mut call: Call, ok: &Sip) -> Call {
    call.to_tag = Some(ok.to_tag());
    caller
        .send(support::raw::request(
            "ACK",
            &call,
            2,
            &support::raw::branch(),
            caller.addr(),
            &[],
            "",
        ))
        .await;
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_180_still_gives_a_plain_180() {
    let ports = 30640..=30659;
    let live = server(bridged::PLAN, ports.clone()).await;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    desk.send(invite.reply_tagged("180 Ringing", "desk")).await;
    let (ringing, _) = provisional(&caller, &call, 180).await;
    assert_eq!(ringing.body(), "", "a 180 with a body: {}", ringing.0);

    let desk_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let contact = format!("sip:102@{}", desk.addr());
    desk.send(with_body(
        invite.reply_tagged("200 OK", "desk"),
        &contact,
        &sdp(desk_rtp.local_addr().unwrap()),
    ))
    .await;
    next_request(&desk, "ACK").await;
    // Nothing but the 180 came before the 200: no 183.
    let mut provisionals = Vec::new();
    let ok = loop {
        let r = caller.response(&call.call_id, "2 INVITE").await;
        if r.status() >= 200 {
            break r;
        }
        provisionals.push(r.status());
    };
    assert_eq!(ok.status(), 200, "{}", ok.0);
    assert!(!provisionals.contains(&183), "{provisionals:?}");
    let caller_call = acknowledge(&caller, call, &ok).await;
    let _caller_voice = Voice::start(caller_rtp.clone(), rtp_target(ok.body()), CALLER_BYTE);
    let _desk_voice = Voice::start(desk_rtp.clone(), rtp_target(invite.body()), CALLEE_BYTE);
    hear_run(&caller_rtp, CALLEE_BYTE, 5).await;
    hear_run(&desk_rtp, CALLER_BYTE, 5).await;
    let list = live.calls.list();
    assert!(
        list.live
            .iter()
            .all(|c| c.trace.iter().all(|l| !l.contains("early media"))),
        "a 180 without SDP was taken for early media"
    );

    let bye = caller.ask("BYE", &caller_call, 3, &[], "").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    let desk_bye = next_request(&desk, "BYE").await;
    desk.send(desk_bye.reply("200 OK")).await;
    nothing_left(&live, ports).await;
}

/// An SDP answering PCMA only, for RTP at `rtp`.
fn pcma_sdp(rtp: SocketAddr) -> String {
    format!(
        "v=0\r\no=phone 1 2 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_naming_another_address_and_codec_than_the_183_is_followed() {
    let ports = 30680..=30699;
    let live = server(bridged::PLAN, ports.clone()).await;
    let desk = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    let to_server_from_desk = rtp_target(invite.body());
    let contact = format!("sip:102@{}", desk.addr());

    // Early media from one socket in μ-law ...
    let early_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    desk.send(with_body(
        invite.reply_tagged("183 Session Progress", "desk"),
        &contact,
        &sdp(early_rtp.local_addr().unwrap()),
    ))
    .await;
    let (progress, _) = provisional(&caller, &call, 183).await;
    let _caller_voice = Voice::start(caller_rtp.clone(), rtp_target(progress.body()), CALLER_BYTE);
    let early_voice = Voice::start(early_rtp.clone(), to_server_from_desk, EARLY_BYTE);
    hear_run(&caller_rtp, EARLY_BYTE, 3).await;

    // ... and the answer from another, in A-law: the bridge follows the 200.
    let answer_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    desk.send(with_body(
        invite.reply_tagged("200 OK", "desk"),
        &contact,
        &pcma_sdp(answer_rtp.local_addr().unwrap()),
    ))
    .await;
    next_request(&desk, "ACK").await;
    let (caller_call, ok) = answered(&caller, call).await;
    assert_eq!(ok.body(), progress.body(), "the caller's SDP changed");
    drop(early_voice);
    let alaw = Codec::Pcma.encode_sample(1200);
    let _answer_voice = Voice::start_as(answer_rtp.clone(), to_server_from_desk, alaw, 8);
    // The caller hears the answer's audio in its own μ-law; the answering socket hears
    // the caller in A-law.
    let as_mulaw = Codec::Pcmu.encode_sample(Codec::Pcma.decode_sample(alaw));
    hear_run(&caller_rtp, as_mulaw, 5).await;
    let caller_in_alaw = Codec::Pcma.encode_sample(Codec::Pcmu.decode_sample(CALLER_BYTE));
    hear_run(&answer_rtp, caller_in_alaw, 5).await;

    let bye = caller.ask("BYE", &caller_call, 3, &[], "").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    let desk_bye = next_request(&desk, "BYE").await;
    desk.send(desk_bye.reply("200 OK")).await;
    nothing_left(&live, ports).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queues_caller_hears_its_hold_music_not_an_agents_early_media() {
    let ports = 30700..=30719;
    let plan = format!(
        "{}\nqueue 600 \"Sales\" {{\n    agents 102\n    ring   20s\n    then   -> voicemail 101\n}}\n",
        bridged::PLAN
    );
    let live = server(&plan, ports.clone()).await;
    read_store(&store_path(&live.data()), |s| {
        s.set_queue_logged_in("102", "600", true).unwrap()
    });
    let agent = phone_of(&live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    let caller_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let call = dial(&caller, "600", caller_rtp.local_addr().unwrap()).await;
    // The queue answers at once, to play hold music while the agent rings.
    let (caller_call, ok) = answered(&caller, call).await;
    let _caller_voice = Voice::start(caller_rtp.clone(), rtp_target(ok.body()), CALLER_BYTE);
    let invite = next_request(&agent, "INVITE").await;
    let agent_rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let contact = format!("sip:102@{}", agent.addr());
    let agent_sdp = sdp(agent_rtp.local_addr().unwrap());
    agent
        .send(with_body(
            invite.reply_tagged("183 Session Progress", "agent"),
            &contact,
            &agent_sdp,
        ))
        .await;
    let agent_voice = Voice::start(agent_rtp.clone(), rtp_target(invite.body()), EARLY_BYTE);
    // A second of the hold music goes on, none of it the agent's early media.
    let mut heard = 0;
    hear_until(&caller_rtp, Vec::new(), |p| {
        assert!(!all(p, EARLY_BYTE), "the queue's caller heard early media");
        heard += 1;
        heard == 50
    })
    .await;

    agent
        .send(with_body(
            invite.reply_tagged("200 OK", "agent"),
            &contact,
            &agent_sdp,
        ))
        .await;
    next_request(&agent, "ACK").await;
    agent_voice.say(CALLEE_BYTE);
    hear_run(&caller_rtp, CALLEE_BYTE, 5).await;
    hear_run(&agent_rtp, CALLER_BYTE, 5).await;
    let list = live.calls.list();
    assert!(
        list.live
            .iter()
            .all(|c| c.trace.iter().all(|l| !l.contains("early media"))),
        "the queue's caller was given early media"
    );

    let bye = caller.ask("BYE", &caller_call, 3, &[], "").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    let agent_bye = next_request(&agent, "BYE").await;
    agent.send(agent_bye.reply("200 OK")).await;
    nothing_left(&live, ports).await;
}
