//! Recording: `record`, `confirm`, and leaving a message with `voicemail`.
//!
//! A recording is stored the moment the runtime reports it safely written, even when the
//! caller hung up in the middle: a voicemail is never lost to a hang-up.

use super::input::{Input, Purpose};
use super::{AfterPrompt, Call, Wait, digit_prompts, prompts};
use crate::command::{Command, HangupCause, Media};
use crate::ids::TimerId;
use crate::office;
use crate::store::{NewMessage, Store};
use crate::trace::Traced;
use switchboard_dsl::ast::RecordKind;
use switchboard_dsl::ir::{Addr, Op};

/// A recording in progress.
pub(super) struct Recording {
    pub kind: RecordKind,
    pub mailbox: String,
    pub terminator: Option<char>,
    pub max: std::time::Duration,
    pub timer: Option<TimerId>,
    pub stop_sent: bool,
    pub hung_up: bool,
    /// The `record` (or `voicemail`) instruction, to record again from `confirm`.
    pub at: Addr,
    /// A `voicemail` step thanks the caller and hangs up once the message is stored.
    pub leave_message: bool,
}

/// The last recording stored, for `confirm`.
pub(super) struct Recorded {
    pub recording: String,
    pub at: Addr,
}

impl Call {
    pub(super) fn record_step(&mut self, at: Addr, store: &mut dyn Store) {
        let plan = self.plan.clone();
        match plan.program.op(at) {
            Op::Record {
                kind,
                mailbox,
                terminator,
                max,
            } => {
                let mailbox = match mailbox {
                    Some(m) => match self.value_or_end(m, store) {
                        Some(m) => m,
                        None => return,
                    },
                    None => self.own_mailbox(),
                };
                if !office::has_voicemail(&plan, &mailbox) {
                    self.fail(format!("there is no mailbox {mailbox:?} to record for"));
                    return;
                }
                let what = match kind {
                    RecordKind::Name => "name",
                    RecordKind::Greeting => "greeting",
                    RecordKind::Message => "message",
                };
                self.step_note(at, "record", vec![what.into(), mailbox.clone()]);
                let r = Recording {
                    kind: *kind,
                    mailbox,
                    terminator: *terminator,
                    max: max.unwrap_or(plan.settings.max_recording),
                    timer: None,
                    stop_sent: false,
                    hung_up: false,
                    at,
                    leave_message: false,
                };
                self.play_then(
                    prompts(["beep".to_string()]),
                    false,
                    AfterPrompt::Record(Box::new(r)),
                );
            }
            Op::Confirm => {
                if self.last_recording.is_none() {
                    self.note(
                        self.here(),
                        Traced::Branch("nothing recorded to confirm".into()),
                    );
                    return;
                }
                self.step_note(at, "confirm", vec![]);
                let t = plan.settings.digit_timeout;
                let input = Input::new(1, None, t, t, Purpose::Confirm);
                self.begin_input(input, prompts(["vm-review".to_string()]), store);
            }
            Op::Voicemail(m) => {
                let mailbox = match self.value_or_end(m, store) {
                    Some(m) => m,
                    None => return,
                };
                self.leave_message(at, mailbox, store);
            }
            _ => {
                self.fail("a recording asked for by a step that does not record".into());
            }
        }
    }

    /// The caller's own mailbox: the one opened with `mailbox open`, else their extension.
    fn own_mailbox(&self) -> String {
        match (&self.mailbox, self.caller_extension()) {
            (Some(m), _) => m.mailbox.clone(),
            (None, Some(e)) => e.to_string(),
            (None, None) => String::new(),
        }
    }

    /// Plays the mailbox's greeting (or the default one), a beep, and records a message.
    pub(super) fn leave_message(&mut self, at: Addr, mailbox: String, store: &mut dyn Store) {
        let plan = self.plan.clone();
        if !office::has_voicemail(&plan, &mailbox) {
            self.note(
                self.here(),
                Traced::Error(format!("extension {mailbox:?} has no mailbox")),
            );
            return self.end(HangupCause::NotFound, "no such mailbox");
        }
        self.note(
            Some(plan.program.span(at)),
            Traced::Step {
                verb: "voicemail",
                args: vec![mailbox.clone()],
            },
        );
        let mut media = match store.greeting(&mailbox) {
            Ok(Some(g)) => vec![Media::Recording(g)],
            Ok(None) => prompts(
                std::iter::once("vm-unavailable".to_string())
                    .chain(digit_prompts(&mailbox))
                    .chain(std::iter::once("vm-is-unavailable".to_string())),
            ),
            Err(e) => return self.fail(format!("the office store failed: {e}")),
        };
        media.push(Media::Prompt("beep".into()));
        let r = Recording {
            kind: RecordKind::Message,
            mailbox,
            terminator: Some('#'),
            max: plan.settings.max_recording,
            timer: None,
            stop_sent: false,
            hung_up: false,
            at,
            leave_message: true,
        };
        // The default greeting speaks for the mailbox's owner, so in their language, as
        // a greeting they recorded themselves would be.
        let language = plan
            .extension(&r.mailbox)
            .and_then(|e| e.options.language.as_ref())
            .map(|l| l.name.clone())
            .unwrap_or_else(|| self.language());
        let play = self.play_in(media, false, language);
        self.wait_for_play(play, false, AfterPrompt::Record(Box::new(r)));
    }

    pub(super) fn start_recording(&mut self, mut r: Recording) {
        // Keys pressed during the greeting or the beep answer nothing after the message.
        self.forget_typeahead("a recording starts");
        self.push(Command::Record { max: r.max });
        r.timer = Some(self.timer(r.max));
        self.wait = Wait::Recording(Box::new(r));
    }

    pub(super) fn recording_digit(&mut self, d: char) {
        let Wait::Recording(r) = &self.wait else {
            return;
        };
        if r.terminator == Some(d) && !r.stop_sent {
            self.stop_recording("the caller ended the recording");
        } else {
            self.ignore("a key while recording".into());
        }
    }

    pub(super) fn stop_recording(&mut self, why: &str) {
        let Wait::Recording(r) = &mut self.wait else {
            return;
        };
        if r.stop_sent {
            return;
        }
        r.stop_sent = true;
        let timer = r.timer.take();
        if let Some(t) = timer {
            self.push(Command::CancelTimer(t));
        }
        self.push(Command::StopRecording);
        self.note(self.here(), Traced::Branch(why.to_string()));
    }

    pub(super) fn hung_up_while_recording(&mut self) {
        self.stop_recording("the caller hung up while recording");
        if let Wait::Recording(r) = &mut self.wait {
            r.hung_up = true;
        }
    }

    pub(super) fn recording_finished(
        &mut self,
        recording: String,
        duration_ms: u64,
        store: &mut dyn Store,
    ) {
        if !matches!(self.wait, Wait::Recording(_)) {
            return self.ignore(format!("a recording ({recording}) nobody asked for"));
        }
        // The runtime may end a recording on its own (a full disk, the longest length).
        self.stop_recording_quietly();
        let Wait::Recording(r) = std::mem::replace(&mut self.wait, Wait::Nothing) else {
            unreachable!()
        };
        let min = self.plan.settings.min_message;
        if r.kind == RecordKind::Message && u128::from(duration_ms) < min.as_millis() {
            return self.discard_short_message(*r, recording, duration_ms, store);
        }
        let saved = match r.kind {
            RecordKind::Message => {
                let from = self.variable("caller");
                let t = self.time;
                let received = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    t.year, t.month, t.day, t.hour, t.minute
                );
                let m = NewMessage {
                    recording: recording.clone(),
                    from,
                    duration_ms,
                    received,
                };
                store.add_message(&r.mailbox, m).map(|_| ())
            }
            RecordKind::Greeting | RecordKind::Name => {
                let greeting = r.kind == RecordKind::Greeting;
                let old = if greeting {
                    store.greeting(&r.mailbox)
                } else {
                    store.name_recording(&r.mailbox)
                };
                let set = if greeting {
                    store.set_greeting(&r.mailbox, &recording)
                } else {
                    store.set_name_recording(&r.mailbox, &recording)
                };
                // The one it replaces is no longer needed, once the new one is stored.
                if set.is_ok()
                    && let Ok(Some(old)) = old
                    && old != recording
                {
                    self.push(Command::DiscardRecording(old));
                }
                set
            }
        };
        match saved {
            Ok(()) => self.note(
                self.here(),
                Traced::Step {
                    verb: "recorded",
                    args: vec![recording.clone(), format!("{duration_ms}ms")],
                },
            ),
            Err(e) => self.note(
                self.here(),
                Traced::Error(format!("storing {recording} failed: {e}")),
            ),
        }
        if r.kind == RecordKind::Message {
            self.message_waiting(&r.mailbox, store);
        }
        self.last_recording = Some(Recorded {
            recording,
            at: r.at,
        });
        if r.hung_up {
            self.leave_park(store);
            self.wait = Wait::Ended;
            self.note(None, Traced::Ended("the caller hung up".into()));
        } else if r.leave_message {
            self.play_then(
                prompts(["vm-saved".to_string()]),
                false,
                AfterPrompt::Hangup(HangupCause::Normal),
            );
        } else {
            self.pc = Addr(r.at.0 + 1);
            self.run(store);
        }
    }

    /// A message shorter than `min_message`: a caller who hung up at the beep, or
    /// pressed the terminator at once. Nothing is stored, no lamp lights, the audio goes.
    fn discard_short_message(
        &mut self,
        r: Recording,
        recording: String,
        duration_ms: u64,
        store: &mut dyn Store,
    ) {
        let min = self.plan.settings.min_message;
        self.push(Command::DiscardRecording(recording));
        self.note(
            self.here(),
            Traced::Branch(format!(
                "a message of {} is shorter than min_message ({}): discarded",
                millis(duration_ms),
                millis(min.as_millis() as u64)
            )),
        );
        // `confirm` has nothing to offer back.
        self.last_recording = None;
        if r.hung_up {
            self.leave_park(store);
            self.wait = Wait::Ended;
            self.note(None, Traced::Ended("the caller hung up".into()));
        } else if r.leave_message {
            // No "saved": nothing was. The caller who is still there is let go.
            self.end(HangupCause::Normal, "the message was too short to keep");
        } else {
            self.pc = Addr(r.at.0 + 1);
            self.run(store);
        }
    }

    fn stop_recording_quietly(&mut self) {
        if let Wait::Recording(r) = &mut self.wait
            && let Some(t) = r.timer.take()
        {
            self.push(Command::CancelTimer(t));
        }
    }

    /// After `confirm`'s question: 0 keeps, 1 plays it back, 3 records again.
    pub(super) fn confirm_choice(&mut self, digits: &str, store: &mut dyn Store) {
        let Some((recording, at)) = self
            .last_recording
            .as_ref()
            .map(|l| (l.recording.clone(), l.at))
        else {
            self.pc = Addr(self.current.0 + 1);
            return self.run(store);
        };
        match digits {
            // Keeping is also what happens when the caller says nothing.
            "0" | "" => {
                self.note(self.here(), Traced::Branch("keep the recording".into()));
                self.pc = Addr(self.current.0 + 1);
                self.play_then(
                    prompts(["vm-saved".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
            "1" => {
                let media = vec![Media::Recording(recording)];
                self.note(self.here(), Traced::Branch("hear it again".into()));
                self.pc = self.current;
                self.play_then(media, true, AfterPrompt::Continue);
                if matches!(self.wait, Wait::Nothing) {
                    // Skipped for keys typed ahead: they answer the question again.
                    self.run(store);
                }
            }
            "3" => {
                self.note(self.here(), Traced::Branch("record again".into()));
                self.pc = at;
                self.run(store);
            }
            other => {
                self.note(self.here(), Traced::Branch(format!("invalid key {other}")));
                self.pc = self.current;
                self.run(store);
            }
        }
    }
}

/// `400ms`, `1s`: a length as the plan would write it.
fn millis(ms: u64) -> String {
    if ms > 0 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
