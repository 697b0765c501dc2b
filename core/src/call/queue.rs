//! A caller waiting in a queue: which agents are offered the call, in what order and for
//! how long, what the caller hears meanwhile, and when the queue gives up.
//!
//! The call is offered in rounds. `ring_all` rings every free agent at once for the
//! queue's `ring`; the other strategies offer it to one agent at a time, each for `ring`,
//! in the order `office::offer_order` gives (hunt, round robin, longest idle, fewest
//! calls). An agent still in wrap-up is skipped here; an agent on a call or ringing is
//! skipped by the runtime, which knows the lines and answers such an offer `Busy` at once.
//!
//! Without `max_wait` a queue makes one round and then takes its `then`. With it, rounds
//! follow each other until `max_wait` has passed: at once after a round in which someone
//! rang their full time, after `RETRY` when every offer failed at once (everybody busy),
//! so a queue of busy agents never spins.
//!
//! The caller hears hold music (`PlayOnHold`) from the moment they join, and the queue's
//! announcement every `announce_every` if it has one: the music stops, the announcement
//! plays, the music starts again.

use super::{Call, Wait, connect::Target};
use crate::command::{Command, Media};
use crate::ids::{PlayId, TimerId};
use crate::office;
use crate::store::Store;
use crate::trace::Traced;
use std::collections::VecDeque;
use std::time::Duration;
use switchboard_dsl::ast::Strategy;
use switchboard_dsl::ir::Addr;
use switchboard_dsl::prompts::HOLD_MUSIC;

/// How long a queue waits before its next round when nobody could even be rung.
pub const RETRY: Duration = Duration::from_secs(5);

/// How often the announcement plays when the queue does not say.
pub const ANNOUNCE_EVERY: Duration = Duration::from_secs(30);

/// A caller in a queue.
pub(super) struct Queued {
    queue: String,
    strategy: Strategy,
    ring: Duration,
    /// The agents this round has yet to offer the call to (one at a time strategies).
    next: VecDeque<String>,
    /// The agents ringing now; empty between offers and rounds.
    ringing: Vec<String>,
    /// Someone in this round rang for the whole ring time.
    rang_out: bool,
    ring_timer: Option<TimerId>,
    retry_timer: Option<TimerId>,
    max_timer: Option<TimerId>,
    announce_timer: Option<TimerId>,
    music: Option<PlayId>,
    announcement: Option<PlayId>,
}

impl Call {
    /// Puts the caller in `q` (which exists and has agents logged in): music, the
    /// announcement's timer, the maximum wait, and the first round.
    pub(super) fn join_queue(&mut self, q: String, store: &mut dyn Store) {
        let plan = self.plan.clone();
        let Some(queue) = plan.queue(&q) else {
            return;
        };
        let music = self.hold_music();
        let max_timer = queue.max_wait.map(|d| self.timer(d));
        let announce_timer = queue
            .announce
            .as_ref()
            .map(|a| self.timer(a.every.unwrap_or(ANNOUNCE_EVERY)));
        self.wait = Wait::Queued(Box::new(Queued {
            queue: q,
            strategy: queue.strategy,
            ring: queue.ring.unwrap_or(plan.settings.ring),
            next: VecDeque::new(),
            ringing: Vec::new(),
            rang_out: false,
            ring_timer: None,
            retry_timer: None,
            max_timer,
            announce_timer,
            music: Some(music),
            announcement: None,
        }));
        self.start_round(store);
    }

    fn hold_music(&mut self) -> PlayId {
        self.ensure_answered();
        let id = PlayId(self.next_play);
        self.next_play += 1;
        self.note(self.here(), Traced::Played(vec![HOLD_MUSIC.to_string()]));
        let language = self.language();
        self.push(Command::PlayOnHold {
            id,
            prompt: HOLD_MUSIC.to_string(),
            language,
        });
        id
    }

    fn queued(&mut self) -> Option<&mut Queued> {
        match &mut self.wait {
            Wait::Queued(q) => Some(q),
            _ => None,
        }
    }

    /// A round: the free agents in the strategy's order, rung all at once or one by one.
    fn start_round(&mut self, store: &mut dyn Store) {
        let plan = self.plan.clone();
        let Some(q) = self.queued() else { return };
        let (queue, strategy) = (q.queue.clone(), q.strategy);
        q.rang_out = false;
        let order = office::logged_in_agents(&plan, store, &queue)
            .and_then(|agents| office::offer_order(&plan, store, &queue, agents));
        let order = match order {
            Ok(o) => o,
            Err(e) => return self.fail(format!("the office store failed: {e}")),
        };
        let mut free = Vec::with_capacity(order.len());
        for agent in order {
            match self.wrapping_up(&queue, &agent, store) {
                Ok(true) => {}
                Ok(false) => free.push(agent),
                Err(e) => return self.fail(e),
            }
        }
        if strategy != Strategy::RingAll {
            if let Some(q) = self.queued() {
                q.next = free.into();
            }
            return self.offer_next(store);
        }
        if free.is_empty() {
            return self.round_over(store);
        }
        self.note(
            self.here(),
            Traced::Branch(format!("ringing {}", free.join(", "))),
        );
        self.ring_agents(free);
    }

    /// Whether `agent` is in wrap-up (traced when so).
    fn wrapping_up(
        &mut self,
        queue: &str,
        agent: &str,
        store: &mut dyn Store,
    ) -> Result<bool, String> {
        let plan = self.plan.clone();
        match office::in_wrap_up(&plan, store, queue, agent) {
            Ok(true) => {
                self.note(
                    self.here(),
                    Traced::Branch(format!("{agent} is in wrap-up")),
                );
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => Err(format!("the office store failed: {e}")),
        }
    }

    /// Offers the call to the next agent of the round, or ends the round.
    fn offer_next(&mut self, store: &mut dyn Store) {
        loop {
            let Some(q) = self.queued() else { return };
            let Some(agent) = q.next.pop_front() else {
                return self.round_over(store);
            };
            let queue = q.queue.clone();
            // The agent may have finished a call since the round began.
            match self.wrapping_up(&queue, &agent, store) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return self.fail(e),
            }
            if let Err(e) = store.set_queue_last_offered(&queue, &agent) {
                return self.fail(format!("the office store failed: {e}"));
            }
            self.note(
                self.here(),
                Traced::Step {
                    verb: "extension",
                    args: vec![agent.clone()],
                },
            );
            return self.ring_agents(vec![agent]);
        }
    }

    fn ring_agents(&mut self, agents: Vec<String>) {
        let Some(q) = self.queued() else { return };
        let (queue, ring) = (q.queue.clone(), q.ring);
        self.push(Command::RingQueue {
            queue,
            agents: agents.clone(),
        });
        let timer = self.timer(ring);
        if let Some(q) = self.queued() {
            q.ringing = agents;
            q.ring_timer = Some(timer);
        }
    }

    /// Nobody took the call this round: another round, or the queue's `then`.
    fn round_over(&mut self, store: &mut dyn Store) {
        let Some(q) = self.queued() else { return };
        if q.max_timer.is_none() {
            return self.leave_queue("nobody answered", store);
        }
        if q.rang_out {
            self.note(
                self.here(),
                Traced::Branch("trying the agents again".into()),
            );
            return self.start_round(store);
        }
        self.note(
            self.here(),
            Traced::Branch("no agent is free; trying again shortly".into()),
        );
        let retry = self.timer(RETRY);
        if let Some(q) = self.queued() {
            q.retry_timer = Some(retry);
        }
    }

    /// The caller stops waiting: timers, ringing and music stop, and the queue's `then`
    /// (or `queue-full`) follows.
    fn leave_queue(&mut self, why: &str, store: &mut dyn Store) {
        let queue = self.stop_waiting();
        self.wait = Wait::Ringing {
            timer: None,
            target: Target::Queue(queue),
        };
        self.ring_failed(why, store);
    }

    /// Stops everything a wait in the queue started; returns the queue's number.
    fn stop_waiting(&mut self) -> String {
        let Wait::Queued(q) = std::mem::replace(&mut self.wait, Wait::Nothing) else {
            return String::new();
        };
        let timers = [q.ring_timer, q.retry_timer, q.max_timer, q.announce_timer];
        for t in timers.into_iter().flatten() {
            self.push(Command::CancelTimer(t));
        }
        if !q.ringing.is_empty() {
            self.push(Command::CancelRing);
        }
        for play in [q.music, q.announcement].into_iter().flatten() {
            self.push(Command::StopPlaying(play));
        }
        q.queue
    }

    // ---- events while queued -----------------------------------------------------------

    pub(super) fn queue_timer(&mut self, id: TimerId, store: &mut dyn Store) {
        enum Which {
            Ring(Vec<String>, Strategy),
            Retry,
            Max,
            Announce,
            Stale,
        }
        let Some(q) = self.queued() else { return };
        let which = if q.ring_timer == Some(id) {
            q.ring_timer = None;
            q.rang_out = true;
            Which::Ring(std::mem::take(&mut q.ringing), q.strategy)
        } else if q.retry_timer == Some(id) {
            q.retry_timer = None;
            Which::Retry
        } else if q.max_timer == Some(id) {
            q.max_timer = None;
            Which::Max
        } else if q.announce_timer == Some(id) {
            q.announce_timer = None;
            Which::Announce
        } else {
            Which::Stale
        };
        match which {
            Which::Ring(rung, strategy) => {
                self.push(Command::CancelRing);
                self.note(
                    self.here(),
                    Traced::Branch(format!("{} did not answer in time", rung.join(", "))),
                );
                if strategy == Strategy::RingAll {
                    self.round_over(store)
                } else {
                    self.offer_next(store)
                }
            }
            Which::Retry => self.start_round(store),
            Which::Max => self.leave_queue("the queue's maximum wait has passed", store),
            Which::Announce => self.announce(),
            Which::Stale => self.ignore(format!("timer {} that is no longer running", id.0)),
        }
    }

    /// Interrupts the music for the queue's announcement.
    fn announce(&mut self) {
        let plan = self.plan.clone();
        let Some(q) = self.queued() else { return };
        let Some(announce) = plan.queue(&q.queue).and_then(|q| q.announce.as_ref()) else {
            return;
        };
        let music = q.music.take();
        if let Some(music) = music {
            self.push(Command::StopPlaying(music));
        }
        let prompt = announce.prompt.literal().unwrap_or_default();
        let every = announce.every.unwrap_or(ANNOUNCE_EVERY);
        let play = self.play(vec![Media::Prompt(prompt)], false);
        let timer = self.timer(every);
        if let Some(q) = self.queued() {
            q.announcement = Some(play);
            q.announce_timer = Some(timer);
        }
    }

    /// A play ended: after the announcement, the music comes back.
    pub(super) fn queue_play_finished(&mut self, id: PlayId) {
        let Some(q) = self.queued() else { return };
        if q.announcement == Some(id) {
            q.announcement = None;
            let music = self.hold_music();
            if let Some(q) = self.queued() {
                q.music = Some(music);
            }
        }
        // The music ends only when stopped, and what was stopped is done with.
    }

    /// What became of the offer: answered (by `who`, when the runtime says), or the next
    /// agent.
    pub(super) fn queue_far_end(
        &mut self,
        answered: Option<Option<String>>,
        why: &str,
        store: &mut dyn Store,
    ) {
        let Some(q) = self.queued() else { return };
        if q.ringing.is_empty() {
            return self.ignore(format!("{why} while no agent rings"));
        }
        let timer = q.ring_timer.take();
        let rung = std::mem::take(&mut q.ringing);
        let strategy = q.strategy;
        if let Some(t) = timer {
            self.push(Command::CancelTimer(t));
        }
        let Some(who) = answered else {
            self.note(
                self.here(),
                Traced::Branch(format!("{}: {why}", rung.join(", "))),
            );
            return if strategy == Strategy::RingAll {
                self.round_over(store)
            } else {
                self.offer_next(store)
            };
        };
        // Only one agent rang, or the runtime said who: either way we know who took it.
        let who = who.or_else(|| (rung.len() == 1).then(|| rung[0].clone()));
        let queue = self.stop_waiting_answered();
        self.note(
            None,
            Traced::Branch(match &who {
                // `trace::is_answered` knows this form too (`expect connected`).
                Some(a) => format!("{a} answered"),
                None => crate::trace::ANSWERED.into(),
            }),
        );
        if let Some(agent) = &who
            && let Err(e) = office::agent_answered(store, &queue, agent)
        {
            self.note(None, Traced::Error(format!("the office store failed: {e}")));
        }
        self.queue_agent = who;
        self.wait = Wait::Connected;
    }

    /// Like `stop_waiting`, for an answered call: the ring is not cancelled (it is the
    /// call now).
    fn stop_waiting_answered(&mut self) -> String {
        if let Wait::Queued(q) = &mut self.wait {
            q.ringing.clear();
        }
        self.stop_waiting()
    }

    /// The caller hung up while waiting.
    pub(super) fn queue_hung_up(&mut self) {
        self.stop_waiting();
    }

    /// A call an agent took from a queue is over: their wrap-up starts now.
    pub(super) fn queue_call_over(&mut self, store: &mut dyn Store) {
        if let Some(agent) = self.queue_agent.take()
            && let Err(e) = office::agent_call_ended(store, &agent)
        {
            self.note(None, Traced::Error(format!("the office store failed: {e}")));
        }
    }

    /// `queue` step: the caller joins, or goes straight to `then` when nobody is
    /// logged in.
    pub(super) fn enter_queue(&mut self, at: Addr, q: String, store: &mut dyn Store) {
        let plan = self.plan.clone();
        if plan.queue(&q).is_none() {
            self.note(
                self.here(),
                Traced::Error(format!("there is no queue {q:?}")),
            );
            return self.end(crate::command::HangupCause::NotFound, "no such queue");
        }
        self.step_note(at, "queue", vec![q.clone()]);
        let agents = match office::logged_in_agents(&plan, store, &q) {
            Ok(a) => a,
            Err(e) => return self.fail(format!("the office store failed: {e}")),
        };
        if agents.is_empty() {
            self.wait = Wait::Ringing {
                timer: None,
                target: Target::Queue(q),
            };
            return self.ring_failed("no agent is logged in", store);
        }
        self.join_queue(q, store);
    }
}
