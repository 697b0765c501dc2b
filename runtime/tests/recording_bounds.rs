//! Recordings with a bound (issue 12, item 4), over real loopback sockets: a caller's
//! RTP cannot make a recording longer than the audio it sent plus a second, nor longer
//! than the recording's maximum length, whatever its timestamps say; and what is stored
//! (the WAV, its folder, the data folder, the database) is readable by the server's user
//! only, loose modes left from before being tightened at start-up.

mod live_server;

use live_server::{Live, read_store};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use switchboard_core::store::{Folder, Store};
use switchboard_runtime::media::dtmf::{TelephoneEvent, key_event};
use switchboard_runtime::media::rtp::RtpHeader;
use switchboard_runtime::media::{self, Codec, Direction, MediaEvent, MediaHandle, Negotiated};
use switchboard_runtime::server::{RunOptions, store_path};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::Receiver;
use tokio::time::{Instant, timeout};

/// How long any one expected thing may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);

const DTMF_PT: u8 = 101;

/// The bytes a WAV of `samples` 16-bit mono samples takes, its 44-byte header included.
fn wav_bytes(samples: u64) -> u64 {
    44 + 2 * samples
}

/// The test's phone: it writes its own RTP headers, so it can lie in them.
struct Phone {
    socket: UdpSocket,
    to: std::net::SocketAddr,
    sequence: u16,
    timestamp: u32,
}

impl Phone {
    async fn send(&mut self, payload_type: u8, marker: bool, timestamp: u32, payload: &[u8]) {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: 0x5EC0_0001,
        };
        let mut packet = header.to_bytes().to_vec();
        packet.extend_from_slice(payload);
        self.sequence = self.sequence.wrapping_add(1);
        self.socket.send_to(&packet, self.to).await.unwrap();
    }

    /// 20 ms of a tone, then the clock moved on by `advance` samples (160 when honest).
    async fn audio(&mut self, advance: u32) {
        let payload: [u8; 160] = std::array::from_fn(|i| (i * 7) as u8);
        self.send(0, false, self.timestamp, &payload).await;
        self.timestamp = self.timestamp.wrapping_add(advance);
    }

    /// A key press as RFC 4733 sends it. Once the session reports the key, every packet
    /// sent before it has been read: the test waits on that, not on a sleep.
    async fn press(&mut self, key: char) {
        let event = key_event(key).unwrap();
        let start = self.timestamp;
        for i in 0..4u16 {
            let ev = TelephoneEvent {
                event,
                end: i == 3,
                volume: 10,
                duration: (i + 1) * 160,
            };
            self.send(DTMF_PT, i == 0, start, &ev.to_bytes()).await;
        }
        self.timestamp = self.timestamp.wrapping_add(4 * 160);
    }
}

/// A media session on loopback recording into `dir`, and the phone that talks to it.
async fn recording(
    dir: &Path,
    name: &str,
    max: Duration,
) -> (MediaHandle, Receiver<MediaEvent>, Phone) {
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let negotiated = Negotiated {
        remote: phone.local_addr().unwrap(),
        codec: Codec::Pcmu,
        dtmf_payload_type: Some(DTMF_PT),
        direction: Direction::SendRecv,
    };
    let (handle, events) = media::start(socket, negotiated, dir.to_path_buf());
    handle.start_recording(name, max).unwrap();
    let phone = Phone {
        socket: phone,
        to: local,
        sequence: 7,
        timestamp: 90_000,
    };
    (handle, events, phone)
}

/// Waits for the next event that is not a played prompt.
async fn next_event(events: &mut Receiver<MediaEvent>) -> MediaEvent {
    loop {
        let event = timeout(DEADLINE, events.recv())
            .await
            .expect("no media event in time")
            .expect("the session ended");
        if !matches!(event, MediaEvent::PlayFinished(_)) {
            return event;
        }
    }
}

/// Waits until the session has read every packet sent so far (it reports a key pressed
/// after them), so the next burst cannot overflow the socket's receive buffer and lose
/// packets, the key's included, on a busy machine.
async fn read_so_far(events: &mut Receiver<MediaEvent>, phone: &mut Phone) {
    phone.press('5').await;
    assert_eq!(next_event(events).await, MediaEvent::Digit('5'));
}

/// Ends the recording after the phone's last packet was read; returns the stored file's
/// length in samples and bytes.
async fn stored(
    handle: &MediaHandle,
    events: &mut Receiver<MediaEvent>,
    phone: &mut Phone,
) -> (u64, u64, std::path::PathBuf) {
    phone.press('#').await;
    assert_eq!(next_event(events).await, MediaEvent::Digit('#'));
    handle.stop_recording().unwrap();
    let MediaEvent::RecordingFinished { path, .. } = next_event(events).await else {
        panic!("the recording was not stored");
    };
    let samples = hound::WavReader::open(&path).unwrap().len() as u64;
    let bytes = std::fs::metadata(&path).unwrap().len();
    (samples, bytes, path)
}

/// A file's permission bits in octal, as `ls` and `chmod` spell them.
fn mode(path: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

#[tokio::test]
async fn a_timestamp_jumping_five_seconds_a_packet_adds_no_invented_silence() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut events, mut phone) =
        recording(dir.path(), "jumps", Duration::from_secs(180)).await;
    let started = Instant::now();
    // 250 packets of 20 ms, each claiming the next comes 5 s later: 1,250 s of
    // "silence" if the gaps were believed (and 5 s gaps were, before the bound).
    const PACKETS: u64 = 250;
    for packet in 1..=PACKETS {
        phone.audio(5 * 8000 + 160).await;
        if packet % 50 == 0 {
            read_so_far(&mut events, &mut phone).await;
        }
    }
    let (samples, bytes, _) = stored(&handle, &mut events, &mut phone).await;
    let elapsed = started.elapsed();

    // What was sent, plus at most the fill bound: the silence the wall clock allows
    // (the time the test took and a second of slack).
    let sent = PACKETS * 160;
    let fill_cap = (elapsed.as_millis() as u64 + 1000) * 8;
    assert!(
        samples <= sent + fill_cap,
        "{samples} samples stored for {sent} sent in {elapsed:?}"
    );
    assert!(bytes <= wav_bytes(sent + fill_cap), "{bytes} bytes on disk");
    assert!(
        samples >= sent,
        "the audio itself is kept: {samples} of {sent}"
    );
}

#[tokio::test]
async fn a_recording_stops_at_its_maximum_length_however_much_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let max = Duration::from_secs(2);
    let (handle, mut events, mut phone) = recording(dir.path(), "long", max).await;
    // Ten seconds of honest audio, as fast as loopback takes it, and one-second jumps
    // between bursts: neither real audio nor silence may pass the two seconds.
    for burst in 0..10 {
        for _ in 0..50 {
            phone.audio(160).await;
        }
        if burst % 2 == 1 {
            phone.timestamp = phone.timestamp.wrapping_add(8000);
        }
        read_so_far(&mut events, &mut phone).await;
    }
    let (samples, bytes, path) = stored(&handle, &mut events, &mut phone).await;
    assert_eq!(samples, 2 * 8000, "{}", path.display());
    assert_eq!(bytes, wav_bytes(2 * 8000));
}

/// A message left through a real call (sipp as the phone), stopped by the plan's
/// `max`; the data folder and the database start out world-readable, as an older
/// version left them.
const PLAN: &str = r#"
dial "7003" -> flow message
flow message {
    answer
    record message for 102 max 2s
    hangup
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_their_folder_and_the_database_are_private() {
    let mut live = Live::start_configured(
        PLAN,
        Duration::from_secs(5),
        RunOptions::default(),
        |config| {
            let data = &config.data_dir;
            std::fs::create_dir_all(data.join("recordings")).unwrap();
            for (path, loose) in [
                (data.clone(), 0o755),
                (data.join("recordings"), 0o755),
                (store_path(data), 0o644),
            ] {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
            }
        },
    )
    .await;
    let data = live.data();
    assert_eq!(mode(&data), "700", "the data folder");
    assert_eq!(
        mode(&data.join("recordings")),
        "700",
        "the recordings folder"
    );
    assert_eq!(mode(&store_path(&data)), "600", "the database");

    let call = live.sipp("talk_until_bye.xml", "7003");
    live.sipp_ok(call, "the call, ended by the plan after the message")
        .await;
    live.stop.cancel();
    live.stopped().await;

    let messages = read_store(&store_path(&data), |s| {
        s.messages("102", Folder::New).unwrap()
    });
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let wav = data
        .join("recordings")
        .join(format!("{}.wav", messages[0].recording));
    assert_eq!(mode(&wav), "600", "the stored message");
    // The plan's two seconds, give or take the packets in flight at the stop.
    assert!(messages[0].duration_ms <= 2000, "{messages:#?}");
    let wal = data.join("switchboard.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), "600", "the database's log");
    }
    assert_eq!(mode(&store_path(&data)), "600", "the database");
}
