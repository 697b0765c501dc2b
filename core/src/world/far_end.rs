//! What a far end does when a simulated call rings it: a test's `extension 102 is busy`,
//! `simulate --far-end "trunk main answers after 5s"`.
//!
//! Left alone, a rung phone in the simulated office rings until the plan gives up, as
//! before. A far-end step acts on the ring in progress and feeds the call the `FarEnd`
//! event the SIP server would: a phone's 486 is `Busy`, an extension with no phone
//! registered is `Failed` (`runtime/src/call_runner/ring.rs`), a 200 is `Answered`. So
//! the plan's busy, no-answer and unreachable paths run here exactly as on the server.

use super::World;
use crate::event::{Event, FarEnd};
use std::time::Duration;
use switchboard_dsl::ast::{FarEndDoes, FarEndParty};

/// The longest `never answers` lets time pass, for a queue that rings on for ever.
const RING_OUT_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// What a simulated call is ringing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rung {
    Extension(String),
    Queue { queue: String, agents: Vec<String> },
    Trunk { trunk: String, number: String },
}

impl std::fmt::Display for Rung {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rung::Extension(e) => write!(f, "extension {e}"),
            Rung::Queue { queue, agents } => {
                write!(f, "queue {queue} (agents {})", agents.join(", "))
            }
            Rung::Trunk { trunk, number } => write!(f, "trunk {trunk:?} to {number}"),
        }
    }
}

/// `extension 102`, `queue 800`, `trunk "main"`: as a test writes the party.
pub fn party_text(party: FarEndParty, name: &str) -> String {
    match party {
        FarEndParty::Extension => format!("extension {name}"),
        FarEndParty::Queue => format!("queue {name}"),
        FarEndParty::Trunk => format!("trunk {name:?}"),
    }
}

impl World {
    /// `party` `name` does `does` on call `idx`, which must be ringing it. The error says
    /// what the call is ringing instead (or that it rings nothing), for the test's report.
    pub fn far_end(
        &mut self,
        idx: usize,
        party: FarEndParty,
        name: &str,
        does: FarEndDoes,
    ) -> Result<(), String> {
        let rung = self.rung_as(idx, party, name, does)?;
        // An agent who picks up a queue's call is named, as the runtime names them.
        let answer = match (&rung, party) {
            (Rung::Queue { .. }, FarEndParty::Extension) => Event::AnsweredBy(name.to_string()),
            _ => Event::FarEnd(FarEnd::Answered),
        };
        match does {
            FarEndDoes::Answers { after: None } => self.deliver(idx, answer),
            FarEndDoes::Answers { after: Some(d) } => self.answer_after(idx, rung, d, answer),
            FarEndDoes::Busy => self.deliver(idx, Event::FarEnd(FarEnd::Busy)),
            FarEndDoes::Unregistered => self.deliver(idx, Event::FarEnd(FarEnd::Failed)),
            FarEndDoes::NeverAnswers => self.ring_out(idx, party, rung),
        }
        Ok(())
    }

    /// What call `idx` rings, if that is `party` `name`.
    fn rung_as(
        &self,
        idx: usize,
        party: FarEndParty,
        name: &str,
        does: FarEndDoes,
    ) -> Result<Rung, String> {
        let who = party_text(party, name);
        let Some(rung) = self.calls[idx].ringing.clone() else {
            return Err(format!(
                "{who} is not ringing: the call is waiting for {}",
                self.calls[idx].call.waiting_for()
            ));
        };
        let matches = match (&rung, party) {
            (Rung::Extension(e), FarEndParty::Extension) => e == name,
            (Rung::Queue { queue, .. }, FarEndParty::Queue) => queue == name,
            (Rung::Queue { queue, agents }, FarEndParty::Extension)
                if agents.iter().any(|a| a == name) =>
            {
                // One agent picking up takes the queue's call; one agent busy or away among
                // several does not end their ringing, so only the queue can say that.
                if agents.len() > 1 && !matches!(does, FarEndDoes::Answers { .. }) {
                    return Err(format!(
                        "{who} rings as an agent of queue {queue}: say what the queue does, \
                         like `queue {queue} is busy`"
                    ));
                }
                true
            }
            (Rung::Trunk { trunk, .. }, FarEndParty::Trunk) => trunk == name,
            _ => false,
        };
        if matches {
            Ok(rung)
        } else {
            Err(format!("{who} is not ringing: the call rings {rung}"))
        }
    }

    /// Rings on for `d` (timers fire meanwhile), then answers if the call still rings the
    /// same. The plan may have given up first: then nothing answers.
    fn answer_after(&mut self, idx: usize, rung: Rung, d: Duration, answer: Event) {
        self.wait(d);
        if self.calls[idx].ringing.as_ref() == Some(&rung) {
            self.deliver(idx, answer);
        }
    }

    /// Rings until the plan gives up: its ring timer fires (other calls' timers fire in
    /// their turn). A ring the engine set no timer for (a trunk) is given up by the far
    /// network instead, which reports no answer.
    ///
    /// An extension or trunk rings out once: if the plan rings it again (`no_answer ->
    /// extension 102` on 102 itself), the test says what happens then. A queue rings out
    /// as a whole, offer after offer, until the queue gives up; `RING_OUT_LIMIT` ends the
    /// wait for a queue that never does.
    fn ring_out(&mut self, idx: usize, party: FarEndParty, rung: Rung) {
        let ring = self.calls[idx].rings;
        let until = self.now + RING_OUT_LIMIT;
        loop {
            let still = match (&self.calls[idx].ringing, party) {
                (Some(Rung::Queue { queue, .. }), FarEndParty::Queue) => {
                    matches!(&rung, Rung::Queue { queue: q, .. } if q == queue)
                }
                (Some(_), _) => self.calls[idx].rings == ring,
                (None, _) => false,
            };
            if !still {
                return;
            }
            let has_timer = self.timers.values().any(|(i, _)| *i == idx);
            if !has_timer {
                return self.deliver(idx, Event::FarEnd(FarEnd::NoAnswer));
            }
            if !self.fire_next_timer(Some(until)) {
                return self.move_clock(until);
            }
        }
    }

    fn deliver(&mut self, idx: usize, e: Event) {
        // Cleared first: what the call does next may ring someone else.
        self.calls[idx].ringing = None;
        self.pump(idx, vec![e]);
    }
}
