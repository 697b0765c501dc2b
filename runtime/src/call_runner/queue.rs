//! The runtime's side of a queue: hold music looped for as long as the caller waits, and
//! the agents it offers a call to filtered by what their lines do, since only the runtime
//! knows who is on a call or ringing (the engine decides everything else: the order, the
//! ring time, wrap-up, the maximum wait).

use super::LiveCall;
use crate::sip::LineState;
use std::time::Duration;
use switchboard_core::command::Media;
use switchboard_core::event::{Event, FarEnd};
use switchboard_core::ids::PlayId;

/// How long one `PlayOnHold` can play before it runs out: longer than anyone waits in a
/// queue. The clip is repeated by reference, so this costs a pointer per repeat.
const HOLD_FOR: Duration = Duration::from_secs(4 * 3600);

impl LiveCall {
    /// Plays `prompt` again and again until the engine stops it.
    pub(super) async fn play_on_hold(&mut self, id: PlayId, prompt: String, language: String) {
        self.leg.note_hold_music();
        let audio = self.audio(vec![Media::Prompt(prompt)], language).await;
        let Some(clip) = audio.into_iter().find(|a| !a.is_empty()) else {
            // Nothing to play: the caller hears silence until the engine moves on.
            return;
        };
        let clip_ms = (clip.len() as u64 * 1000 / 8000).max(1);
        let repeats = (HOLD_FOR.as_millis() as u64 / clip_ms).max(1) as usize;
        let _ = self.media.play(id.0, vec![clip; repeats]);
    }

    /// Rings those of `agents` whose lines are idle; when none is, the engine hears
    /// `Busy` at once and offers the call to the next agent.
    pub(super) async fn ring_queue(&mut self, queue: String, agents: Vec<String>) {
        let (free, busy): (Vec<String>, Vec<String>) = agents
            .into_iter()
            .partition(|a| self.services.sip.line_state(a) == LineState::Idle);
        if !busy.is_empty() {
            self.note(format!(
                "queue {queue}: {} on a call or ringing; skipped",
                busy.join(", ")
            ));
        }
        if free.is_empty() {
            self.pending.push_back(Event::FarEnd(FarEnd::Busy));
            return;
        }
        self.ring(format!("queue {queue}"), free).await;
    }
}
