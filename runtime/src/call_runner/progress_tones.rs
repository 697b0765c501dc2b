//! What a caller answered before their call began hears while the number they called
//! rings or fails: the person of a click-to-call (`call_back`), whose own phone the
//! server rang and who then waits for the number. A desk caller is told by SIP (180,
//! 183, 486) and its phone plays the tones itself; this one's dialog is answered
//! already, so the server plays them into the person's media, as an exchange would:
//!
//! - the far end rings (180): US ringback (`media::tone`, 440 + 480 Hz, 2 s on, 4 s off)
//!   from the caller's own session, until it answers or fails;
//! - the far end sends early media (183 with SDP): that instead, relayed exactly as for
//!   an unanswered desk caller (`ring`), while the ringback waits in the player;
//! - the far end answers: the ringback is stopped before the session hands itself over
//!   to the bridge, so the first packet of the far end follows the last of the tone;
//! - a number called through a trunk is busy or fails: the busy tone (reorder for a
//!   failure) for a few seconds, then the engine hears it and the call ends, with the
//!   record saying which.
//!
//! A person the engine plays hold music (a queue's) hears that and its announcements
//! instead, like a desk caller in a queue: a tone queued behind the music would hold
//! the announcements back.

use super::{LiveCall, UNAVAILABLE_PLAY};
use crate::media::tone::{self, Tone};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchboard_core::event::{Event, FarEnd};

/// The id of the ringback's play. The engine's plays count up from 1, and the runner's
/// own `UNAVAILABLE_PLAY` is the one above.
pub(super) const RINGBACK_PLAY: u32 = u32::MAX - 1;

/// How long a refused person hears the busy or reorder tone before the call ends.
pub(super) const REFUSAL_TONE_FOR: Duration = Duration::from_secs(3);

/// Longer than anything rings: the play is stopped when the far end answers or fails.
const RINGBACK_FOR: Duration = Duration::from_secs(3600);

/// Each tone's one cadence, computed once and shared by every call.
static RINGBACK: OnceLock<Arc<[i16]>> = OnceLock::new();
static BUSY: OnceLock<Arc<[i16]>> = OnceLock::new();
static REORDER: OnceLock<Arc<[i16]>> = OnceLock::new();

impl LiveCall {
    /// The far end rings: a caller answered before the call began hears ringback (once,
    /// however many phones ring).
    pub(super) fn ringback(&mut self) {
        if self.sip_done || !self.leg.hears_progress_tones() || self.leg.note_ringback(true) {
            return;
        }
        let cadence = RINGBACK.get_or_init(|| tone::US_RINGBACK.cadence());
        if self
            .media
            .play(RINGBACK_PLAY, Tone::repeated(cadence, RINGBACK_FOR))
            .is_ok()
        {
            self.note("the far end rings: the caller hears ringback".to_string());
        }
    }

    /// The far end answered, failed or stopped ringing: the ringback stops now.
    pub(super) fn end_ringback(&mut self) {
        if self.leg.note_ringback(false) {
            let _ = self.media.stop_playing(RINGBACK_PLAY);
        }
    }

    /// Whether the caller hears a rung phone's early media: a caller not yet answered
    /// (its leg sends 183), or one answered before the call began. Not a caller the
    /// plan answered (a queue's, hearing its hold music).
    pub(super) fn hears_early_media(&self) -> bool {
        !self.sip_done && (!self.answered || self.leg.hears_progress_tones())
    }

    /// `label` (a number through a trunk) did not connect, as `far_end` says. A caller
    /// answered before the call began hears the busy tone (reorder for a failure), and
    /// then the engine hears `far_end` and ends the call; returns whether it is so.
    /// Other callers are told by the engine at once (false).
    pub(super) fn tell_refused(&mut self, label: &str, far_end: FarEnd) -> bool {
        if self.sip_done || !self.leg.hears_progress_tones() {
            return false;
        }
        let (cadence, name, what) = match far_end {
            FarEnd::Busy => (
                BUSY.get_or_init(|| tone::US_BUSY.cadence()),
                "busy",
                "was busy",
            ),
            _ => (
                REORDER.get_or_init(|| tone::US_REORDER.cadence()),
                "reorder",
                "did not connect",
            ),
        };
        // The engine's words would be "the outside call did not connect": the record
        // names the number and says whether it was busy.
        self.ended_by = Some(format!("{label} {what}"));
        if self
            .media
            .play(UNAVAILABLE_PLAY, Tone::repeated(cadence, REFUSAL_TONE_FOR))
            .is_err()
        {
            return false;
        }
        self.note(format!(
            "the caller hears the {name} tone, then the call ends"
        ));
        self.unavailable = Some(Event::FarEnd(far_end));
        true
    }
}
