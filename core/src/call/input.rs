//! Collecting digits: `ask`, menus, and the engine's own questions (confirm, dial by
//! name). Prompts of a question can always be interrupted by a key; collection ends on
//! the terminator, on the maximum number of digits, or when the caller stops pressing.

use super::directory::Directory;
use super::{Call, Wait};
use crate::command::{Command, HangupCause, Media};
use crate::ids::{PlayId, TimerId};
use crate::store::Store;
use crate::trace::{Traced, masked};
use std::time::Duration;
use switchboard_dsl::ir::{Addr, MenuId, Op};

pub(super) struct Input {
    /// The question's prompt, while it plays.
    pub play: Option<PlayId>,
    /// The timeout running: for the first digit, then between digits.
    pub timer: Option<TimerId>,
    pub digits: String,
    pub max: u32,
    pub terminator: Option<char>,
    pub first_timeout: Duration,
    pub next_timeout: Duration,
    pub purpose: Purpose,
}

/// How a collection of digits ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ended {
    Terminator,
    Enough,
    TimedOut,
}

impl Ended {
    fn as_str(self) -> &'static str {
        match self {
            Ended::Terminator => "ended with the terminator",
            Ended::Enough => "enough digits",
            Ended::TimedOut => "timed out",
        }
    }
}

/// Why digits are being collected, and so what to do with them.
pub(super) enum Purpose {
    Ask {
        into: String,
        min: u32,
        /// The answer is a PIN: traces show it masked.
        secret: bool,
    },
    Menu(MenuId),
    /// `confirm`: keep, hear again or record again the last recording.
    Confirm,
    Directory(Box<Directory>),
}

impl Call {
    /// Starts the `ask`, `menu` or `repeat` at `at`. A menu shown again after a timeout
    /// or an invalid key (`again`) keeps counting its retries.
    pub(super) fn start_input(&mut self, at: Addr, again: bool, store: &mut dyn Store) {
        let plan = self.plan.clone();
        let digit_timeout = plan.settings.digit_timeout;
        let (prompt_ops, input) = match plan.program.op(at) {
            Op::Ask {
                prompts,
                min,
                max,
                terminator,
                timeout,
                into,
                secret,
            } => (
                prompts,
                Input::new(
                    *max,
                    *terminator,
                    timeout.unwrap_or(digit_timeout),
                    digit_timeout,
                    Purpose::Ask {
                        into: into.clone(),
                        min: *min,
                        secret: *secret,
                    },
                ),
            ),
            Op::Menu(id) | Op::Repeat(id) => {
                let fresh = (!again && matches!(plan.program.op(at), Op::Menu(_)))
                    || self.menu_attempts.is_none_or(|(m, _)| m != *id);
                if fresh {
                    self.menu_attempts = Some((*id, 0));
                }
                let menu = plan.program.menu(*id);
                let timeout = menu.timeout.unwrap_or(digit_timeout);
                (
                    &menu.prompts,
                    Input::new(1, None, timeout, timeout, Purpose::Menu(*id)),
                )
            }
            _ => return self.fail("digits asked for by a step that does not ask".into()),
        };
        let prompts = match self.values(prompt_ops, store) {
            Ok(p) => p,
            Err(e) => return self.fail(e),
        };
        let media = prompts.into_iter().map(Media::Prompt).collect();
        self.begin_input(input, media, store);
    }

    /// Asks a question: keys typed ahead answer it at once, else its prompts play.
    pub(super) fn begin_input(&mut self, input: Input, media: Vec<Media>, store: &mut dyn Store) {
        self.ensure_answered();
        self.wait = Wait::Input(Box::new(input));
        let typed = self.typeahead.take();
        if !typed.is_empty() {
            // Keys typed ahead answer the question without its prompt or timers; keys
            // beyond what it takes are kept for the next question.
            let mut keys = typed.chars();
            let mut done = None;
            if let Wait::Input(i) = &mut self.wait {
                for d in keys.by_ref() {
                    done = i.accept(d);
                    if done.is_some() {
                        break;
                    }
                }
            }
            self.typeahead.put_back(keys.as_str());
            match done {
                Some(how) => self.finish_input(how, store),
                None => self.input_wait(false),
            }
            return;
        }
        if media.is_empty() {
            self.input_wait(true);
        } else {
            let id = self.play(media, true);
            if let Wait::Input(i) = &mut self.wait {
                i.play = Some(id);
            }
        }
    }

    /// Starts the timer for the first or the next digit.
    fn input_wait(&mut self, first: bool) {
        let after = match &self.wait {
            Wait::Input(i) if first => i.first_timeout,
            Wait::Input(i) => i.next_timeout,
            _ => return,
        };
        let t = self.timer(after);
        if let Wait::Input(i) = &mut self.wait {
            i.timer = Some(t);
        }
    }

    pub(super) fn input_digit(&mut self, d: char, store: &mut dyn Store) {
        let Wait::Input(i) = &mut self.wait else {
            return;
        };
        let stop = i.play.take();
        let timer = i.timer.take();
        let done = i.accept(d);
        if let Some(p) = stop {
            self.push(Command::StopPlaying(p));
        }
        if let Some(t) = timer {
            self.push(Command::CancelTimer(t));
        }
        match done {
            Some(how) => self.finish_input(how, store),
            None => self.input_wait(false),
        }
    }

    pub(super) fn input_prompt_done(&mut self, _store: &mut dyn Store) {
        if let Wait::Input(i) = &mut self.wait {
            i.play = None;
            let first = i.digits.is_empty();
            self.input_wait(first);
        }
    }

    pub(super) fn input_timeout(&mut self, store: &mut dyn Store) {
        if let Wait::Input(i) = &mut self.wait {
            i.timer = None;
        }
        self.finish_input(Ended::TimedOut, store);
    }

    fn finish_input(&mut self, how: Ended, store: &mut dyn Store) {
        let Wait::Input(input) = std::mem::replace(&mut self.wait, Wait::Nothing) else {
            return;
        };
        let input = *input;
        let timed_out = how == Ended::TimedOut;
        if how == Ended::Enough
            && let Some(t) = input.terminator
        {
            // "1234#" into a 4-digit answer: the `#` is habit, not the next answer.
            self.drop_habitual_terminator(t);
        }
        // Traces are shown to admins and kept per call: a PIN never appears in one. The
        // compiler decides what is a PIN (`lower/secrets.rs`).
        let digits = match &input.purpose {
            Purpose::Ask { secret: true, .. } => masked(&input.digits),
            _ => input.digits.clone(),
        };
        self.note(
            self.here(),
            Traced::Digits {
                digits,
                ended: how.as_str(),
            },
        );
        match input.purpose {
            Purpose::Ask { into, min, .. } => {
                if (input.digits.len() as u32) < min {
                    self.note(
                        self.here(),
                        Traced::Branch(format!("fewer than {min} digits")),
                    );
                }
                self.set_var(&into, input.digits);
                self.pc = Addr(self.current.0 + 1);
                self.run(store);
            }
            Purpose::Menu(id) => self.menu_choice(id, &input.digits, timed_out, store),
            Purpose::Confirm => self.confirm_choice(&input.digits, store),
            Purpose::Directory(d) => self.directory_answer(*d, &input.digits, store),
        }
    }

    fn menu_choice(&mut self, id: MenuId, digits: &str, timed_out: bool, store: &mut dyn Store) {
        let plan = self.plan.clone();
        let menu = plan.program.menu(id);
        let key = digits.chars().next();
        if let Some(&(k, to)) = key.and_then(|k| menu.keys.iter().find(|(m, _)| *m == k)) {
            self.menu_attempts = Some((id, 0));
            self.note(self.here(), Traced::Branch(format!("key {k}")));
            self.pc = to;
            return self.run(store);
        }
        let attempts = match &mut self.menu_attempts {
            Some((m, n)) if *m == id => {
                *n += 1;
                *n
            }
            _ => {
                self.menu_attempts = Some((id, 1));
                1
            }
        };
        let what = if timed_out {
            "timeout".to_string()
        } else {
            format!("invalid key {}", digits)
        };
        // Keys typed after a wrong choice were typed blind (see `typeahead.rs`).
        self.forget_typeahead("the menu refused a key");
        if attempts > menu.retries {
            self.note(
                self.here(),
                Traced::Branch(format!("{what}; retries exhausted ({})", menu.retries)),
            );
            match menu.on_retries_exhausted.or(menu.on_timeout) {
                Some(to) => {
                    self.pc = to;
                    self.run(store)
                }
                None => self.end(HangupCause::Normal, "the menu's retries ran out"),
            }
            return;
        }
        self.note(self.here(), Traced::Branch(what));
        let branch = if timed_out {
            menu.on_timeout
        } else {
            menu.on_invalid
        };
        match branch {
            Some(to) => self.pc = to,
            // Without an entry for it, the menu simply starts again.
            None => self.pc = self.current,
        }
        if self.pc == self.current {
            // Re-entering the same menu keeps its retry count.
            return self.start_input(self.current, true, store);
        }
        self.run(store);
    }
}

impl Input {
    /// Takes one key; says how collection ended if this key ended it.
    fn accept(&mut self, d: char) -> Option<Ended> {
        if self.terminator == Some(d) {
            return Some(Ended::Terminator);
        }
        self.digits.push(d);
        (self.digits.len() as u32 >= self.max).then_some(Ended::Enough)
    }

    pub(super) fn new(
        max: u32,
        terminator: Option<char>,
        first_timeout: Duration,
        next_timeout: Duration,
        purpose: Purpose,
    ) -> Input {
        Input {
            play: None,
            timer: None,
            digits: String::new(),
            max: max.max(1),
            terminator,
            first_timeout,
            next_timeout,
            purpose,
        }
    }
}
