//! One call's media: a tokio task that owns the RTP socket, sends a packet every 20 ms
//! (the playing audio, else silence, so NAT bindings stay open and timestamps stay
//! continuous), and receives the caller's audio (for recordings) and keys.
//!
//! The task is driven by `MediaCommand`s through a `MediaHandle` and reports
//! `MediaEvent`s. Pacing uses absolute deadlines: a late packet is sent at once and the
//! next one keeps its own deadline, so the schedule never drifts; after a stall of over
//! 100 ms the missed packets are skipped (their timestamps too) rather than burst.
//!
//! The task never touches a file: a recording is written by a blocking task of its own
//! (`RecordingTask`) that the session hands the decoded audio to, a second at a time,
//! so neither a slow disk nor the fsync at the end can delay a packet.
//!
//! A far end that sends nothing for `Watch::inactivity` (a phone that lost power or its
//! network, and so never sends a BYE) is reported once as `MediaEvent::Inactive`, so the
//! call can end instead of staying "live" forever.
//!
//! Whose packets count is the `Latch`'s decision (the SDP's address, or a source learnt
//! behind NAT under strict rules); a packet it refuses is neither recorded nor read for
//! keys, and does not count as the far end being alive. How much goes out before the
//! far end confirms is the `SendGate`'s: a call answered towards an address that never
//! acknowledges gets a second of packets, not a stream.
//!
//! Early media: while the caller is not yet answered, a rung phone or a provider may
//! send audio before its answer (ringback, "this number is not in service"). The
//! session relays it to the caller itself (`MediaHandle::hear_early`) rather than
//! handing the caller over to a bridge: if that phone then fails, the plan goes on
//! with the caller's session as it was (its player, its keys, its recording, its
//! inactivity watch) and nothing has to be rebuilt; if it answers, the session hands
//! the rung phone's socket back (`end_early`) and then itself over, and the bridge
//! goes on in the same stream. While it relays, the session's own 20 ms packets stop,
//! so the caller hears one stream (same SSRC, sequence numbers going on by one): the
//! relayed packets are renumbered into it (`relay`), and when the relay ends the
//! stream's clock is moved on by the time nothing was sent. Relayed packets count
//! against the `SendGate` like any other.

use super::bridge::Side;
use super::dtmf::DtmfReceiver;
use super::g711::Codec;
use super::latch::{Latch, Learning, Verdict};
use super::player::{FRAME_SAMPLES, Frame, Player};
use super::recording::RecordingWriter;
use super::recording::timeline::Timeline;
use super::relay::{self, Agreed, Rewrite};
use super::rtp::{self, HEADER_LEN, OutgoingStream, RtpHeader};
use super::sdp::{Direction, Negotiated};
use super::send_gate::SendGate;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The packet interval.
pub const PTIME: Duration = Duration::from_millis(20);

/// How many events may wait for the call to read them before the media task waits too.
pub const EVENT_CAPACITY: usize = 64;

/// A stall longer than this skips the missed packets instead of sending them in a burst.
const MAX_CATCH_UP: Duration = Duration::from_millis(100);

/// What the call asks of its media.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaCommand {
    /// Play these buffers back to back after any queued play, then report
    /// `PlayFinished(id)`.
    Play { id: u32, audio: Vec<Arc<[i16]>> },
    /// Stop play `id` (playing or queued); `PlayFinished(id)` follows unless it already did.
    StopPlaying(u32),
    /// Record the caller into `<recordings_dir>/<name>.wav`, at most `max` of audio,
    /// finishing any recording already running.
    StartRecording { name: String, max: Duration },
    /// Finish the recording; `RecordingFinished` (or `RecordingFailed`) follows.
    StopRecording,
    /// Stop watching the far end for inactivity (it may have put the call on hold).
    Unwatch,
    /// Watch the far end again, from now (it took the call off hold).
    Watch,
    /// The far end acknowledged our answer (its ACK came): send without a budget.
    Confirmed,
    /// End the session; a recording still running is finished and reported first.
    Close,
}

/// What the media reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    /// A key, reported once per press as it starts: `0`-`9`, `*` or `#`.
    Digit(char),
    PlayFinished(u32),
    /// The recording is stored (fsynced and renamed) under `path`.
    RecordingFinished {
        path: PathBuf,
        duration_ms: u64,
    },
    RecordingFailed(String),
    /// Nothing has arrived from the far end for the session's inactivity limit.
    Inactive,
}

/// What the session watches the far end for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    /// Report `Inactive` after this long without a packet from the far end; `None`
    /// watches nothing (a far end that said it would not send, or a test).
    pub inactivity: Option<Duration>,
}

/// Sends commands to one media session; clones are cheap and share it. The session ends
/// on `close` or when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct MediaHandle {
    /// Unbounded so the call never waits on its media; commands come at human rate.
    commands: mpsc::UnboundedSender<MediaCommand>,
    /// Asks the session to stop and hand its socket and stream over (to a bridge).
    hand_over: mpsc::UnboundedSender<oneshot::Sender<Side>>,
    /// Starts and ends the relay of a rung phone's early media to the caller.
    early: mpsc::UnboundedSender<Early>,
}

/// What the call asks of the early-media relay.
enum Early {
    /// Relay to the caller what this side's phone sends to its socket (its latch judging
    /// each packet), instead of the session's own packets.
    Hear(Side),
    /// Stop relaying and give the side back (`None` if none was relayed).
    End(oneshot::Sender<Option<Side>>),
}

/// The session has ended; the command was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionEnded;

impl fmt::Display for SessionEnded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the media session has ended")
    }
}

impl std::error::Error for SessionEnded {}

impl MediaHandle {
    pub fn send(&self, command: MediaCommand) -> Result<(), SessionEnded> {
        self.commands.send(command).map_err(|_| SessionEnded)
    }

    pub fn play(&self, id: u32, audio: Vec<Arc<[i16]>>) -> Result<(), SessionEnded> {
        self.send(MediaCommand::Play { id, audio })
    }

    pub fn stop_playing(&self, id: u32) -> Result<(), SessionEnded> {
        self.send(MediaCommand::StopPlaying(id))
    }

    /// Starts recording into `<name>.wav`; the file never holds more than `max` of audio,
    /// whatever the packets' timestamps say.
    pub fn start_recording(
        &self,
        name: impl Into<String>,
        max: Duration,
    ) -> Result<(), SessionEnded> {
        self.send(MediaCommand::StartRecording {
            name: name.into(),
            max,
        })
    }

    pub fn stop_recording(&self) -> Result<(), SessionEnded> {
        self.send(MediaCommand::StopRecording)
    }

    pub fn close(&self) -> Result<(), SessionEnded> {
        self.send(MediaCommand::Close)
    }

    /// Ends the session and hands over its socket, its latch and the stream the far end
    /// has heard so far, so a bridge can carry on where it stopped. A recording still
    /// running is finished and reported first.
    pub async fn hand_over(&self) -> Result<Side, SessionEnded> {
        let (reply, side) = oneshot::channel();
        self.hand_over.send(reply).map_err(|_| SessionEnded)?;
        side.await.map_err(|_| SessionEnded)
    }

    /// Relays what `from`'s phone sends (a rung phone's early media: ringback, a
    /// provider's announcement) to the caller, in the caller's stream, instead of the
    /// session's own packets, until `end_early`. A relay already running is replaced
    /// (its socket closed).
    pub fn hear_early(&self, from: Side) -> Result<(), SessionEnded> {
        self.early.send(Early::Hear(from)).map_err(|_| SessionEnded)
    }

    /// Stops relaying early media and gives back the relayed side (its socket, and its
    /// latch as far as it learnt); the session sends its own packets again, in the same
    /// stream. `None` when nothing was relayed.
    pub async fn end_early(&self) -> Result<Option<Side>, SessionEnded> {
        let (reply, side) = oneshot::channel();
        self.early
            .send(Early::End(reply))
            .map_err(|_| SessionEnded)?;
        side.await.map_err(|_| SessionEnded)
    }

    /// Waits until the session's task has ended.
    pub async fn closed(&self) {
        self.commands.closed().await
    }
}

/// Who the far end is, as far as the session can tell, and how far it is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FarEndTrust {
    /// Which sources other than the SDP's address may be learnt.
    pub learning: Learning,
    /// How much is sent before the far end confirms.
    pub gate: SendGate,
}

impl FarEndTrust {
    /// A far end already confirmed, whose signalling's source is not known: sent to
    /// freely, and learnt from anywhere under the latch's rules.
    pub fn confirmed() -> FarEndTrust {
        FarEndTrust {
            learning: Learning::Anywhere,
            gate: SendGate::open(),
        }
    }
}

/// Starts a session on `socket` (bound, usually from a `PortPool`) sending to
/// `negotiated.remote`, a far end already confirmed (`FarEndTrust::confirmed`), not
/// watching it for silence. Must be called inside a tokio runtime.
pub fn start(
    socket: UdpSocket,
    negotiated: Negotiated,
    recordings_dir: PathBuf,
) -> (MediaHandle, mpsc::Receiver<MediaEvent>) {
    start_watched(
        socket,
        negotiated,
        recordings_dir,
        Watch { inactivity: None },
        FarEndTrust::confirmed(),
    )
}

/// `start`, watching the far end as `watch` says and trusting it as `trust` says. A far
/// end that said it sends nothing (`sendonly`/`inactive` on our side) is not watched.
pub fn start_watched(
    socket: UdpSocket,
    negotiated: Negotiated,
    recordings_dir: PathBuf,
    watch: Watch,
    trust: FarEndTrust,
) -> (MediaHandle, mpsc::Receiver<MediaEvent>) {
    let inactivity = watch
        .inactivity
        .filter(|_| negotiated.direction.reverse().sends());
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (hand_over_tx, hand_over) = mpsc::unbounded_channel();
    let (early_tx, early) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::channel(EVENT_CAPACITY);
    let session = Session {
        latch: Latch::new(negotiated.remote, trust.learning),
        gate: trust.gate,
        codec: negotiated.codec,
        dtmf_payload_type: negotiated.dtmf_payload_type,
        direction: negotiated.direction,
        stream: OutgoingStream::random(),
        first_packet: true,
        player: Player::new(),
        dtmf: DtmfReceiver::new(),
        recording: None,
        recordings_dir,
        events,
        inactivity,
        watch_limit: inactivity,
        last_heard: Instant::now(),
    };
    tokio::spawn(session.run(socket, commands, hand_over, early));
    (
        MediaHandle {
            commands: commands_tx,
            hand_over: hand_over_tx,
            early: early_tx,
        },
        events_rx,
    )
}

struct Session {
    /// Whose packets are heard, and so where ours go.
    latch: Latch,
    /// How much may go out before the far end confirms.
    gate: SendGate,
    codec: Codec,
    dtmf_payload_type: Option<u8>,
    direction: Direction,
    stream: OutgoingStream,
    first_packet: bool,
    player: Player,
    dtmf: DtmfReceiver,
    recording: Option<Recording>,
    recordings_dir: PathBuf,
    /// To the call; lives as long as the session and the recording-finishing tasks it
    /// spawned. Sends fail harmlessly once the call dropped its receiver.
    events: mpsc::Sender<MediaEvent>,
    /// How long the far end may stay silent; `None` once reported, or when not watched.
    inactivity: Option<Duration>,
    /// The limit this session was started with, restored by `Watch`.
    watch_limit: Option<Duration>,
    /// When the last packet from the far end arrived (the start, before any).
    last_heard: Instant,
}

impl Session {
    async fn run(
        mut self,
        socket: UdpSocket,
        mut commands: mpsc::UnboundedReceiver<MediaCommand>,
        mut hand_over: mpsc::UnboundedReceiver<oneshot::Sender<Side>>,
        mut early_control: mpsc::UnboundedReceiver<Early>,
    ) {
        let mut buf = [0u8; 2048];
        let mut early: Option<EarlyRelay> = None;
        let mut handing_over = None;
        let mut deadline = Instant::now();
        let sleep = tokio::time::sleep_until(deadline);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                biased;
                () = &mut sleep => {
                    deadline = self.tick(&socket, deadline, early.is_some()).await;
                    sleep.as_mut().reset(deadline);
                }
                command = commands.recv() => match command {
                    None | Some(MediaCommand::Close) => break,
                    Some(command) => self.command(command).await,
                },
                Some(reply) = hand_over.recv() => {
                    handing_over = Some(reply);
                    break;
                }
                received = socket.recv_from(&mut buf) => match received {
                    Ok((n, from)) => self.receive(&buf[..n], from).await,
                    Err(e) => tracing::debug!("RTP receive on {:?}: {e}", socket.local_addr()),
                },
                Some(control) = early_control.recv() => match control {
                    Early::Hear(side) => {
                        if let Some(replaced) = early.take() {
                            self.end_early(replaced);
                        }
                        early = Some(EarlyRelay {
                            side,
                            rewrite: Rewrite::default(),
                            last_sent: Instant::now(),
                            buffers: Box::new(([0; 2048], [0; 2048])),
                        });
                    }
                    Early::End(reply) => {
                        let side = early.take().map(|relay| self.end_early(relay));
                        let _ = reply.send(side);
                    }
                },
                received = recv_early(&mut early) => {
                    if let (Ok((n, from)), Some(relay)) = (received, early.as_mut()) {
                        self.relay_early(&socket, relay, n, from).await;
                    }
                }
            }
        }
        // A bridge is joined after `end_early` gave the rung phone's socket back; one
        // still relayed here has nobody to go to.
        if let Some(relay) = early.take() {
            self.end_early(relay);
        }
        if let Some(reply) = handing_over {
            if let Some(finishing) = self.stop_recording() {
                let _ = finishing.await;
            }
            let _ = reply.send(Side {
                socket,
                latch: self.latch,
                codec: self.codec,
                dtmf_payload_type: self.dtmf_payload_type,
                stream: self.stream,
            });
            return;
        }
        // What arrived before the end still belongs to the recording: read the socket dry
        // (through the std socket, as tokio would not try without a readiness event).
        if self.recording.is_some()
            && let Ok(socket) = socket.into_std()
        {
            // Bounded, so a flood of packets cannot hold the end back.
            for _ in 0..256 {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    break;
                };
                self.receive(&buf[..n], from).await;
            }
        }
        if let Some(finishing) = self.stop_recording() {
            let _ = finishing.await;
        }
    }

    /// Sends the packet due at `deadline`; returns the next deadline. While early media
    /// is relayed (`relaying_early`), the relay sends and numbers the caller's stream,
    /// and what the player holds waits.
    async fn tick(
        &mut self,
        socket: &UdpSocket,
        mut deadline: Instant,
        relaying_early: bool,
    ) -> Instant {
        let late = Instant::now().saturating_duration_since(deadline);
        if relaying_early {
            self.watch_inactivity().await;
            return deadline + PTIME * (1 + (late.as_micros() / PTIME.as_micros()) as u32);
        }
        if late > MAX_CATCH_UP {
            let missed = (late.as_micros() / PTIME.as_micros()) as u32;
            deadline += PTIME * missed;
            self.stream.advance(FRAME_SAMPLES as u32 * missed);
        }
        let mut pcm = [0i16; FRAME_SAMPLES];
        let frame = self.player.next_frame(&mut pcm);
        if self.sends() && self.gate.take() {
            if self.gate.spent() {
                tracing::debug!(
                    "sent the budget of a far end not yet confirmed; holding the rest until its ACK or its first packet"
                );
            }
            let mut packet = [0u8; HEADER_LEN + FRAME_SAMPLES];
            let (header, payload) = packet.split_at_mut(HEADER_LEN);
            let marker = matches!(frame, Frame::Audio { marker: true }) || self.first_packet;
            self.first_packet = false;
            let h = self.stream.next_header(self.codec.payload_type(), marker);
            header.copy_from_slice(&h.to_bytes());
            match frame {
                Frame::Silence => payload.fill(self.codec.silence()),
                Frame::Audio { .. } => self.codec.encode(&pcm, payload),
            }
            let to = self.latch.send_to();
            if let Err(e) = socket.send_to(&packet, to).await {
                tracing::debug!("RTP send to {to}: {e}");
            }
        }
        self.stream.advance(FRAME_SAMPLES as u32);
        self.report_finished_plays().await;
        self.watch_inactivity().await;
        deadline + PTIME
    }

    async fn watch_inactivity(&mut self) {
        if let Some(limit) = self.inactivity
            && self.last_heard.elapsed() > limit
        {
            self.inactivity = None;
            self.emit(MediaEvent::Inactive).await;
        }
    }

    /// Sends the caller what the rung phone sent (the first `n` bytes of the relay's
    /// receive buffer), if it is that phone's (its latch) and the caller agreed to its
    /// kind (audio, re-encoded for the caller; RFC 4733 events), renumbered into the
    /// caller's stream.
    async fn relay_early(
        &mut self,
        socket: &UdpSocket,
        relay: &mut EarlyRelay,
        n: usize,
        from: SocketAddr,
    ) {
        let (received, out) = &mut *relay.buffers;
        let Ok(packet) = rtp::parse(&received[..n]) else {
            return;
        };
        let now = Instant::now();
        if relay
            .side
            .latch
            .judge(from, packet.header.sequence, now.into_std())
            == Verdict::Ignore
        {
            return;
        }
        // The gate first: a packet it holds back leaves no number used in our stream
        // (the caller sees a gap, as for a lost packet).
        if !self.sends() || !self.gate.take() {
            return;
        }
        if relay.rewrite.following.is_none() {
            // The relay's first packet: the caller heard nothing since the last one.
            self.catch_up(relay.last_sent, now);
        }
        let caller = Agreed {
            codec: self.codec,
            dtmf_payload_type: self.dtmf_payload_type,
        };
        let Some(len) = relay::translate(
            &packet,
            relay.side.agreed(),
            caller,
            &mut relay.rewrite,
            &mut self.stream,
            out,
        ) else {
            return;
        };
        self.first_packet = false;
        relay.last_sent = now;
        let to = self.latch.send_to();
        if let Err(e) = socket.send_to(&out[..len], to).await {
            tracing::debug!("RTP send to {to}: {e}");
        }
    }

    /// Ends the relay of early media: the stream's clock, which stood still since the
    /// last relayed packet, is moved on by the time that passed, and the session's next
    /// packet marks the change of source.
    fn end_early(&mut self, relay: EarlyRelay) -> Side {
        self.catch_up(relay.last_sent, Instant::now());
        self.first_packet = true;
        relay.side
    }

    /// Moves the stream's clock on by the time between the packet sent at `last_sent`
    /// (whose 20 ms the stream already counts) and `now`, during which nothing was sent.
    fn catch_up(&mut self, last_sent: Instant, now: Instant) {
        let quiet = now
            .saturating_duration_since(last_sent)
            .saturating_sub(PTIME);
        self.stream
            .advance((quiet.as_micros() * u128::from(SAMPLES_PER_MS) / 1000) as u32);
    }

    fn sends(&self) -> bool {
        let to = self.latch.send_to();
        self.direction.sends() && !to.ip().is_unspecified() && to.port() != 0
    }

    async fn command(&mut self, command: MediaCommand) {
        match command {
            MediaCommand::Play { id, audio } => self.player.play(id, audio),
            MediaCommand::StopPlaying(id) => {
                self.player.stop(id);
                self.report_finished_plays().await;
            }
            MediaCommand::StartRecording { name, max } => {
                self.stop_recording();
                self.recording = Some(Recording {
                    task: RecordingTask::start(
                        self.recordings_dir.clone(),
                        name,
                        max,
                        self.events.clone(),
                    ),
                    pending: Vec::with_capacity(CHUNK_SAMPLES),
                    timeline: Timeline::new(max),
                    started: Instant::now(),
                });
            }
            MediaCommand::StopRecording => {
                self.stop_recording();
            }
            MediaCommand::Unwatch => self.inactivity = None,
            MediaCommand::Watch => {
                self.inactivity = self.watch_limit;
                self.last_heard = Instant::now();
            }
            MediaCommand::Confirmed => self.gate.confirm(),
            MediaCommand::Close => {}
        }
    }

    async fn receive(&mut self, data: &[u8], from: SocketAddr) {
        let Ok(packet) = rtp::parse(data) else {
            return;
        };
        // Every RTP packet is judged, whatever its payload type: comfort noise from the
        // far end keeps it alive, so nobody can take its place while it listens quietly.
        let now = Instant::now();
        match self
            .latch
            .judge(from, packet.header.sequence, now.into_std())
        {
            Verdict::Ignore => {
                // Logged as the count doubles, never once a packet.
                let ignored = self.latch.ignored();
                if ignored.is_power_of_two() {
                    tracing::debug!(
                        "ignored {ignored} RTP packets from sources other than {} (the last from {from})",
                        self.latch.send_to()
                    );
                }
                return;
            }
            Verdict::Switch { to } => {
                tracing::debug!("RTP from {to} is the far end's: sending there");
            }
            Verdict::Accept => {}
        }
        self.last_heard = now;
        // A packet heard is the far end asking for the media, where the latch says.
        self.gate.confirm();
        let pt = packet.header.payload_type;
        let dtmf = Some(pt) == self.dtmf_payload_type;
        if pt != self.codec.payload_type() && !dtmf {
            return;
        }
        let h = packet.header;
        if dtmf {
            if let Some(key) = self.dtmf.receive(h.marker, h.timestamp, packet.payload) {
                self.emit(MediaEvent::Digit(key)).await;
            }
        } else if let Some(recording) = &mut self.recording
            && recording.write_rtp(&h, packet.payload, self.codec).is_err()
        {
            // The writer stopped on an error: `finish` reports it.
            if let Some(finishing) = self.stop_recording() {
                drop(finishing);
            }
        }
    }

    /// Hands the recording's last audio to its writer and reports the stored file (or
    /// the failure) from a task of its own, so the packets keep their pace meanwhile.
    fn stop_recording(&mut self) -> Option<JoinHandle<()>> {
        let recording = self.recording.take()?;
        let events = self.events.clone();
        Some(tokio::spawn(async move {
            let event = match recording.finish().await {
                Ok(Some(done)) => MediaEvent::RecordingFinished {
                    path: done.path,
                    duration_ms: done.duration_ms,
                },
                // The writer could not even start, and said so then.
                Ok(None) => return,
                Err(e) => MediaEvent::RecordingFailed(e),
            };
            let _ = events.send(event).await;
        }))
    }

    async fn report_finished_plays(&mut self) {
        while let Some(id) = self.player.pop_finished() {
            self.emit(MediaEvent::PlayFinished(id)).await;
        }
    }

    async fn emit(&self, event: MediaEvent) {
        // The call may be gone (hung up); then nobody is listening.
        let _ = self.events.send(event).await;
    }
}

/// The 8 kHz sampling clock, per millisecond.
const SAMPLES_PER_MS: u32 = 8;

/// A rung phone's early media being relayed to the caller.
struct EarlyRelay {
    /// The rung phone's side: the ring's socket and whose packets are its.
    side: Side,
    /// Its stream, renumbered into the caller's.
    rewrite: Rewrite,
    /// When the caller was last sent a packet (relayed, or the session's own before the
    /// relay began).
    last_sent: Instant,
    /// The packet received and the one sent, reused for every packet: allocated once
    /// per relay, so a session that never relays does not carry them.
    buffers: Box<([u8; 2048], [u8; 2048])>,
}

/// What arrives for the early-media relay, into its receive buffer; pending while
/// nothing is relayed.
async fn recv_early(early: &mut Option<EarlyRelay>) -> io::Result<(usize, SocketAddr)> {
    match early {
        Some(EarlyRelay { side, buffers, .. }) => side.socket.recv_from(&mut buffers.0).await,
        None => std::future::pending().await,
    }
}

/// How much decoded audio the session gathers before handing it to the writer: a
/// second, so the writer's thread wakes once a second per recording.
const CHUNK_SAMPLES: usize = 8000;

/// A recording in progress and where the caller's timeline is.
struct Recording {
    /// The writer, from `StartRecording` until `finish` hands it the last audio and
    /// waits for the stored file.
    task: RecordingTask,
    /// Audio not yet handed to the writer.
    pending: Vec<i16>,
    /// Where each packet's audio goes, within the recording's bounds.
    timeline: Timeline,
    /// When the recording started: silence may not run ahead of this clock.
    started: Instant,
}

/// What the session sends a recording's writer.
enum Chunk {
    Samples(Vec<i16>),
    Silence(usize),
}

/// One recording's file, owned by a blocking task from its creation to its fsync and
/// rename; the session only sends it audio.
struct RecordingTask {
    /// To the writer; dropping it tells the writer the recording is over.
    chunks: std::sync::mpsc::Sender<Chunk>,
    /// The writer's result: the stored file, or why it failed; `None` when the file
    /// could not be created, which the writer reported at once.
    done: JoinHandle<io::Result<Option<super::FinishedRecording>>>,
}

impl RecordingTask {
    fn start(
        dir: PathBuf,
        name: String,
        max: Duration,
        events: mpsc::Sender<MediaEvent>,
    ) -> RecordingTask {
        let (chunks, rx) = std::sync::mpsc::channel();
        let done = tokio::task::spawn_blocking(move || {
            let mut writer = match RecordingWriter::create(&dir, &name, max) {
                Ok(writer) => writer,
                Err(e) => {
                    // Now, not when the recording stops: the call may have to react.
                    let _ = events.blocking_send(MediaEvent::RecordingFailed(e.to_string()));
                    return Ok(None);
                }
            };
            for chunk in rx {
                let written = match chunk {
                    Chunk::Samples(samples) => writer.write(&samples),
                    Chunk::Silence(n) => writer.write_silence(n),
                };
                if let Err(e) = written {
                    writer.abandon();
                    return Err(e);
                }
            }
            writer.finish().map(Some)
        });
        RecordingTask { chunks, done }
    }
}

impl Recording {
    /// Hands the rest of the audio to the writer and waits for the file to be stored.
    async fn finish(mut self) -> Result<Option<super::FinishedRecording>, String> {
        self.flush();
        drop(self.task.chunks);
        match self.task.done.await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(e) => Err(format!("storing the recording: {e}")),
        }
    }

    fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_SAMPLES));
        self.task.chunks.send(Chunk::Samples(chunk)).is_ok()
    }

    fn push(&mut self, samples: &[i16]) -> io::Result<()> {
        self.pending.extend_from_slice(samples);
        if self.pending.len() >= CHUNK_SAMPLES && !self.flush() {
            return Err(io::Error::other("the recording's writer stopped"));
        }
        Ok(())
    }

    fn silence(&mut self, n: usize) -> io::Result<()> {
        if !self.flush() || self.task.chunks.send(Chunk::Silence(n)).is_err() {
            return Err(io::Error::other("the recording's writer stopped"));
        }
        Ok(())
    }

    /// Appends one packet's audio where `timeline` places it: after up to a second of
    /// silence for a gap (lost packets), nothing for a repeated or late packet, and
    /// nothing at all once the recording holds its maximum length.
    fn write_rtp(&mut self, h: &RtpHeader, payload: &[u8], codec: Codec) -> io::Result<()> {
        if self.timeline.full() {
            return Ok(());
        }
        let mut pcm = [0i16; 1024];
        let payload = &payload[..payload.len().min(pcm.len())];
        let place = self
            .timeline
            .place(h, payload.len(), self.started.elapsed());
        if place.silence > 0 {
            self.silence(place.silence)?;
        }
        if place.audio > 0 {
            codec.decode(&payload[..place.audio], &mut pcm);
            self.push(&pcm[..place.audio])?;
        }
        if self.timeline.full() {
            tracing::debug!("the recording reached its maximum length: the rest is dropped");
        }
        Ok(())
    }
}
