//! RTP media sessions over real loopback sockets: the test plays the phone.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::media::dtmf::{TelephoneEvent, key_event};
use switchboard_runtime::media::rtp::{self, RtpHeader};
use switchboard_runtime::media::{
    self, Codec, Direction, MediaEvent, MediaHandle, Negotiated, PortPool, PromptLibrary, sdp,
};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::Receiver;
use tokio::time::{Instant, timeout};

/// How long any one expected thing may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(5);

const DTMF_PT: u8 = 101;

/// The maximum length of the recordings these tests make: more than any of them sends.
const MINUTE: Duration = Duration::from_secs(60);

fn prompts() -> PromptLibrary {
    PromptLibrary::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts"))
}

async fn next_event(events: &mut Receiver<MediaEvent>) -> MediaEvent {
    timeout(DEADLINE, events.recv())
        .await
        .expect("no media event in time")
        .expect("the session ended")
}

/// One packet as the phone received it.
struct Received {
    at: Instant,
    header: RtpHeader,
    payload: Vec<u8>,
}

async fn receive(phone: &UdpSocket) -> Received {
    let mut buf = [0u8; 2048];
    let (n, _) = timeout(DEADLINE, phone.recv_from(&mut buf))
        .await
        .expect("no RTP in time")
        .unwrap();
    let at = Instant::now();
    let p = rtp::parse(&buf[..n]).unwrap();
    Received {
        at,
        header: p.header,
        payload: p.payload.to_vec(),
    }
}

/// A session on loopback sending to `remote`, and where it listens.
async fn session(
    remote: SocketAddr,
    codec: Codec,
    dir: &Path,
) -> (MediaHandle, Receiver<MediaEvent>, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let negotiated = Negotiated {
        remote,
        codec,
        dtmf_payload_type: Some(DTMF_PT),
        direction: Direction::SendRecv,
    };
    let (handle, events) = media::start(socket, negotiated, dir.to_path_buf());
    (handle, events, local)
}

/// The phone's side of a call: its packets carry consecutive sequence numbers and
/// timestamps of its own.
struct Phone {
    socket: UdpSocket,
    to: SocketAddr,
    sequence: u16,
    timestamp: u32,
}

impl Phone {
    async fn new(to: SocketAddr) -> Phone {
        Phone {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            to,
            sequence: 1000,
            timestamp: 50_000,
        }
    }

    async fn send(&mut self, payload_type: u8, marker: bool, timestamp: u32, payload: &[u8]) {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: 0xC0FF_EE00,
        };
        let mut packet = header.to_bytes().to_vec();
        packet.extend_from_slice(payload);
        self.sequence = self.sequence.wrapping_add(1);
        self.socket.send_to(&packet, self.to).await.unwrap();
    }

    /// 20 ms of audio, advancing the clock.
    async fn audio(&mut self, codec: Codec, pcm: &[i16; 160]) {
        let mut payload = [0u8; 160];
        codec.encode(pcm, &mut payload);
        self.send(codec.payload_type(), false, self.timestamp, &payload)
            .await;
        self.timestamp = self.timestamp.wrapping_add(160);
    }

    /// One key press as RFC 4733 sends it: a start with the marker, progress packets and
    /// the end three times, all with the press's start timestamp.
    async fn press(&mut self, key: char) {
        let event = key_event(key).unwrap();
        let start = self.timestamp;
        for i in 0..8u16 {
            let ev = TelephoneEvent {
                event,
                end: i == 7,
                volume: 10,
                duration: (i + 1) * 160,
            };
            for _ in 0..if i == 7 { 3 } else { 1 } {
                self.send(DTMF_PT, i == 0, start, &ev.to_bytes()).await;
            }
        }
        self.timestamp = self.timestamp.wrapping_add(8 * 160);
    }
}

/// What the phone hears of `samples` through `codec`.
fn through(codec: Codec, samples: &[i16]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| codec.decode_sample(codec.encode_sample(s)))
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Plays a prompt answering `offer`'s codec and checks every packet the phone gets.
async fn plays_a_prompt_paced(offer: &str, codec: Codec) {
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let offer = offer.replace(
        "PHONE_PORT",
        &phone.local_addr().unwrap().port().to_string(),
    );
    let pool = PortPool::new("127.0.0.1".parse().unwrap(), 47000..=47998).unwrap();
    let port = pool.bind().unwrap();
    let (answer, negotiated) =
        sdp::answer(&offer, "127.0.0.1".parse().unwrap(), port.lease.port(), 1).unwrap();
    assert!(answer.contains(&format!("m=audio {} RTP/AVP", port.lease.port())));
    assert_eq!(negotiated.codec, codec);
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events) = media::start(port.socket, negotiated, dir.path().to_path_buf());

    let prompt = prompts().prompt("please-hold", "en", "en").unwrap();
    handle.play(7, vec![prompt.clone()]).unwrap();
    let frames = prompt.len().div_ceil(160);

    let mut packets = Vec::new();
    let mut finished_at = None;
    let all = async {
        loop {
            tokio::select! {
                p = receive(&phone) => {
                    packets.push(p);
                    if finished_at.is_some_and(|n| packets.len() >= n + 5) {
                        break;
                    }
                }
                e = next_event(&mut events) => {
                    assert_eq!(e, MediaEvent::PlayFinished(7));
                    finished_at = Some(packets.len());
                }
            }
        }
    };
    timeout(Duration::from_secs(10), all)
        .await
        .expect("the prompt did not finish in time");

    for w in packets.windows(2) {
        let (a, b) = (&w[0].header, &w[1].header);
        assert_eq!(b.sequence, a.sequence.wrapping_add(1));
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(160));
        assert_eq!(b.ssrc, a.ssrc);
        assert_eq!(b.payload_type, codec.payload_type());
    }
    assert!(packets.iter().all(|p| p.payload.len() == 160));

    // The prompt starts at the last packet with the marker bit, exactly as it sounds
    // through the codec, padded with silence to whole packets, with silence around it.
    let start = packets.iter().rposition(|p| p.header.marker).unwrap();
    let heard: Vec<i16> = packets[start..start + frames]
        .iter()
        .flat_map(|p| p.payload.iter().map(|&b| codec.decode_sample(b)))
        .collect();
    let mut expected = through(codec, &prompt);
    expected.resize(frames * 160, codec.decode_sample(codec.silence()));
    assert_eq!(heard.len(), expected.len());
    assert!(
        heard == expected,
        "the prompt's samples did not arrive intact"
    );
    let silent = |p: &Received| p.payload.iter().all(|&b| b == codec.silence());
    assert!(packets[..start].iter().all(silent));
    assert!(packets[start + frames..].iter().all(silent));
    let finished = finished_at.unwrap();
    assert!(
        (start + frames - 1..=start + frames + 1).contains(&finished),
        "PlayFinished came after packet {finished}, the prompt's last is {}",
        start + frames - 1
    );

    // Timing, as received on loopback: printed, not asserted (the machine may be busy).
    let mut errors: Vec<f64> = packets
        .windows(2)
        .map(|w| ((w[1].at - w[0].at).as_secs_f64() * 1000.0 - 20.0).abs())
        .collect();
    errors.sort_by(f64::total_cmp);
    let span = (packets.last().unwrap().at - packets[0].at).as_secs_f64() * 1000.0;
    println!(
        "{codec:?}: {} packets, {frames} of prompt; send-interval error p50 {:.3} ms, \
         p99 {:.3} ms, max {:.3} ms; {span:.1} ms for {} intervals (drift {:+.2} ms)",
        packets.len(),
        percentile(&errors, 0.5),
        percentile(&errors, 0.99),
        errors.last().unwrap(),
        packets.len() - 1,
        span - 20.0 * (packets.len() - 1) as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_prompt_in_pcmu_every_20_ms() {
    // A linphone-like offer: opus first, G.711 µ-law after.
    plays_a_prompt_paced(
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio PHONE_PORT RTP/AVP 96 0 8 101\r\na=rtpmap:96 opus/48000/2\r\n\
         a=rtpmap:101 telephone-event/8000\r\n",
        Codec::Pcmu,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_prompt_in_pcma_every_20_ms() {
    // sipp's uac_pcap offer.
    plays_a_prompt_paced(
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
         c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio PHONE_PORT RTP/AVP 8 101\r\n\
         a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n",
        Codec::Pcma,
    )
    .await;
}

#[tokio::test]
async fn stop_playing_stops_the_prompt_early() {
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events, _) =
        session(phone.local_addr().unwrap(), Codec::Pcmu, dir.path()).await;
    let long = prompts().prompt("main-greeting", "en", "en").unwrap();
    assert!(long.len() > 8 * 8000);
    let started = Instant::now();
    handle.play(1, vec![long]).unwrap();

    // Wait until the prompt is heard, then stop it.
    let mut audible = 0;
    while audible < 5 {
        if receive(&phone).await.payload.iter().any(|&b| b != 0xFF) {
            audible += 1;
        }
    }
    handle.stop_playing(1).unwrap();
    assert_eq!(next_event(&mut events).await, MediaEvent::PlayFinished(1));
    assert!(started.elapsed() < Duration::from_secs(3));

    // Silence follows, after the packets that were already on their way (one or two,
    // more if the machine stalled and the session caught up in a burst).
    let mut tail = Vec::new();
    for _ in 0..20 {
        tail.push(receive(&phone).await.payload.iter().all(|&b| b == 0xFF));
    }
    let first_silent = tail.iter().position(|s| *s).expect("still playing");
    assert!(
        first_silent <= 10,
        "{first_silent} packets of prompt after the stop"
    );
    assert!(
        tail[first_silent..].iter().all(|s| *s),
        "the prompt went on"
    );

    // Stopping it again reports nothing: the next event is the next play's.
    handle.stop_playing(1).unwrap();
    let beep = prompts().prompt("beep", "en", "en").unwrap();
    handle.play(2, vec![beep]).unwrap();
    assert_eq!(next_event(&mut events).await, MediaEvent::PlayFinished(2));
    // An empty play ends at once.
    handle.play(3, vec![]).unwrap();
    assert_eq!(next_event(&mut events).await, MediaEvent::PlayFinished(3));
}

#[tokio::test]
async fn each_key_is_reported_once_and_rtp_follows_the_phone() {
    // The SDP names an address the phone does not send from (it is behind NAT).
    let decoy = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_handle, mut events, local) =
        session(decoy.local_addr().unwrap(), Codec::Pcmu, dir.path()).await;
    let mut phone = Phone::new(local).await;

    for key in ['1', '#', '*', '0'] {
        phone.audio(Codec::Pcmu, &[0; 160]).await;
        phone.press(key).await;
    }
    // Once the phone's packets came, nobody else's count.
    let mut stranger = Phone::new(local).await;
    stranger.press('5').await;
    phone.press('9').await;
    for key in ['1', '#', '*', '0', '9'] {
        assert_eq!(next_event(&mut events).await, MediaEvent::Digit(key));
    }

    // Our RTP now goes where the phone's came from.
    let p = receive(&phone.socket).await;
    assert_eq!(p.header.payload_type, 0);
}

/// A tone the test sends, different in every packet.
fn tone(packet: usize) -> [i16; 160] {
    std::array::from_fn(|i| (((packet * 160 + i) % 80) as i16 - 40) * 300)
}

#[tokio::test]
async fn a_recording_keeps_the_callers_audio_and_fills_lost_packets() {
    let dir = tempfile::tempdir().unwrap();
    let mut phone = Phone::new("127.0.0.1:9".parse().unwrap()).await;
    let (handle, mut events, local) =
        session(phone.socket.local_addr().unwrap(), Codec::Pcma, dir.path()).await;
    phone.to = local;

    handle.start_recording("msg-1", MINUTE).unwrap();
    for i in 0..50 {
        if i == 25 {
            // Lost on the way.
            phone.timestamp = phone.timestamp.wrapping_add(160);
            continue;
        }
        phone.audio(Codec::Pcma, &tone(i)).await;
    }
    // Once the key is reported, every packet before it was read.
    phone.press('#').await;
    assert_eq!(next_event(&mut events).await, MediaEvent::Digit('#'));
    handle.stop_recording().unwrap();
    let path = dir.path().join("msg-1.wav");
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::RecordingFinished {
            path: path.clone(),
            duration_ms: 1000
        }
    );
    assert!(!dir.path().join(".msg-1.tmp").exists());

    let recorded = prompts().recording(&path).unwrap();
    let mut expected = Vec::new();
    for i in 0..50 {
        if i == 25 {
            expected.extend([0; 160]);
        } else {
            expected.extend(through(Codec::Pcma, &tone(i)));
        }
    }
    assert_eq!(recorded.len(), expected.len());
    assert!(
        *recorded == expected[..],
        "the recording differs from what was sent"
    );
}

#[tokio::test]
async fn hanging_up_mid_message_keeps_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut phone = Phone::new("127.0.0.1:9".parse().unwrap()).await;
    let (handle, mut events, local) =
        session(phone.socket.local_addr().unwrap(), Codec::Pcmu, dir.path()).await;
    phone.to = local;

    handle.start_recording("hangup", MINUTE).unwrap();
    for i in 0..25 {
        phone.audio(Codec::Pcmu, &tone(i)).await;
    }
    phone.press('1').await;
    assert_eq!(next_event(&mut events).await, MediaEvent::Digit('1'));
    // The call hangs up: its handle goes away without a word.
    drop(handle);
    let path = dir.path().join("hangup.wav");
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::RecordingFinished {
            path: path.clone(),
            duration_ms: 500
        }
    );
    assert_eq!(prompts().recording(&path).unwrap().len(), 25 * 160);
    // And the session is over.
    let end = timeout(DEADLINE, events.recv())
        .await
        .expect("session still running");
    assert_eq!(end, None);
}

#[tokio::test]
async fn close_ends_the_session_and_bad_recordings_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events, _) =
        session("127.0.0.1:9".parse().unwrap(), Codec::Pcmu, dir.path()).await;
    handle.start_recording("../escape", MINUTE).unwrap();
    match next_event(&mut events).await {
        MediaEvent::RecordingFailed(why) => assert!(why.contains("../escape"), "{why}"),
        e => panic!("{e:?}"),
    }
    // A recording that is stopped at once is still a (short) WAV.
    handle.start_recording("empty", MINUTE).unwrap();
    handle.stop_recording().unwrap();
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::RecordingFinished {
            path: dir.path().join("empty.wav"),
            duration_ms: 0
        }
    );
    handle.close().unwrap();
    timeout(DEADLINE, handle.closed())
        .await
        .expect("still running");
    assert!(handle.play(1, vec![Arc::from(vec![1i16; 10])]).is_err());
}
