//! Two calls' media joined: the caller's RTP goes to the phone that answered and back,
//! through the server (so phones behind NAT reach each other and a call can later be
//! recorded or transferred).
//!
//! One task owns both sockets. Each packet is judged by the receiving side's [`Latch`]
//! (so a stranger is no more heard in a bridge than in an IVR), then sent on to the
//! other side: audio in the other side's codec (G.711 μ-law and A-law transcode sample
//! by sample when the phones chose differently), RFC 4733 events under the other side's
//! payload type, anything else dropped. Each direction keeps one SSRC and continues the
//! sequence numbers and timestamps the other side last heard from us, so a phone sees
//! one continuous stream from the first prompt through the conversation, even when the
//! far end restarts its own stream (a re-INVITE, a new SSRC). One packet's rewriting is
//! [`relay`]'s, which the caller's session also uses for early media before the answer,
//! so the stream the caller heard then goes on here.
//!
//! Hold: when one phone puts the call on hold ([`BridgeHandle::hold`]), nothing is
//! relayed either way, and the held phone hears hold music instead, 20 ms at a time on
//! the bridge's clock, in the same stream (SSRC, sequence numbers, timestamps) it heard
//! the conversation in; when the holder takes the call off hold, relaying resumes and the
//! stream goes on again. While a phone holds, silence is expected and not watched.
//!
//! The task allocates nothing per packet: one receive buffer and one send buffer, and
//! the packet is rewritten into the send buffer; the music was decoded once and is
//! encoded frame by frame into the send buffer.

use super::g711::Codec;
use super::hold_music::HoldMusic;
use super::latch::{Latch, Verdict};
use super::player::FRAME_SAMPLES;
use super::relay::{self, Agreed, Rewrite};
use super::rtp::{self, HEADER_LEN, OutgoingStream};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// One side of a bridge: a call's socket and what was agreed with its phone.
pub struct Side {
    pub socket: UdpSocket,
    /// Whose packets are this side's, and where ours go.
    pub latch: Latch,
    pub codec: Codec,
    pub dtmf_payload_type: Option<u8>,
    /// The stream this side has heard from us so far (continued by the bridge).
    pub stream: OutgoingStream,
}

/// Which side of a bridge: `a` or `b` as given to [`start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    A,
    B,
}

impl Side {
    /// What this side's phone agreed to receive.
    pub fn agreed(&self) -> Agreed {
        Agreed {
            codec: self.codec,
            dtmf_payload_type: self.dtmf_payload_type,
        }
    }
}

impl Which {
    fn index(self) -> usize {
        match self {
            Which::A => 0,
            Which::B => 1,
        }
    }
}

/// Stops a running bridge; dropping it stops the bridge too.
pub struct BridgeHandle {
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    /// Holds and resumes for the task; the task reads it until the bridge stops.
    control: mpsc::UnboundedSender<Control>,
    /// Fires once when both phones have been silent for the watch's limit; taken (set
    /// to `None`) once it has been read.
    pub silent: Option<oneshot::Receiver<()>>,
}

/// What the call asks of its running bridge.
enum Control {
    /// That side's phone put the call on hold; the other hears this music.
    Hold(Which, Arc<[i16]>),
    /// That side's phone took the call off hold.
    Resume(Which),
}

impl BridgeHandle {
    /// `holder`'s phone put the call on hold: nothing is relayed, and the other phone
    /// hears `music` (looped) unless it holds too.
    pub fn hold(&self, holder: Which, music: Arc<[i16]>) {
        let _ = self.control.send(Control::Hold(holder, music));
    }

    /// `holder`'s phone took the call off hold: relaying resumes once neither holds.
    pub fn resume(&self, holder: Which) {
        let _ = self.control.send(Control::Resume(holder));
    }

    /// Stops the bridge and waits until both sockets are closed.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

/// Relays between `a` and `b` until closed, watching for both to go silent for
/// `inactivity` (`None` watches nothing).
pub fn start(a: Side, b: Side, inactivity: Option<Duration>) -> BridgeHandle {
    let (stop, stopped) = oneshot::channel();
    let (tell_silent, silent) = oneshot::channel();
    let (control, controlled) = mpsc::unbounded_channel();
    let done = tokio::spawn(relay([a, b], stopped, controlled, inactivity, tell_silent));
    BridgeHandle {
        stop: Some(stop),
        done: Some(done),
        control,
        silent: Some(silent),
    }
}

async fn relay(
    mut sides: [Side; 2],
    mut stopped: oneshot::Receiver<()>,
    mut control: mpsc::UnboundedReceiver<Control>,
    inactivity: Option<Duration>,
    tell_silent: oneshot::Sender<()>,
) {
    let (mut from_a, mut from_b) = ([0u8; 2048], [0u8; 2048]);
    let mut outbound = [0u8; 2048];
    // Towards each side: the far end's stream being followed into ours.
    let mut towards = [Rewrite::default(), Rewrite::default()];
    let mut hold = Hold::default();
    let mut last_heard = Instant::now();
    let mut tell_silent = Some(tell_silent);
    let mut check = tokio::time::interval(SILENCE_CHECK);
    loop {
        let relaying = hold.relaying();
        let [a, b] = &mut sides;
        let [to_a, to_b] = &mut towards;
        tokio::select! {
            _ = &mut stopped => break,
            received = a.socket.recv_from(&mut from_a) => {
                if let Ok((n, from)) = received
                    && forward(&from_a[..n], from, a, b, to_b, &mut outbound, relaying).await
                {
                    last_heard = Instant::now();
                }
            }
            received = b.socket.recv_from(&mut from_b) => {
                if let Ok((n, from)) = received
                    && forward(&from_b[..n], from, b, a, to_a, &mut outbound, relaying).await
                {
                    last_heard = Instant::now();
                }
            }
            Some(change) = control.recv() => {
                hold.change(change, &mut sides, &mut towards, Instant::now());
            }
            _ = music_tick(&mut hold.clock), if hold.clock.is_some() => {
                hold.play(&mut sides, &mut outbound).await;
            }
            _ = check.tick(), if inactivity.is_some() && tell_silent.is_some() => {
                if hold.any() {
                    // A call on hold is quiet on purpose.
                    last_heard = Instant::now();
                }
                if inactivity.is_some_and(|limit| last_heard.elapsed() > limit)
                    && let Some(tell) = tell_silent.take()
                {
                    let _ = tell.send(());
                }
            }
        }
    }
}

/// Who holds, and what each side hears meanwhile.
#[derive(Default)]
struct Hold {
    /// The music each side's phone chose to play while it holds; `Some` while it holds.
    holding: [Option<Arc<[i16]>>; 2],
    /// The music each side hears now: while the other holds and it does not.
    hearing: [Option<HoldMusic>; 2],
    /// Whether the next music packet to each side starts the music (its marker bit).
    music_starts: [bool; 2],
    /// Since when each side has heard nothing from us (neither relay nor music), so its
    /// timestamps jump by the time it heard nothing when its stream goes on.
    quiet_since: [Option<Instant>; 2],
    /// Paces the music while anyone hears it; `None` otherwise, so an ordinary bridged
    /// call has no timer.
    clock: Option<tokio::time::Interval>,
}

impl Hold {
    fn any(&self) -> bool {
        self.holding.iter().any(Option::is_some)
    }

    /// Whether audio goes from phone to phone: while nobody holds.
    fn relaying(&self) -> bool {
        !self.any()
    }

    fn change(
        &mut self,
        change: Control,
        sides: &mut [Side; 2],
        towards: &mut [Rewrite; 2],
        now: Instant,
    ) {
        match change {
            Control::Hold(holder, music) => self.holding[holder.index()] = Some(music),
            Control::Resume(holder) => self.holding[holder.index()] = None,
        }
        for side in 0..2 {
            let other = 1 - side;
            let hears_music = self.holding[side].is_none() && self.holding[other].is_some();
            let hears_phone = self.relaying();
            match (&self.hearing[side], hears_music) {
                (None, true) => {
                    let music = self.holding[other]
                        .clone()
                        .unwrap_or_else(|| Vec::new().into());
                    self.hearing[side] = Some(HoldMusic::new(music));
                    self.music_starts[side] = true;
                }
                (Some(_), false) => self.hearing[side] = None,
                _ => {}
            }
            // Whatever this side hears next starts a new run of our stream: a relayed
            // packet must not be numbered from before the music.
            towards[side].following = None;
            let silent = !hears_music && !hears_phone;
            match (self.quiet_since[side], silent) {
                (None, true) => self.quiet_since[side] = Some(now),
                (Some(since), false) => {
                    let quiet = now.saturating_duration_since(since);
                    let samples = quiet.as_millis() * u128::from(SAMPLE_RATE) / 1000;
                    sides[side].stream.advance(samples as u32);
                    self.quiet_since[side] = None;
                }
                _ => {}
            }
        }
        let playing = self.hearing.iter().any(Option::is_some);
        if playing && self.clock.is_none() {
            let mut clock = tokio::time::interval(MUSIC_FRAME);
            clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            self.clock = Some(clock);
        } else if !playing {
            self.clock = None;
        }
    }

    /// Sends each side that hears music its next 20 ms of it.
    async fn play(&mut self, sides: &mut [Side; 2], out: &mut [u8; 2048]) {
        let each = sides
            .iter_mut()
            .zip(self.hearing.iter_mut())
            .zip(self.music_starts.iter_mut());
        for ((side, hearing), starts) in each {
            let Some(music) = hearing else { continue };
            let frame: &mut [u8; FRAME_SAMPLES] = (&mut out
                [HEADER_LEN..HEADER_LEN + FRAME_SAMPLES])
                .try_into()
                .expect("a frame fits the send buffer");
            music.next_frame(side.codec, frame);
            let header = side.stream.next_header(side.codec.payload_type(), *starts);
            *starts = false;
            side.stream.advance(FRAME_SAMPLES as u32);
            out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
            let destination = side.latch.send_to();
            if destination.port() != 0 && !destination.ip().is_unspecified() {
                let _ = side
                    .socket
                    .send_to(&out[..HEADER_LEN + FRAME_SAMPLES], destination)
                    .await;
            }
        }
    }
}

/// The next 20 ms of music is due; pending without a clock.
async fn music_tick(clock: &mut Option<tokio::time::Interval>) {
    match clock {
        Some(clock) => {
            clock.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The music's frame length.
const MUSIC_FRAME: Duration = Duration::from_millis(20);

/// Samples a second, for the timestamps of time heard in silence.
const SAMPLE_RATE: u32 = 8000;

/// How often the bridge looks at how long both phones have been silent.
const SILENCE_CHECK: Duration = Duration::from_millis(250);

/// Sends on to `to` what `from` received from `sender`, if it is `from`'s phone's and
/// the bridge is `relaying`; whether it was (the phone is alive, whatever its packet
/// carried, even on hold).
async fn forward(
    data: &[u8],
    sender: SocketAddr,
    from: &mut Side,
    to: &mut Side,
    rewrite: &mut Rewrite,
    out: &mut [u8; 2048],
    relaying: bool,
) -> bool {
    let Ok(packet) = rtp::parse(data) else {
        return false;
    };
    if from
        .latch
        .judge(sender, packet.header.sequence, Instant::now().into_std())
        == Verdict::Ignore
    {
        return false;
    }
    if !relaying {
        return true;
    }
    let Some(len) = relay::translate(
        &packet,
        from.agreed(),
        to.agreed(),
        rewrite,
        &mut to.stream,
        out,
    ) else {
        return true; // comfort noise, video, anything the other side did not agree to
    };
    let destination = to.latch.send_to();
    if destination.port() != 0 && !destination.ip().is_unspecified() {
        let _ = to.socket.send_to(&out[..len], destination).await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::RtpHeader;

    fn side(socket: UdpSocket) -> Side {
        let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
        Side {
            socket,
            latch: Latch::new(nowhere, crate::media::latch::Learning::Anywhere),
            codec: Codec::Pcmu,
            dtmf_payload_type: None,
            stream: OutgoingStream::new(1, 1, 1),
        }
    }

    #[tokio::test]
    async fn a_bridge_whose_phones_both_went_silent_says_so() {
        let a = side(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let b = side(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let limit = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let bridge = start(a, b, Some(limit));
        tokio::time::timeout(Duration::from_secs(5), bridge.silent.unwrap())
            .await
            .expect("the silence is reported")
            .unwrap();
        assert!(started.elapsed() >= limit);
    }

    /// A bridge side whose phone is `phone` (it sends from there, and hears there).
    async fn side_for(phone: &UdpSocket) -> Side {
        let mut side = side(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        side.latch = Latch::new(
            phone.local_addr().unwrap(),
            crate::media::latch::Learning::Never,
        );
        side
    }

    /// The payload of the next packet `phone` hears.
    async fn heard(phone: &UdpSocket) -> Vec<u8> {
        let mut buffer = [0u8; 2048];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buffer))
            .await
            .expect("a packet")
            .unwrap();
        buffer[HEADER_LEN..n].to_vec()
    }

    /// Whether `phone` falls silent: within 2 s, a stretch of 200 ms in which it hears
    /// nothing (what was in flight when the bridge was told is let through first).
    async fn falls_silent(phone: &UdpSocket) -> bool {
        let mut buffer = [0u8; 2048];
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            while phone.try_recv_from(&mut buffer).is_ok() {}
            let quiet =
                tokio::time::timeout(Duration::from_millis(200), phone.recv_from(&mut buffer));
            if quiet.await.is_err() {
                return true;
            }
        }
        false
    }

    fn tune(level: i16) -> Arc<[i16]> {
        vec![level; 800].into()
    }

    #[tokio::test]
    async fn whoever_holds_the_other_hears_its_music_and_nobody_hears_anything_while_both_hold() {
        let phone_a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let phone_b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a, b) = (side_for(&phone_a).await, side_for(&phone_b).await);
        let to_b = b.socket.local_addr().unwrap();
        let bridge = start(a, b, None);
        let music = |level| vec![Codec::Pcmu.encode_sample(level); FRAME_SAMPLES];

        // A holds: B hears A's music.
        bridge.hold(Which::A, tune(1000));
        assert_eq!(heard(&phone_b).await, music(1000));
        // B holds too: nobody hears anything.
        bridge.hold(Which::B, tune(-2000));
        assert!(falls_silent(&phone_a).await && falls_silent(&phone_b).await);
        // A resumes while B still holds: A hears B's music.
        bridge.resume(Which::A);
        assert_eq!(heard(&phone_a).await, music(-2000));
        // B resumes: what B's phone sends reaches A again, and the music stops.
        bridge.resume(Which::B);
        let mut packet = RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: 1,
            timestamp: 0,
            ssrc: 5,
        }
        .to_bytes()
        .to_vec();
        packet.extend([0x33; FRAME_SAMPLES]);
        let relayed = loop {
            phone_b.send_to(&packet, to_b).await.unwrap();
            let payload = heard(&phone_a).await;
            if payload != music(-2000) {
                break payload;
            }
        };
        assert_eq!(relayed, vec![0x33; FRAME_SAMPLES]);
        bridge.close().await;
    }
}
