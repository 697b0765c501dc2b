//! What happens to a call: facts reported by the runtime (or the test runner).

use crate::ids::{PlayId, TimerId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The caller pressed a key: `0`-`9`, `*` or `#`.
    Digit(char),
    /// A `Play` command's media played to the end, or stopped after `StopPlaying`.
    PlayFinished(PlayId),
    /// A `Record` command's recording is safely stored under `recording`.
    RecordingFinished { recording: String, duration_ms: u64 },
    /// What became of a `Ring`, `RingQueue` or `DialTrunk`.
    FarEnd(FarEnd),
    /// A `RingQueue` was answered, by this agent: `FarEnd(Answered)` saying who, so the
    /// queue can count the call and start the agent's wrap-up when it ends.
    AnsweredBy(String),
    /// A timer the call started has run out.
    TimerFired(TimerId),
    /// The caller hung up.
    Hangup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FarEnd {
    Answered,
    Busy,
    NoAnswer,
    Failed,
}
