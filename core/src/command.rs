//! What a call asks the runtime (or the test runner) to do.

use crate::ids::{CallId, PlayId, TimerId};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Pick up the call (200 OK).
    Answer,
    /// Play these, one after the other, then report `PlayFinished(id)`. With `barge_in`,
    /// the engine may stop them when a key is pressed.
    Play {
        id: PlayId,
        media: Vec<Media>,
        language: String,
        barge_in: bool,
    },
    /// Stop the playing media early; `PlayFinished(id)` still follows.
    StopPlaying(PlayId),
    /// Play `prompt` over and over (hold music) until `StopPlaying(id)`, which reports
    /// `PlayFinished(id)`. The server's loop runs out after four hours (longer than
    /// anyone waits) and then reports `PlayFinished` on its own; with the prompt missing
    /// it plays nothing and reports nothing until stopped. The engine treats hold music
    /// ending as nothing to act on.
    PlayOnHold {
        id: PlayId,
        prompt: String,
        language: String,
    },
    /// Record the caller until `StopRecording`, then report `RecordingFinished`. Nothing is
    /// played first: the beep is a `Play` of its own. `max` is the step's maximum length
    /// (the plan's `max_recording` unless the step says): the engine stops the recording
    /// by a timer then, and the runtime never stores more audio than that, whatever the
    /// caller's packets claim.
    Record {
        max: Duration,
    },
    StopRecording,
    /// Report `TimerFired(id)` after this long, unless cancelled.
    StartTimer {
        id: TimerId,
        after: Duration,
    },
    CancelTimer(TimerId),
    /// Ring an extension's phones; report `FarEnd`.
    Ring {
        extension: String,
    },
    /// Offer the call to these logged-in agents of a queue; report `FarEnd`.
    RingQueue {
        queue: String,
        agents: Vec<String>,
    },
    /// Call out through a trunk to an E.164 number; report `FarEnd`.
    DialTrunk {
        trunk: String,
        number: String,
    },
    /// Stop ringing whatever `Ring`, `RingQueue` or `DialTrunk` started.
    CancelRing,
    /// Hold this call in a park orbit until someone picks it up.
    Park {
        orbit: String,
    },
    /// Connect this call to the call parked in `orbit`.
    Unpark {
        orbit: String,
        parked: CallId,
    },
    /// A hot-desk phone now belongs to `extension` (or to nobody).
    HotDesk {
        device: String,
        extension: Option<String>,
    },
    /// A recording the office no longer keeps (a deleted message, a replaced greeting or
    /// name): its audio may be removed.
    DiscardRecording(String),
    /// A mailbox's counts changed: light (or clear) its phones' message lamp.
    MessageWaiting {
        mailbox: String,
        new: u32,
        saved: u32,
    },
    /// End the call.
    Hangup {
        cause: HangupCause,
    },
}

/// Something to play: a recorded prompt by name, or a recording the store holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Media {
    Prompt(String),
    Recording(String),
}

impl Media {
    pub fn name(&self) -> &str {
        match self {
            Media::Prompt(s) | Media::Recording(s) => s,
        }
    }
}

/// Why the engine ended a call; the runtime maps it to a SIP response or a BYE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HangupCause {
    /// The plan hung up, or ran to its end.
    Normal,
    /// Nothing in the plan answers to the number dialled (404).
    NotFound,
    /// The plan could not go on: a script failed, the store failed, a step looped.
    Error,
}
