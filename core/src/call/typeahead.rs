//! Keys typed ahead: pressed while no question is collecting digits, kept for the next
//! one.
//!
//! A caller who knows the system does not wait for prompts to end: the PIN typed again
//! while "that PIN is not right" still plays, the menu choice typed during "you have two
//! new messages". Whatever plays at the time (a plain `play`, `say`, the engine's own
//! messages such as `vm-bad-pin` or `hotdesk-not-allowed`), the keys are kept, at most
//! `MAX_TYPEAHEAD` of them, and the next `ask`, menu or engine question takes them first;
//! keys that answer it make its prompt unnecessary. An interruptible prompt is stopped by
//! the first key and skipped altogether when keys are already waiting.
//!
//! The keys are forgotten where a caller would no longer mean them for the next question:
//! - when a recording starts: keys pressed during a greeting or before the beep are not
//!   answers to the questions after the message;
//! - when the call rings someone or is parked: it has left the menus, and keys during a
//!   conversation belong to the people talking;
//! - when a menu refuses a key or times out: keys typed after a wrong choice were typed
//!   blind, so the caller hears the menu again before choosing (keys pressed while the
//!   "invalid option" message plays are kept: they are the new choice).
//!
//! A `goto` or `call` keeps them: flows are how the admin arranged the plan, which the
//! caller cannot hear. Typed-ahead keys never appear in a trace until a question takes
//! them, so a PIN typed ahead is masked like any other.

use super::Call;
use crate::trace::Traced;

/// How many keys are kept: more than any answer needs (a 12-digit PIN, an extension and
/// a menu choice), few enough that a phone stuck sending a key cannot grow the call.
pub const MAX_TYPEAHEAD: usize = 32;

/// The keys waiting for the next question.
#[derive(Default)]
pub(super) struct TypeAhead {
    keys: String,
    /// The terminator of an `ask` that ended on its maximum number of digits: pressed
    /// out of habit before the next question starts, it ends nothing and is dropped.
    habit: Option<char>,
}

impl TypeAhead {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Takes every waiting key for a question that starts now.
    pub fn take(&mut self) -> String {
        self.habit = None;
        std::mem::take(&mut self.keys)
    }

    /// Puts back the keys a question did not need, in front of any kept since.
    pub fn put_back(&mut self, keys: &str) {
        self.keys.insert_str(0, keys);
    }
}

impl Call {
    /// Keeps a key for the next question. Returns whether it was kept.
    pub(super) fn type_ahead(&mut self, d: char) -> bool {
        if self.typeahead.habit.take() == Some(d) {
            self.note(
                None,
                Traced::Branch("the terminator pressed after a full answer is dropped".into()),
            );
            return false;
        }
        if self.typeahead.keys.len() >= MAX_TYPEAHEAD {
            self.ignore(format!("a key typed ahead beyond the {MAX_TYPEAHEAD} kept"));
            return false;
        }
        self.typeahead.keys.push(d);
        true
    }

    /// After an `ask` that ended on its maximum number of digits: its terminator, if it
    /// is the next key, is dropped, whether already typed ahead or pressed before the
    /// next question starts.
    pub(super) fn drop_habitual_terminator(&mut self, terminator: char) {
        if self.typeahead.keys.starts_with(terminator) {
            self.typeahead.keys.remove(0);
            self.note(
                None,
                Traced::Branch("the terminator pressed after a full answer is dropped".into()),
            );
        } else if self.typeahead.keys.is_empty() {
            self.typeahead.habit = Some(terminator);
        }
    }

    /// Forgets the keys typed ahead (see the module comment for when).
    pub(super) fn forget_typeahead(&mut self, why: &str) {
        self.typeahead.habit = None;
        if self.typeahead.keys.is_empty() {
            return;
        }
        let n = self.typeahead.keys.chars().count();
        self.typeahead.keys.clear();
        let keys = if n == 1 { "key" } else { "keys" };
        self.note(
            None,
            Traced::Branch(format!("{n} {keys} typed ahead forgotten: {why}")),
        );
    }
}
