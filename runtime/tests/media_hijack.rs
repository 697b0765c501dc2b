//! Media that belongs to the call (issue 12, item 3), over real loopback sockets: a
//! stranger sending RTP to a call's port from another port (audio and RFC 4733 keys)
//! gets no audio back and types no key, whether the phone named its own address or sits
//! behind NAT; a phone behind NAT, whose SDP names a private address, is still heard and
//! answered once it sends a consecutive run; and an INVITE naming a third party that
//! never acknowledges gets at most a second of packets sent there. Every wait has a
//! deadline; "nothing arrived" is checked once something later proves the packets in
//! question would have been sent already.

mod live_server;
mod support;

use live_server::Live;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::raw::{self, Call, Phone as SipPhone, answer_challenge};
use switchboard_runtime::media::dtmf::{TelephoneEvent, key_event};
use switchboard_runtime::media::latch::Learning;
use switchboard_runtime::media::rtp::{self, RtpHeader};
use switchboard_runtime::media::send_gate::{SendGate, UNCONFIRMED_PACKETS};
use switchboard_runtime::media::session::{FarEndTrust, Watch, start_watched};
use switchboard_runtime::media::{
    Codec, Direction, MediaEvent, MediaHandle, Negotiated, PromptLibrary,
};
use switchboard_runtime::server::RunOptions;
use switchboard_runtime::sip::digest::DigestAlgorithm;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::Receiver;
use tokio::time::{Instant, timeout};

/// How long any one expected thing may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);

const DTMF_PT: u8 = 101;

/// The PCMU byte of silence.
const SILENT: u8 = 0xFF;

/// A call that waits (half a minute) for four keys over a long prompt, then hangs up.
const PLAN: &str = r#"
dial "7100" -> flow keys
flow keys {
    answer
    ask "main-greeting" digits 4 timeout 30s -> code
    hangup
}
"#;

/// One end of an RTP stream written by hand: consecutive sequence numbers, its own
/// timestamps.
struct RtpPeer {
    socket: UdpSocket,
    to: SocketAddr,
    sequence: u16,
    timestamp: u32,
}

impl RtpPeer {
    async fn bind(ip: &str, to: SocketAddr) -> RtpPeer {
        RtpPeer {
            socket: UdpSocket::bind((ip, 0)).await.unwrap(),
            to,
            sequence: 4000,
            timestamp: 70_000,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    async fn send(&mut self, payload_type: u8, marker: bool, timestamp: u32, payload: &[u8]) {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: 0x5EED_0001,
        };
        let mut packet = header.to_bytes().to_vec();
        packet.extend_from_slice(payload);
        self.sequence = self.sequence.wrapping_add(1);
        self.socket.send_to(&packet, self.to).await.unwrap();
    }

    /// 20 ms of PCMU audio.
    async fn audio(&mut self, pcm: &[i16; 160]) {
        let mut payload = [0u8; 160];
        Codec::Pcmu.encode(pcm, &mut payload);
        self.send(0, false, self.timestamp, &payload).await;
        self.timestamp = self.timestamp.wrapping_add(160);
    }

    /// A key press as RFC 4733 sends it: a start with the marker, progress packets and
    /// the end three times, all with the press's start timestamp.
    async fn press(&mut self, key: char) {
        let event = key_event(key).unwrap();
        let start = self.timestamp;
        for i in 0..6u16 {
            let ev = TelephoneEvent {
                event,
                end: i == 5,
                volume: 10,
                duration: (i + 1) * 160,
            };
            for _ in 0..if i == 5 { 3 } else { 1 } {
                self.send(DTMF_PT, i == 0, start, &ev.to_bytes()).await;
            }
        }
        self.timestamp = self.timestamp.wrapping_add(6 * 160);
    }

    /// Waits for a packet carrying sound; returns how many packets it took.
    async fn hears_sound(&self) -> usize {
        let mut buf = [0u8; 2048];
        let mut packets = 0;
        timeout(DEADLINE, async {
            loop {
                let (n, _) = self.socket.recv_from(&mut buf).await.unwrap();
                packets += 1;
                if audible(&buf[..n]) {
                    return packets;
                }
            }
        })
        .await
        .expect("the phone heard no sound")
    }

    /// Every packet that has arrived so far, without waiting.
    fn arrived(&self) -> Vec<Vec<u8>> {
        let mut packets = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok((n, _)) = self.socket.try_recv_from(&mut buf) {
            packets.push(buf[..n].to_vec());
        }
        packets
    }
}

/// Whether an RTP packet carries sound rather than PCMU silence.
fn audible(packet: &[u8]) -> bool {
    rtp::parse(packet).is_ok_and(|p| p.payload.iter().any(|&b| b != SILENT))
}

/// A tone, different in every packet.
fn tone(packet: usize) -> [i16; 160] {
    std::array::from_fn(|i| (((packet * 160 + i) % 80) as i16 - 40) * 300)
}

/// Another sound altogether: what the stranger would have recorded.
const LOUD: [i16; 160] = [12_000; 160];

async fn next_event(events: &mut Receiver<MediaEvent>) -> MediaEvent {
    timeout(DEADLINE, events.recv())
        .await
        .expect("no media event in time")
        .expect("the session ended")
}

fn prompts() -> PromptLibrary {
    PromptLibrary::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts"))
}

/// A session on loopback whose SDP named `remote`, trusting it as `trust` says.
async fn session(
    remote: SocketAddr,
    trust: FarEndTrust,
    dir: &Path,
) -> (MediaHandle, Receiver<MediaEvent>, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let negotiated = Negotiated {
        remote,
        codec: Codec::Pcmu,
        dtmf_payload_type: Some(DTMF_PT),
        direction: Direction::SendRecv,
    };
    let (handle, events) = start_watched(
        socket,
        negotiated,
        dir.to_path_buf(),
        Watch { inactivity: None },
        trust,
    );
    (handle, events, local)
}

#[tokio::test]
async fn a_stranger_cannot_take_a_live_phones_place_nor_its_recording() {
    // The session learns sources from anywhere (as for a trunk): the loosest rules.
    let dir = tempfile::tempdir().unwrap();
    let phone_socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (handle, mut events, local) = session(
        phone_socket.local_addr().unwrap(),
        FarEndTrust::confirmed(),
        dir.path(),
    )
    .await;
    let mut phone = RtpPeer {
        socket: phone_socket,
        to: local,
        sequence: 100,
        timestamp: 8_000,
    };
    let mut stranger = RtpPeer::bind("127.0.0.1", local).await;

    // The stranger sprays the port before the phone says a word, then the phone talks.
    for _ in 0..10 {
        stranger.audio(&LOUD).await;
    }
    for i in 0..5 {
        phone.audio(&tone(i)).await;
    }
    phone.press('1').await;
    assert_eq!(next_event(&mut events).await, MediaEvent::Digit('1'));
    // Whatever reached the stranger before the phone spoke is behind us now.
    stranger.arrived();

    // While the phone talks, the stranger's consecutive stream and keys are ignored.
    handle
        .start_recording("msg", Duration::from_secs(60))
        .unwrap();
    for i in 0..50 {
        phone.audio(&tone(i)).await;
        stranger.audio(&LOUD).await;
        if i % 10 == 0 {
            stranger.press('7').await;
        }
    }
    phone.press('#').await;
    assert_eq!(next_event(&mut events).await, MediaEvent::Digit('#'));

    // The phone hears a prompt through; by its end, nothing at all went to the stranger.
    phone.arrived();
    handle
        .play(1, vec![prompts().prompt("beep", "en", "en").unwrap()])
        .unwrap();
    assert_eq!(next_event(&mut events).await, MediaEvent::PlayFinished(1));
    assert!(
        phone.arrived().iter().any(|p| audible(p)),
        "the phone heard no beep"
    );
    let stolen = stranger.arrived();
    assert!(
        stolen.is_empty(),
        "{} packets went to the stranger",
        stolen.len()
    );

    // The recording is the phone's voice alone.
    handle.stop_recording().unwrap();
    let MediaEvent::RecordingFinished { path, .. } = next_event(&mut events).await else {
        panic!("the recording was not stored");
    };
    let recorded = prompts().recording(&path).unwrap();
    let expected: Vec<i16> = (0..50)
        .flat_map(tone)
        .map(|s| Codec::Pcmu.decode_sample(Codec::Pcmu.encode_sample(s)))
        .collect();
    assert!(
        *recorded == expected[..],
        "the recording holds more than the phone's voice ({} samples, the phone sent {})",
        recorded.len(),
        expected.len()
    );
}

#[tokio::test]
async fn an_unconfirmed_far_end_gets_a_second_of_packets_until_it_speaks() {
    let dir = tempfile::tempdir().unwrap();
    let phone_socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let trust = FarEndTrust {
        learning: Learning::Never,
        gate: SendGate::until_confirmed(UNCONFIRMED_PACKETS),
    };
    let (handle, mut events, local) =
        session(phone_socket.local_addr().unwrap(), trust, dir.path()).await;
    let mut phone = RtpPeer {
        socket: phone_socket,
        to: local,
        sequence: 1,
        timestamp: 0,
    };
    // Three seconds of prompt (150 packets' worth) go by without a word from the far end.
    let prompt = prompts().prompt("please-hold", "en", "en").unwrap();
    let times = (3 * 8000usize).div_ceil(prompt.len());
    handle.play(1, vec![prompt; times]).unwrap();
    assert_eq!(next_event(&mut events).await, MediaEvent::PlayFinished(1));
    let sent = phone.arrived().len();
    assert!(
        (1..=UNCONFIRMED_PACKETS as usize).contains(&sent),
        "{sent} packets before the far end confirmed"
    );
    // Its first packet confirms it: the stream resumes.
    phone.audio(&tone(0)).await;
    let resumed = timeout(DEADLINE, async {
        let mut buf = [0u8; 2048];
        phone.socket.recv_from(&mut buf).await.unwrap()
    })
    .await;
    assert!(resumed.is_ok(), "no RTP after the far end spoke");
}

/// The body of a response or request's SDP: its connection address and audio port.
fn sdp_address(body: &str) -> SocketAddr {
    let ip = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))
        .expect("a c= line");
    let port = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .expect("an m= line");
    format!("{}:{port}", ip.trim()).parse().unwrap()
}

fn offer(media: SocketAddr) -> String {
    format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
        ip = media.ip(),
        port = media.port()
    )
}

/// 101 calls 7100 from `sip` offering `media`, answering the server's challenge; returns
/// the dialog (with the server's tag) and the server's RTP address from its 200 OK. The
/// 200 is not acknowledged here.
async fn invite(live: &Live, sip: &SipPhone, media: SocketAddr) -> (Call, SocketAddr) {
    let call = Call::new("101", "7100", live.listening.sip);
    let contact = format!("Contact: <sip:101@{}>", sip.addr());
    let body = offer(media);
    let challenge = sip
        .ask("INVITE", &call, 1, std::slice::from_ref(&contact), &body)
        .await;
    assert_eq!(challenge.status(), 407, "{}", challenge.0);
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        DigestAlgorithm::Md5,
        "INVITE",
        &call.uri,
        "101",
        "secret",
        1,
    );
    let headers = [contact, format!("Proxy-Authorization: {auth}")];
    let b = raw::branch();
    sip.send(raw::request(
        "INVITE",
        &call,
        2,
        &b,
        sip.addr(),
        &headers,
        &body,
    ))
    .await;
    let ok = loop {
        let response = sip.response(&call.call_id, "2 INVITE").await;
        if response.status() >= 200 {
            break response;
        }
    };
    assert_eq!(ok.status(), 200, "{}", ok.0);
    let mut dialog = call.clone();
    dialog.to_tag = Some(ok.to_tag());
    (dialog, sdp_address(ok.body()))
}

async fn ack(sip: &SipPhone, dialog: &Call) {
    sip.send(raw::request(
        "ACK",
        dialog,
        2,
        &raw::branch(),
        sip.addr(),
        &[],
        "",
    ))
    .await;
}

/// A call whose SDP names `sdp` (`None`: the phone's own RTP address) while the phone's
/// RTP comes from 127.0.0.1; a stranger bound to `stranger_ip` sprays the call's port
/// from the moment it is answered. Returns the keys the call heard, how many packets the
/// phone got until one carried sound, and how many the stranger got in all.
async fn call_with_a_stranger(
    sdp: Option<SocketAddr>,
    stranger_ip: &str,
) -> (String, usize, usize) {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let sip = SipPhone::new(live.listening.sip).await;
    let mut phone = RtpPeer::bind("127.0.0.1", "127.0.0.1:9".parse().unwrap()).await;
    let named = sdp.unwrap_or_else(|| phone.addr());
    let (dialog, server_rtp) = invite(&live, &sip, named).await;
    phone.to = server_rtp;
    let mut stranger = RtpPeer::bind(stranger_ip, server_rtp).await;

    // The stranger is first: a consecutive run and a key, before the ACK.
    for _ in 0..8 {
        stranger.audio(&LOUD).await;
    }
    stranger.press('7').await;
    ack(&sip, &dialog).await;
    // The phone speaks (a run, as a phone behind NAT must), the stranger too, and the
    // phone waits to hear the greeting.
    for i in 0..8 {
        phone.audio(&tone(i)).await;
        stranger.audio(&LOUD).await;
    }
    let heard = phone.hears_sound().await;
    // It keys 1234, the stranger pressing 9 between each.
    for key in ['1', '2', '3', '4'] {
        stranger.press('9').await;
        stranger.audio(&LOUD).await;
        phone.press(key).await;
        phone.audio(&tone(0)).await;
    }
    let digits = keys_heard(&live, 4).await;
    // The greeting went on up to the first key: none of it went to the stranger.
    let stolen = stranger.arrived().len();
    (digits, heard, stolen)
}

/// The first four keys the call to 7100 heard, once it has heard them.
async fn keys_heard(live: &Live, n: usize) -> String {
    live_server::within("the call to hear its keys", async {
        loop {
            let calls = live.calls.list();
            if let Some(call) = calls
                .live
                .iter()
                .chain(calls.recent.iter())
                .find(|c| c.dialled == "7100" && c.digits.len() >= n)
            {
                return call.digits.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_on_another_port_types_no_key_and_hears_nothing() {
    // The phone named its own address, the one its SIP came from: nothing else is heard.
    let (digits, heard, stolen) = call_with_a_stranger(None, "127.0.0.1").await;
    assert_eq!(digits, "1234", "the call heard the stranger's keys");
    assert!(heard > 0, "the phone heard nothing");
    assert_eq!(stolen, 0, "the stranger got the call's audio");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_behind_nat_is_heard_after_a_run_and_a_stranger_is_not() {
    // The SDP names a private address nothing comes from: the phone's run from the
    // address its SIP came from is learnt, the stranger's (from another address) is not.
    let private = "192.168.77.7:40000".parse().unwrap();
    let (digits, heard, stolen) = call_with_a_stranger(Some(private), "127.0.0.2").await;
    assert_eq!(digits, "1234", "the call heard the stranger's keys");
    assert!(heard > 0, "the phone behind NAT heard nothing");
    assert_eq!(stolen, 0, "the stranger got the call's audio");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_naming_a_third_party_sends_it_a_second_of_packets_at_most() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let victim = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let forger = SipPhone::new(live.listening.sip).await;
    // The third party reads all the while, so no packet is lost to a full socket buffer.
    let counted = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let counting = tokio::spawn({
        let (victim, counted) = (victim.clone(), counted.clone());
        async move {
            let mut buf = [0u8; 2048];
            while let Ok((n, _)) = victim.recv_from(&mut buf).await {
                counted.0.fetch_add(1, Ordering::Relaxed);
                counted.1.fetch_add(n, Ordering::Relaxed);
            }
        }
    });
    // Answered, and never acknowledged: the stack gives up after 64 × T1 (32 s).
    let started = Instant::now();
    let (_dialog, _) = invite(&live, &forger, victim.local_addr().unwrap()).await;
    let record = live.ended_call("7100").await;
    // Counting stops between packets (it awaits nowhere else); the rest are waiting.
    counting.abort();
    let _ = counting.await;
    let (mut packets, mut bytes) = (
        counted.0.load(Ordering::Relaxed),
        counted.1.load(Ordering::Relaxed),
    );
    let mut buf = [0u8; 2048];
    while let Ok((n, _)) = victim.try_recv_from(&mut buf) {
        packets += 1;
        bytes += n;
    }
    println!(
        "a forged INVITE: {packets} packets ({bytes} bytes) to the third party over the \
         {:.1} s until the call ended ({:?})",
        started.elapsed().as_secs_f64(),
        record.outcome
    );
    assert!(
        packets <= UNCONFIRMED_PACKETS as usize,
        "{packets} packets went to an address that never confirmed"
    );
}
