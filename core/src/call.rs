//! One call as a state machine: it runs the plan's program until the plan has to wait
//! (for a prompt, digits, a recording, a phone), then sleeps until the next event.
//!
//! The call owns an `Arc` of the plan it started on, so a reload never changes a call in
//! progress. It does no I/O and never reads the clock: timers leave as commands and come
//! back as events. Whatever arrives, it cannot panic: an event that makes no sense in the
//! current state is traced and ignored, and a plan that fails ends the call with a trace
//! entry saying why.

mod connect;
mod directory;
mod input;
mod mailbox;
mod queue;
mod record;
mod route;
mod run;
pub mod toll_fraud;
mod typeahead;
mod values;

use crate::command::{Command, HangupCause, Media};
use crate::event::{Event, FarEnd};
use crate::ids::{CallId, PlayId, TimerId};
use crate::store::Store;
use crate::trace::{self, TraceEntry, Traced};
use input::Input;
use std::collections::VecDeque;
use std::sync::Arc;
use switchboard_dsl::ir::{Addr, MenuId};
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, Span};

/// How many instructions a call may run for one event. A plan that loops without ever
/// waiting for the caller (`flow a { goto a }`) is ended here instead of hanging the
/// server.
pub const MAX_STEPS_PER_EVENT: u32 = 10_000;

/// Who placed the call and what they dialled.
#[derive(Clone, Debug)]
pub struct CallStart {
    pub id: CallId,
    pub from: Caller,
    pub dialled: String,
    /// Office wall time when the call began, for scripts and message stamps.
    pub time: WallTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A desk phone: the extension, and the MAC of a hot-desk phone if it is one.
    Extension {
        number: String,
        device: Option<String>,
    },
    /// A call from outside on a trunk, from `number`.
    Trunk { trunk: String, number: String },
}

pub struct Call {
    plan: Arc<Plan>,
    id: CallId,
    from: Caller,
    dialled: String,
    time: WallTime,
    /// The next instruction to run.
    pc: Addr,
    /// The instruction running (or waiting), for traces.
    current: Addr,
    /// `run` is on the stack; a nested `run` returns and lets the outer loop go on.
    running: bool,
    wait: Wait,
    answered: bool,
    vars: Vec<(String, String)>,
    /// Return addresses of `call` steps, innermost last.
    stack: Vec<Addr>,
    loops: Vec<u32>,
    /// The menu being shown and how many times it failed (timeout or invalid key).
    menu_attempts: Option<(MenuId, u32)>,
    /// Keys pressed while no question was collecting, for the next one.
    typeahead: typeahead::TypeAhead,
    language: Option<String>,
    mailbox: Option<mailbox::Cursor>,
    /// The agent who took this call from a queue; their wrap-up starts when it ends.
    queue_agent: Option<String>,
    /// The last thing recorded, for `confirm`.
    last_recording: Option<record::Recorded>,
    next_timer: u32,
    next_play: u32,
    commands: VecDeque<Command>,
    trace: VecDeque<TraceEntry>,
}

/// What moves a waiting call on (`Call::awaiting`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaiting {
    Keys,
    Time,
    Nothing,
}

/// What the call is waiting for.
enum Wait {
    /// Running: not waiting for anything.
    Nothing,
    /// A prompt is playing; when it ends, `then` happens.
    Prompt {
        play: PlayId,
        barge_in: bool,
        /// A key already stopped it; more keys are only typed ahead.
        stopping: bool,
        then: AfterPrompt,
    },
    /// Collecting digits for an `ask`, a menu or one of the engine's own questions.
    Input(Box<Input>),
    /// Recording; `stop_sent` once `StopRecording` went out.
    Recording(Box<record::Recording>),
    /// Waiting in a queue while its agents are offered the call.
    Queued(Box<queue::Queued>),
    /// Ringing an extension, a queue or a trunk.
    Ringing {
        timer: Option<TimerId>,
        target: connect::Target,
    },
    /// Connected to someone (or parked): only the hang-up is left.
    Connected,
    Ended,
}

/// What follows a prompt the engine plays on its own.
enum AfterPrompt {
    /// Carry on with the program.
    Continue,
    Hangup(HangupCause),
    /// Start recording (after the beep).
    Record(Box<record::Recording>),
    /// Ask the next dial-by-name question.
    Directory(Box<directory::Directory>),
}

impl Call {
    /// Starts a call on `plan`: finds the route for the number dialled and runs until the
    /// plan first waits.
    pub fn start(plan: Arc<Plan>, start: CallStart, store: &mut dyn Store) -> Call {
        let loops = plan.program.loops as usize;
        let mut call = Call {
            plan,
            id: start.id,
            from: start.from,
            dialled: start.dialled,
            time: start.time,
            pc: Addr(0),
            current: Addr(0),
            running: false,
            wait: Wait::Nothing,
            answered: false,
            vars: Vec::new(),
            stack: Vec::new(),
            loops: vec![0; loops],
            menu_attempts: None,
            typeahead: typeahead::TypeAhead::default(),
            language: None,
            mailbox: None,
            queue_agent: None,
            last_recording: None,
            next_timer: 0,
            next_play: 0,
            commands: VecDeque::new(),
            trace: VecDeque::new(),
        };
        // A desk phone's own language (`language "de"` on the extension) is the call's.
        if let Caller::Extension { number, .. } = &call.from {
            call.language = call
                .plan
                .extension(number)
                .and_then(|e| e.options.language.as_ref())
                .map(|l| l.name.clone());
        }
        match call.find_route(store) {
            Some(entry) => {
                call.pc = entry;
                call.run(store);
            }
            None if call.caller_extension().is_some_and(str::is_empty) => {
                // A hot-desk phone nobody is logged in to: say why nothing happens.
                call.play_then(
                    prompts(["not-allowed".to_string()]),
                    false,
                    AfterPrompt::Hangup(HangupCause::Normal),
                );
            }
            None => {
                // No step ran, so no place in the plan is to blame.
                let dialled = call.dialled.clone();
                call.note(None, Traced::Error(format!("no route for \"{dialled}\"")));
                call.push(Command::Hangup {
                    cause: HangupCause::NotFound,
                });
                call.wait = Wait::Ended;
                call.note(None, Traced::Ended("nothing answers to that number".into()));
            }
        }
        call
    }

    /// Feeds one event to the call; then poll its commands and trace.
    pub fn handle(&mut self, event: Event, store: &mut dyn Store) {
        match event {
            Event::Digit(d) if matches!(d, '0'..='9' | '*' | '#') => self.digit(d, store),
            Event::Digit(d) => self.ignore(format!("a key that is not on a phone: {d:?}")),
            Event::PlayFinished(id) => self.play_finished(id, store),
            Event::RecordingFinished {
                recording,
                duration_ms,
            } => self.recording_finished(recording, duration_ms, store),
            Event::FarEnd(f) => self.far_end(f, store),
            Event::AnsweredBy(agent) => match &self.wait {
                Wait::Queued(_) => self.queue_far_end(Some(Some(agent)), "answered", store),
                _ => self.far_end(FarEnd::Answered, store),
            },
            Event::TimerFired(t) => self.timer_fired(t, store),
            Event::Hangup => self.caller_hung_up(store),
        }
    }

    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    pub fn poll_trace(&mut self) -> Option<TraceEntry> {
        self.trace.pop_front()
    }

    pub fn id(&self) -> CallId {
        self.id
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    pub fn is_ended(&self) -> bool {
        matches!(self.wait, Wait::Ended)
    }

    /// What moves the call on from where it waits, for the editor's simulator: keys (an
    /// `ask`, a menu, the engine's own questions), time (a prompt, a recording, a ring, a
    /// queue: each ends by itself), or neither (connected, ended).
    pub fn awaiting(&self) -> Awaiting {
        match &self.wait {
            Wait::Input(_) => Awaiting::Keys,
            Wait::Prompt { .. } | Wait::Recording(_) | Wait::Ringing { .. } | Wait::Queued(_) => {
                Awaiting::Time
            }
            Wait::Nothing | Wait::Connected | Wait::Ended => Awaiting::Nothing,
        }
    }

    /// What the call is waiting for, in words (for `simulate` and the call list).
    pub fn waiting_for(&self) -> &'static str {
        match &self.wait {
            Wait::Nothing => "nothing",
            Wait::Prompt { .. } => "a prompt to finish",
            Wait::Input(_) => "the caller's keys",
            Wait::Recording(_) => "the end of a recording",
            Wait::Ringing { .. } | Wait::Queued(_) => "someone to answer",
            Wait::Connected => "the hang-up of a connected call",
            Wait::Ended => "nothing: the call is over",
        }
    }

    // ---- events ----------------------------------------------------------------------

    fn digit(&mut self, d: char, store: &mut dyn Store) {
        match &mut self.wait {
            Wait::Input(_) => self.input_digit(d, store),
            Wait::Prompt {
                play,
                barge_in,
                stopping,
                ..
            } => {
                // Whether or not the prompt may be interrupted, the key is kept for the
                // next question (see `typeahead.rs`). The key itself is not traced: it
                // may be the first digit of a PIN.
                let stop = (*barge_in && !*stopping).then_some(*play);
                if !self.type_ahead(d) {
                    return;
                }
                if let Some(play) = stop {
                    if let Wait::Prompt { stopping, .. } = &mut self.wait {
                        *stopping = true;
                    }
                    self.push(Command::StopPlaying(play));
                    self.note(None, Traced::Branch("a key stops the prompt".into()));
                }
            }
            Wait::Recording(_) => self.recording_digit(d),
            Wait::Connected | Wait::Ringing { .. } | Wait::Queued(_) => {
                // Keys during a conversation belong to the people talking.
            }
            // A key no question takes is never traced by its value: it may be part of a PIN.
            _ => self.ignore(format!("a key while waiting for {}", self.waiting_for())),
        }
    }

    fn play_finished(&mut self, id: PlayId, store: &mut dyn Store) {
        match &self.wait {
            Wait::Prompt { play, .. } if *play == id => {
                let Wait::Prompt { then, .. } = std::mem::replace(&mut self.wait, Wait::Nothing)
                else {
                    unreachable!()
                };
                self.after_prompt(then, store);
            }
            Wait::Input(input) if input.play == Some(id) => self.input_prompt_done(store),
            Wait::Queued(_) => self.queue_play_finished(id),
            _ if id.0 < self.next_play => {
                // A prompt stopped by a key reports its end after the call moved on.
            }
            _ => self.ignore(format!(
                "the end of a prompt ({}) that was never played",
                id.0
            )),
        }
    }

    fn after_prompt(&mut self, then: AfterPrompt, store: &mut dyn Store) {
        match then {
            AfterPrompt::Continue => self.run(store),
            AfterPrompt::Hangup(cause) => self.end(cause, "the plan hung up"),
            AfterPrompt::Record(r) => self.start_recording(*r),
            AfterPrompt::Directory(d) => self.directory_ask(*d, store),
        }
    }

    fn timer_fired(&mut self, id: TimerId, store: &mut dyn Store) {
        match &self.wait {
            Wait::Input(input) if input.timer == Some(id) => self.input_timeout(store),
            Wait::Queued(_) => self.queue_timer(id, store),
            Wait::Ringing { timer, .. } if *timer == Some(id) => {
                self.push(Command::CancelRing);
                self.ring_failed("nobody answered in time", store);
            }
            Wait::Recording(r) if r.timer == Some(id) => {
                // The timer has fired: nothing left to cancel.
                if let Wait::Recording(r) = &mut self.wait {
                    r.timer = None;
                }
                self.stop_recording("the longest recording allowed")
            }
            _ => self.ignore(format!("timer {} that is no longer running", id.0)),
        }
    }

    fn far_end(&mut self, f: FarEnd, store: &mut dyn Store) {
        if matches!(self.wait, Wait::Queued(_)) {
            let (answered, why) = match f {
                FarEnd::Answered => (Some(None), "answered"),
                FarEnd::Busy => (None, "busy"),
                FarEnd::NoAnswer => (None, "no answer"),
                FarEnd::Failed => (None, "the call could not be made"),
            };
            return self.queue_far_end(answered, why, store);
        }
        let Wait::Ringing { timer, .. } = &self.wait else {
            self.ignore(format!("{f:?} from a far end while not ringing"));
            return;
        };
        if let Some(t) = *timer {
            self.push(Command::CancelTimer(t));
        }
        match f {
            FarEnd::Answered => {
                self.note(None, Traced::Branch(trace::ANSWERED.into()));
                self.wait = Wait::Connected;
            }
            FarEnd::Busy => self.ring_failed("busy", store),
            FarEnd::NoAnswer => self.ring_failed("no answer", store),
            FarEnd::Failed => self.ring_failed("the call could not be made", store),
        }
    }

    fn caller_hung_up(&mut self, store: &mut dyn Store) {
        match std::mem::replace(&mut self.wait, Wait::Ended) {
            Wait::Ended => {
                self.wait = Wait::Ended;
                self.ignore("a hang-up after the call ended".into());
            }
            Wait::Recording(r) => {
                // Keep what was said: the recording is stored once the runtime reports it.
                self.wait = Wait::Recording(r);
                self.hung_up_while_recording();
            }
            Wait::Ringing { timer, .. } => {
                if let Some(t) = timer {
                    self.push(Command::CancelTimer(t));
                }
                self.push(Command::CancelRing);
                self.finish_hangup(store);
            }
            queued @ Wait::Queued(_) => {
                self.wait = queued;
                self.queue_hung_up();
                self.finish_hangup(store);
            }
            Wait::Input(input) => {
                if let Some(t) = input.timer {
                    self.push(Command::CancelTimer(t));
                }
                self.finish_hangup(store);
            }
            _ => self.finish_hangup(store),
        }
    }

    fn finish_hangup(&mut self, store: &mut dyn Store) {
        self.leave_park(store);
        self.queue_call_over(store);
        self.wait = Wait::Ended;
        self.note(None, Traced::Ended("the caller hung up".into()));
    }

    // ---- helpers shared by the step modules ------------------------------------------

    fn push(&mut self, c: Command) {
        self.commands.push_back(c);
    }

    fn note(&mut self, span: Option<Span>, what: Traced) {
        self.trace.push_back(TraceEntry { span, what });
    }

    fn here(&self) -> Option<Span> {
        let i = self.current.0 as usize;
        self.plan.program.spans.get(i).copied()
    }

    fn ignore(&mut self, what: String) {
        self.note(None, Traced::Ignored(what));
    }

    fn timer(&mut self, after: std::time::Duration) -> TimerId {
        let id = TimerId(self.next_timer);
        self.next_timer += 1;
        self.push(Command::StartTimer { id, after });
        id
    }

    fn language(&self) -> String {
        self.language
            .clone()
            .unwrap_or_else(|| self.plan.settings.language.clone())
    }

    /// Answers first if needed: media before an answer would need early media, which
    /// not every phone or carrier plays.
    fn ensure_answered(&mut self) {
        if !self.answered {
            self.answered = true;
            self.push(Command::Answer);
        }
    }

    /// Sends media and returns the play's id.
    fn play(&mut self, media: Vec<Media>, barge_in: bool) -> PlayId {
        let language = self.language();
        self.play_in(media, barge_in, language)
    }

    /// Sends media in a given prompt language (a mailbox owner's, for their greeting).
    fn play_in(&mut self, media: Vec<Media>, barge_in: bool, language: String) -> PlayId {
        let names = media
            .iter()
            .map(|m| match m {
                Media::Prompt(p) => p.clone(),
                Media::Recording(r) => format!("recording:{r}"),
            })
            .collect();
        self.send_play(media, barge_in, language, names)
    }

    /// Sends media and traces it as `shown`.
    fn send_play(
        &mut self,
        media: Vec<Media>,
        barge_in: bool,
        language: String,
        shown: Vec<String>,
    ) -> PlayId {
        self.ensure_answered();
        let id = PlayId(self.next_play);
        self.next_play += 1;
        self.note(self.here(), Traced::Played(shown));
        self.push(Command::Play {
            id,
            media,
            language,
            barge_in,
        });
        id
    }

    /// Says a secret digit by digit: the caller hears it, the trace shows one
    /// `digits/*` per digit.
    fn say_secret(&mut self, media: Vec<Media>) {
        let shown = vec![format!("digits/{}", trace::MASK); media.len()];
        let language = self.language();
        let play = self.send_play(media, false, language, shown);
        self.wait_for_play(play, false, AfterPrompt::Continue);
    }

    /// Plays media, then does `then`. An interruptible prompt that would go on with the
    /// plan is skipped when keys are already typed ahead: any key pressed during it would
    /// have stopped it at once. The call then does not wait (`wait` stays `Nothing`).
    fn play_then(&mut self, media: Vec<Media>, barge_in: bool, then: AfterPrompt) {
        if barge_in && !self.typeahead.is_empty() && matches!(then, AfterPrompt::Continue) {
            self.note(
                self.here(),
                Traced::Branch("keys typed ahead skip an interruptible prompt".into()),
            );
            self.wait = Wait::Nothing;
            return;
        }
        let play = self.play(media, barge_in);
        self.wait_for_play(play, barge_in, then);
    }

    fn wait_for_play(&mut self, play: PlayId, barge_in: bool, then: AfterPrompt) {
        self.wait = Wait::Prompt {
            play,
            barge_in,
            stopping: false,
            then,
        };
    }

    fn end(&mut self, cause: HangupCause, why: &str) {
        self.push(Command::Hangup { cause });
        self.wait = Wait::Ended;
        if cause == HangupCause::Normal {
            // What `expect hangup` looks for: the plan ended the call on purpose.
            self.note(
                self.here(),
                Traced::Step {
                    verb: "hangup",
                    args: vec![],
                },
            );
        }
        self.note(self.here(), Traced::Ended(why.to_string()));
    }

    fn fail(&mut self, what: String) {
        self.note(self.here(), Traced::Error(what));
        self.end(HangupCause::Error, "the plan could not go on");
    }

    fn message_waiting(&mut self, mailbox: &str, store: &mut dyn Store) {
        match store.message_counts(mailbox) {
            Ok((new, saved)) => self.push(Command::MessageWaiting {
                mailbox: mailbox.to_string(),
                new,
                saved,
            }),
            Err(e) => self.note(None, Traced::Error(format!("store: {e}"))),
        }
    }

    fn caller_extension(&self) -> Option<&str> {
        match &self.from {
            Caller::Extension { number, .. } => Some(number),
            Caller::Trunk { .. } => None,
        }
    }
}

/// Media for a list of prompt names.
fn prompts(names: impl IntoIterator<Item = String>) -> Vec<Media> {
    names.into_iter().map(Media::Prompt).collect()
}

/// `digits/1`, `digits/0`, ... for each digit of `s`; other characters are skipped.
fn digit_prompts(s: &str) -> impl Iterator<Item = String> + '_ {
    s.chars().filter_map(|c| match c {
        '0'..='9' => Some(format!("digits/{c}")),
        '*' => Some("digits/star".to_string()),
        '#' => Some("digits/pound".to_string()),
        _ => None,
    })
}

/// Calls move between the runtime's tasks, so they must stay `Send`.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Call>();
};
