//! What a click-to-call person hears while the number they called rings, through the
//! whole server on loopback, checked by decoding their RTP (μ-law or A-law, as their
//! phone chose) and measuring its frequencies (the Goertzel algorithm): ringback (440 +
//! 480 Hz, 2 s on, 4 s off) from the provider's 180 until its 200, and from the first
//! packet of the far end's voice no tone beside it; the provider's own early media (183
//! with SDP) instead of the tone when it sends some; the busy tone (480 + 620 Hz, 0.5 s
//! on, 0.5 s off) when it answers 486, then a BYE and a record saying the number was
//! busy. A person whose number goes to a queue hears its hold music and announcement, as
//! a desk caller would, with no ringback queued behind them. Every wait has a deadline.

mod bridged;
mod click_to_call;
mod live_server;
mod support;

use bridged::{
    CALLEE_BYTE, Heard, dialog_of, next_packet, next_request, phone_of, pick_up, rtp_target, sdp,
    with_body,
};
use click_to_call::{Answered, answered_by_101, office, office_for, record_of, soon, talk};
use live_server::read_store;
use support::raw::{branch, request};
use switchboard_core::store::Store;
use switchboard_runtime::media::{Codec, PromptLibrary};
use switchboard_runtime::server::store_path;
use tokio::net::UdpSocket;

/// Ringback's two frequencies, and ones a ringback has none of.
const RINGBACK: [f64; 2] = [440.0, 480.0];
const NOT_RINGBACK: [f64; 3] = [350.0, 620.0, 1000.0];
/// The busy tone's, and ones it has none of.
const BUSY: [f64; 2] = [480.0, 620.0];
const NOT_BUSY: [f64; 3] = [350.0, 440.0, 1000.0];

/// What the provider's early media carries (a μ-law byte).
const EARLY_BYTE: u8 = 0x33;

/// The audio of packets in `codec`, one after the other.
fn pcm(packets: &[Heard], codec: Codec) -> Vec<i16> {
    let mut samples = Vec::new();
    for p in packets {
        let mut decoded = vec![0i16; p.payload.len()];
        codec.decode(&p.payload, &mut decoded);
        samples.extend(decoded);
    }
    samples
}

/// Whether a packet carries sound: silence decodes to (nearly) zero in either law.
fn sounds(packet: &Heard, codec: Codec) -> bool {
    let samples = pcm(std::slice::from_ref(packet), codec);
    let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    (energy / samples.len() as f64).sqrt() > 300.0
}

/// The power of `hz` in `samples`, per sample (the Goertzel algorithm).
fn power(samples: &[i16], hz: f64) -> f64 {
    let coefficient = 2.0 * (std::f64::consts::TAU * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = f64::from(x) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / (samples.len() as f64).powi(2)
}

/// Asserts `samples` are the two frequencies of `tone`, each loud (a sine of peak 1000
/// or more) and over 100 times any of `not`.
fn assert_tone(samples: &[i16], tone: [f64; 2], not: [f64; 3]) {
    let loudest_other = not.iter().map(|&hz| power(samples, hz)).fold(0.0, f64::max);
    for hz in tone {
        let p = power(samples, hz);
        assert!(
            p > 500.0 * 500.0 && p > 100.0 * loudest_other,
            "{hz} Hz: power {p:.0}, the loudest of {not:?} {loudest_other:.0}"
        );
    }
}

/// Waits (`SOON`) for the first packet that sounds; returns it and every sounding packet
/// after it, up to the first silent one.
async fn sound_run(socket: &UdpSocket, codec: Codec) -> Vec<Heard> {
    let first = soon("a sound", async {
        loop {
            let p = next_packet(socket).await;
            if sounds(&p, codec) {
                return p;
            }
        }
    })
    .await;
    let mut run = vec![first];
    loop {
        let p = next_packet(socket).await;
        if !sounds(&p, codec) {
            return run;
        }
        run.push(p);
    }
}

/// Counts the silent packets before the next that sounds, which it returns.
async fn silence_run(socket: &UdpSocket, codec: Codec) -> (usize, Heard) {
    let mut quiet = 0;
    loop {
        let p = next_packet(socket).await;
        if sounds(&p, codec) {
            return (quiet, p);
        }
        quiet += 1;
    }
}

/// Waits (`SOON`) for the first μ-law packet carrying only `byte`, then checks the next
/// `more` carry only it too or nothing (a packet of silence where one stream hands over
/// to the next), never another sound: no tone beside the voice. Returns how many
/// packets that sounded came before the first.
async fn switches_to(socket: &UdpSocket, byte: u8, more: usize) -> usize {
    let only = |p: &Heard| p.payload.len() == 160 && p.payload.iter().all(|b| *b == byte);
    let before = soon("the far end's audio", async {
        let mut before = 0;
        loop {
            let p = next_packet(socket).await;
            if only(&p) {
                return before;
            }
            before += usize::from(sounds(&p, Codec::Pcmu));
        }
    })
    .await;
    let mut heard = 0;
    while heard < more {
        let p = next_packet(socket).await;
        assert!(
            only(&p) || !sounds(&p, Codec::Pcmu),
            "packet {heard} after the far end's first is another sound: {:?}",
            p.payload
        );
        heard += usize::from(only(&p));
    }
    before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_hears_ringback_while_the_number_rings_and_no_tone_once_it_answers() {
    let (live, provider, session) = office().await;
    let Answered {
        agent,
        invite,
        rtp,
        out,
    } = answered_by_101(&live, &provider, &session, Codec::Pcmu).await;
    let server_for_carrier = rtp_target(out.body());

    // The provider says the number rings: 101 hears ringback, 2 s of 440 + 480 Hz...
    provider
        .send(out.reply_tagged("180 Ringing", "carrier"))
        .await;
    let burst = sound_run(&rtp, Codec::Pcmu).await;
    assert!((95..=101).contains(&burst.len()), "{} packets", burst.len());
    assert_tone(&pcm(&burst[..50], Codec::Pcmu), RINGBACK, NOT_RINGBACK);
    // ...then 4 s of silence, then the tone again.
    let (quiet, next) = silence_run(&rtp, Codec::Pcmu).await;
    assert!((195..=201).contains(&quiet), "{quiet} silent packets");
    let mut second = vec![next];
    while second.len() < 10 {
        second.push(next_packet(&rtp).await);
    }
    assert_tone(&pcm(&second, Codec::Pcmu), RINGBACK, NOT_RINGBACK);

    // The number answers 0.2 s into the tone's 2 s: from the first packet of its voice
    // on, 101 hears only that.
    let carrier_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("sip:+12605559876@{}", provider.addr());
    provider
        .send(with_body(
            out.reply_tagged("200 OK", "carrier"),
            &contact,
            &sdp(carrier_rtp.local_addr().unwrap()),
        ))
        .await;
    let (_, tone_after_answer) = tokio::join!(
        talk(&carrier_rtp, server_for_carrier, CALLEE_BYTE, 60),
        switches_to(&rtp, CALLEE_BYTE, 25),
    );
    // At most what was in flight while the server read the 200 (up to a second on a
    // slow machine): the tone stops on the answer, not at its cadence's end.
    assert!(
        tone_after_answer < 50,
        "{tone_after_answer} tone packets after the answer"
    );
    next_request(&provider, "ACK").await;

    let leg = dialog_of(&invite, "101", "agent", live.listening.sip);
    agent
        .send(request("BYE", &leg, 2, &branch(), agent.addr(), &[], ""))
        .await;
    let bye = next_request(&provider, "BYE").await;
    provider.send(bye.reply("200 OK")).await;
    let record = live.ended_call("+12605559876").await;
    assert!(
        record.trace.iter().any(|l| l.contains("hears ringback")),
        "{:#?}",
        record.trace
    );
    let detail = record_of(&live, "+12605559876").await;
    assert!(detail.answered_ms.is_some(), "{detail:?}");
    live.nothing_held().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_providers_early_media_reaches_the_person_instead_of_the_ringback() {
    let (live, provider, session) = office().await;
    let Answered {
        agent,
        invite,
        rtp,
        out,
    } = answered_by_101(&live, &provider, &session, Codec::Pcmu).await;
    let server_for_carrier = rtp_target(out.body());
    provider
        .send(out.reply_tagged("180 Ringing", "carrier"))
        .await;
    let mut tone = sound_run_start(&rtp, Codec::Pcmu).await;
    while tone.len() < 50 {
        tone.push(next_packet(&rtp).await);
    }
    assert_tone(&pcm(&tone, Codec::Pcmu), RINGBACK, NOT_RINGBACK);

    // The provider sends its own ringback (an announcement, say) as early media: 101
    // hears that, and no tone beside it.
    let carrier_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("sip:+12605559876@{}", provider.addr());
    let carrier_sdp = sdp(carrier_rtp.local_addr().unwrap());
    provider
        .send(with_body(
            out.reply_tagged("183 Session Progress", "carrier"),
            &contact,
            &carrier_sdp,
        ))
        .await;
    tokio::join!(
        talk(&carrier_rtp, server_for_carrier, EARLY_BYTE, 60),
        switches_to(&rtp, EARLY_BYTE, 40),
    );

    // It answers: its voice follows.
    provider
        .send(with_body(
            out.reply_tagged("200 OK", "carrier"),
            &contact,
            &carrier_sdp,
        ))
        .await;
    tokio::join!(
        talk(&carrier_rtp, server_for_carrier, CALLEE_BYTE, 60),
        switches_to(&rtp, CALLEE_BYTE, 25),
    );
    next_request(&provider, "ACK").await;

    let leg = dialog_of(&invite, "101", "agent", live.listening.sip);
    agent
        .send(request("BYE", &leg, 2, &branch(), agent.addr(), &[], ""))
        .await;
    let bye = next_request(&provider, "BYE").await;
    provider.send(bye.reply("200 OK")).await;
    let record = live.ended_call("+12605559876").await;
    assert!(
        record.trace.iter().any(|l| l.contains("sends early media")),
        "{:#?}",
        record.trace
    );
    live.nothing_held().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_number_gives_the_person_the_busy_tone_then_a_bye_and_a_record() {
    let (live, provider, session) = office().await;
    let Answered {
        agent, rtp, out, ..
    } = answered_by_101(&live, &provider, &session, Codec::Pcma).await;
    provider
        .send(out.reply_tagged("486 Busy Here", "carrier"))
        .await;

    // Half a second of 480 + 620 Hz, then half a second of silence, and again, in the
    // A-law 101's phone chose.
    let burst = sound_run(&rtp, Codec::Pcma).await;
    assert!((24..=26).contains(&burst.len()), "{} packets", burst.len());
    assert_tone(&pcm(&burst[..25], Codec::Pcma), BUSY, NOT_BUSY);
    let (quiet, _) = silence_run(&rtp, Codec::Pcma).await;
    assert!((24..=26).contains(&quiet), "{quiet} silent packets");

    let bye = soon("the BYE after the busy tone", next_request(&agent, "BYE")).await;
    agent.send(bye.reply("200 OK")).await;
    let busy = "+12605559876 through trunk main was busy";
    let record = live.ended_call("+12605559876").await;
    assert_eq!(record.outcome.as_deref(), Some(busy), "{record:#?}");
    let detail = record_of(&live, "+12605559876").await;
    assert_eq!(detail.outcome, busy);
    assert_eq!(detail.answered_by, None);
    live.nothing_held().await;
}

/// Waits (`SOON`) for the first packet that sounds; returns it alone.
async fn sound_run_start(socket: &UdpSocket, codec: Codec) -> Vec<Heard> {
    soon("a sound", async {
        loop {
            let p = next_packet(socket).await;
            if sounds(&p, codec) {
                return vec![p];
            }
        }
    })
    .await
}

/// The μ-law frames of the prompt `name`, as a session sends them from a play's start.
fn prompt_frames(name: &str) -> Vec<Vec<u8>> {
    let prompts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
    let samples = PromptLibrary::new(prompts)
        .prompt(name, "en", "en")
        .expect("the prompt");
    samples
        .chunks_exact(160)
        .map(|frame| {
            frame
                .iter()
                .map(|&s| Codec::Pcmu.encode_sample(s))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_calls_a_queue_hears_its_announcement_not_a_ringback_queued_behind_it() {
    // The office's own support number goes to a queue whose agent is 103.
    let queue = r#"
extension 103 "Agent"
queue 600 "Support" { agents 103; ring 30s; announce "queue-announce"; announce_every 1s }
dial "+12605550600" -> queue 600
"#;
    let (live, _provider, session) = office_for("101", queue).await;
    read_store(&store_path(&live.data()), |s| {
        s.set_queue_logged_in("103", "600", true).unwrap()
    });
    let agent = phone_of(&live, "101").await;
    let desk = phone_of(&live, "103").await;
    let (status, started) = session.call("+1 260 555 0600").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    let rtp = pick_up(&agent, &invite, "101", "agent").await;
    next_request(&agent, "ACK").await;

    // 103's phone rings; 101 waits in the queue and hears its announcement after a
    // second of hold music, as a desk caller would.
    let ring = next_request(&desk, "INVITE").await;
    desk.send(ring.reply_tagged("180 Ringing", "desk")).await;
    let announcement: std::collections::HashSet<Vec<u8>> = prompt_frames("queue-announce")
        .into_iter()
        .filter(|f| f.iter().any(|&b| b != Codec::Pcmu.silence()))
        .collect();
    soon("the queue's announcement", async {
        let mut heard = 0;
        while heard < 10 {
            let p = next_packet(&rtp).await;
            heard += usize::from(announcement.contains(&p.payload));
        }
    })
    .await;

    // 101 hangs up: 103's phone stops ringing.
    let leg = dialog_of(&invite, "101", "agent", live.listening.sip);
    agent
        .send(request("BYE", &leg, 2, &branch(), agent.addr(), &[], ""))
        .await;
    let cancel = next_request(&desk, "CANCEL").await;
    desk.send(cancel.reply("200 OK")).await;
    desk.send(ring.reply_tagged("487 Request Terminated", "desk"))
        .await;
    live.nothing_held().await;
}
