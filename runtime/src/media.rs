//! RTP media: what a call hears and what it sends back.
//!
//! - `sdp` — offer/answer: PCMU or PCMA in the offerer's order, RFC 4733 telephone-events.
//! - `g711`, `rtp`, `dtmf` — the codecs, the packet header and keys as telephone-events:
//!   pure functions over bytes.
//! - `player` — plays cut into 20 ms frames, pure.
//! - `prompts` — the WAVs of `prompts/<language>/`, read once and shared by every call.
//! - `recording` — a recording written to a hidden temporary file, stored by fsync and
//!   rename.
//! - `ports` — the RTP port range.
//! - `latch` — whose packets a call hears and where it sends: the SDP's address, or a
//!   source learnt behind NAT after a consecutive run, never while the one heard is alive.
//! - `send_gate` — how much a call sends before the far end confirms (its ACK or its
//!   first packet heard).
//! - `bridge` — two calls' media joined: one task relays between their sockets, each
//!   side judged by its latch, transcoding G.711 where the phones differ, one continuous
//!   stream per direction; while one phone holds, the other hears `hold_music` instead.
//! - `relay` — one relayed packet renumbered into the stream the other phone hears and
//!   re-encoded for it: shared by the bridge and a session's early media; pure.
//! - `hold_sdp` — hold in SDP: whether a phone's new offer holds, the direction we answer
//!   it with, our SDP restated with a new direction; pure.
//! - `tone` — call-progress tones (ringback, busy, reorder) as an exchange plays them;
//!   pure.
//! - `session` — the one place bytes meet the socket: one tokio task per call, sending a
//!   packet every 20 ms on absolute deadlines, receiving audio and keys, driven by
//!   `MediaCommand`s and reporting `MediaEvent`s.
//!
//! A key stopping a prompt is the engine's decision (`barge_in`): the session reports the
//! key, the engine answers with `StopPlaying`.

pub mod bridge;
pub mod dtmf;
pub mod g711;
pub mod hold_music;
pub mod hold_sdp;
pub mod latch;
pub mod player;
pub mod ports;
pub mod prompts;
pub mod recording;
pub mod relay;
pub mod rtp;
pub mod sdp;
pub mod send_gate;
pub mod session;
pub mod tone;

pub use g711::Codec;
pub use ports::{BoundPort, PortError, PortLease, PortPool};
pub use prompts::{PromptError, PromptLibrary};
pub use recording::{FinishedRecording, RecordingWriter};
pub use sdp::{Direction, Negotiated, SdpError};
pub use session::{MediaCommand, MediaEvent, MediaHandle, SessionEnded, start};
