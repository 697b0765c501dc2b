//! A simulated office: calls run against an in-memory store on a virtual clock, with
//! prompts that finish the moment they start and phones nobody answers — unless a test
//! says what a rung phone, queue or trunk does (`far_end`).
//!
//! The keys of one `press` are typed faster than any prompt plays: a prompt that starts
//! while they are being pressed ends only after the last of them (or when a key stops
//! it). So `press "1111#1234#"` types the second PIN while "that PIN is not right" plays,
//! and `press "1"` followed by `press "2"` answers one question at a time.
//!
//! This is the runtime of `switchboard test`, `switchboard simulate`, the scenario tests
//! and the benchmarks. It plays the part the SIP server plays in production, through the
//! same `Event`s and `Command`s, so what passes here is what the server runs.

mod far_end;

pub use far_end::{Rung, party_text};

use crate::call::{Call, CallStart, Caller};
use crate::command::Command;
use crate::event::Event;
use crate::ids::{CallId, PlayId, TimerId};
use crate::store::memory::MemoryStore;
use crate::trace::TraceEntry;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_dsl::Plan;
use switchboard_dsl::script::WallTime;

pub struct World {
    /// The office's state; its virtual clock moves with `wait`.
    pub store: MemoryStore,
    /// Office wall time at the start; calls see it unchanged (tests are short).
    pub time: WallTime,
    now: Duration,
    calls: Vec<SimCall>,
    /// Running timers by deadline, then by the order they were started.
    timers: BTreeMap<(Duration, u64), (usize, TimerId)>,
    timer_seq: u64,
    recordings: u64,
    /// While a `press` is being typed: the plays it started, which end after its last key.
    typing: Option<Vec<(usize, PlayId)>>,
}

/// One call and what it has done so far.
pub struct SimCall {
    pub call: Call,
    /// Every trace entry, in order.
    pub trace: Vec<TraceEntry>,
    /// Every command, in order.
    pub commands: Vec<Command>,
    /// What the call is ringing now (a `Ring`, `RingQueue` or `DialTrunk` nobody has
    /// answered, refused or cancelled yet).
    pub ringing: Option<Rung>,
    /// How many rings the call started, so one ring is told from the next of the same.
    rings: u64,
    /// Hold music playing, which ends only when the call stops it.
    on_hold: Vec<PlayId>,
    recording_since: Option<Duration>,
}

impl World {
    pub fn new(time: WallTime) -> World {
        World {
            store: MemoryStore::new(),
            time,
            now: Duration::ZERO,
            calls: Vec::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            recordings: 0,
            typing: None,
        }
    }

    /// Places a call and runs it until it waits. Returns its index.
    pub fn call(&mut self, plan: Arc<Plan>, from: Caller, dialled: &str) -> usize {
        let idx = self.calls.len();
        let start = CallStart {
            id: CallId(idx as u64 + 1),
            from,
            dialled: dialled.to_string(),
            time: self.time,
        };
        let call = Call::start(plan, start, &mut self.store);
        self.calls.push(SimCall {
            call,
            trace: Vec::new(),
            commands: Vec::new(),
            ringing: None,
            rings: 0,
            on_hold: Vec::new(),
            recording_since: None,
        });
        self.pump(idx, Vec::new());
        idx
    }

    pub fn press(&mut self, idx: usize, keys: &str) {
        self.typing = Some(Vec::new());
        for k in keys.chars() {
            self.pump(idx, vec![Event::Digit(k)]);
        }
        // The prompts the keys started now play to their end, in order.
        for (i, play) in self.typing.take().unwrap_or_default() {
            self.pump(i, vec![Event::PlayFinished(play)]);
        }
    }

    pub fn hangup(&mut self, idx: usize) {
        self.pump(idx, vec![Event::Hangup]);
    }

    /// Delivers any event, as the runtime would (for scenario tests).
    pub fn send(&mut self, idx: usize, event: Event) {
        self.pump(idx, vec![event]);
    }

    /// Lets time pass: timers that run out meanwhile fire in order.
    pub fn wait(&mut self, d: Duration) {
        let until = self.now + d;
        while self.fire_next_timer(Some(until)) {}
        self.move_clock(until);
    }

    /// Fires the earliest running timer (of any call), if it runs out by `until`; says
    /// whether one fired.
    fn fire_next_timer(&mut self, until: Option<Duration>) -> bool {
        let Some((&(at, seq), _)) = self.timers.first_key_value() else {
            return false;
        };
        if until.is_some_and(|u| at > u) {
            return false;
        }
        let (idx, id) = self.timers.remove(&(at, seq)).expect("just seen");
        self.move_clock(at);
        self.pump(idx, vec![Event::TimerFired(id)]);
        true
    }

    /// Moves the world's clock, and the store's with it, so that what the store stamps
    /// (PIN locks) sees the same time as the calls' timers.
    fn move_clock(&mut self, to: Duration) {
        let by = to.saturating_sub(self.now);
        self.store
            .advance(u64::try_from(by.as_millis()).unwrap_or(u64::MAX));
        self.now = to;
    }

    pub fn calls(&self) -> &[SimCall] {
        &self.calls
    }

    pub fn get(&self, idx: usize) -> &SimCall {
        &self.calls[idx]
    }

    pub fn now(&self) -> Duration {
        self.now
    }

    /// Feeds events to a call and carries out its commands until it is quiet.
    fn pump(&mut self, idx: usize, mut events: Vec<Event>) {
        events.reverse();
        loop {
            self.drain(idx, &mut events);
            match events.pop() {
                Some(e) => {
                    let sim = &mut self.calls[idx];
                    sim.call.handle(e, &mut self.store);
                }
                None => return,
            }
        }
    }

    /// Takes a call's commands and trace; what the world answers goes on `events`
    /// (a stack, so answers come before events queued earlier).
    fn drain(&mut self, idx: usize, events: &mut Vec<Event>) {
        let mut answers: Vec<Event> = Vec::new();
        let sim = &mut self.calls[idx];
        while let Some(t) = sim.call.poll_trace() {
            sim.trace.push(t);
        }
        while let Some(c) = sim.call.poll_command() {
            match &c {
                Command::Play { id, .. } => match &mut self.typing {
                    Some(held) => held.push((idx, *id)),
                    None => answers.push(Event::PlayFinished(*id)),
                },
                // Hold music plays until it is stopped.
                Command::PlayOnHold { id, .. } => sim.on_hold.push(*id),
                Command::StopPlaying(id) => {
                    // A play a key stopped reports its end at once.
                    if let Some(held) = &mut self.typing
                        && let Some(at) = held.iter().position(|h| *h == (idx, *id))
                    {
                        held.remove(at);
                        answers.push(Event::PlayFinished(*id));
                    } else if let Some(at) = sim.on_hold.iter().position(|h| h == id) {
                        sim.on_hold.remove(at);
                        answers.push(Event::PlayFinished(*id));
                    }
                }
                Command::Record { .. } => sim.recording_since = Some(self.now),
                Command::StopRecording => {
                    if let Some(since) = sim.recording_since.take() {
                        self.recordings += 1;
                        answers.push(Event::RecordingFinished {
                            recording: format!("rec-{}", self.recordings),
                            duration_ms: (self.now - since).as_millis() as u64,
                        });
                    }
                }
                Command::StartTimer { id, after } => {
                    self.timer_seq += 1;
                    self.timers
                        .insert((self.now + *after, self.timer_seq), (idx, *id));
                }
                Command::CancelTimer(id) => {
                    self.timers.retain(|_, (i, t)| !(*i == idx && t == id));
                }
                Command::Ring { extension } => {
                    sim.rings += 1;
                    sim.ringing = Some(Rung::Extension(extension.clone()));
                }
                Command::RingQueue { queue, agents, .. } => {
                    sim.rings += 1;
                    sim.ringing = Some(Rung::Queue {
                        queue: queue.clone(),
                        agents: agents.clone(),
                    });
                }
                Command::DialTrunk { trunk, number } => {
                    sim.rings += 1;
                    sim.ringing = Some(Rung::Trunk {
                        trunk: trunk.clone(),
                        number: number.clone(),
                    });
                }
                Command::CancelRing | Command::Hangup { .. } => sim.ringing = None,
                _ => {}
            }
            sim.commands.push(c);
        }
        // The first answer must be handled first.
        answers.reverse();
        events.extend(answers);
    }
}
