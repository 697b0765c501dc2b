//! The `mailbox` steps voicemail menus are built from: open a mailbox, select new or
//! saved messages, play, move, save, delete, say the count, change the PIN.

use super::{AfterPrompt, Call, digit_prompts, prompts};
use crate::command::{Command, Media};
use crate::ids::MessageId;
use crate::office;
use crate::store::{Folder, Store};
use crate::trace::Traced;
use switchboard_dsl::ir::{Addr, MailboxOp};

/// The open mailbox and the messages selected in it.
pub(super) struct Cursor {
    pub mailbox: String,
    /// The selected messages (id, recording); saving or deleting one takes it out.
    pub selection: Vec<(MessageId, String)>,
    pub pos: usize,
}

impl Cursor {
    pub fn current(&self) -> Option<&(MessageId, String)> {
        self.selection.get(self.pos)
    }
}

impl Call {
    pub(super) fn mailbox_step(&mut self, at: Addr, op: &MailboxOp, store: &mut dyn Store) {
        let plan = self.plan.clone();
        macro_rules! store {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        self.fail(format!("the office store failed: {e}"));
                        return;
                    }
                }
            };
        }
        if let MailboxOp::Open(m) = op {
            let mailbox = match self.value_or_end(m, store) {
                Some(m) => m,
                None => return,
            };
            if !office::has_voicemail(&plan, &mailbox) {
                self.fail(format!("there is no mailbox {mailbox:?}"));
                return;
            }
            self.step_note(at, "mailbox", vec!["open".into(), mailbox.clone()]);
            self.mailbox = Some(Cursor {
                mailbox,
                selection: Vec::new(),
                pos: 0,
            });
            return;
        }
        let Some(cursor) = &mut self.mailbox else {
            self.fail("no mailbox is open here; use `mailbox open` first".into());
            return;
        };
        let mailbox = cursor.mailbox.clone();
        match op {
            MailboxOp::Open(_) => unreachable!("handled above"),
            MailboxOp::Select { saved } => {
                let folder = if *saved { Folder::Saved } else { Folder::New };
                let messages = store!(store.messages(&mailbox, folder));
                cursor.selection = messages.into_iter().map(|m| (m.id, m.recording)).collect();
                cursor.pos = 0;
                let n = cursor.selection.len();
                let which = if *saved { "saved" } else { "new" };
                self.step_note(
                    at,
                    "mailbox",
                    vec!["select".into(), which.into(), n.to_string()],
                );
            }
            MailboxOp::Play => {
                let media = match cursor.current() {
                    Some((_, rec)) => {
                        vec![
                            Media::Prompt("vm-message".into()),
                            Media::Recording(rec.clone()),
                        ]
                    }
                    None => prompts(["vm-no-messages".to_string()]),
                };
                self.step_note(at, "mailbox", vec!["play".into()]);
                self.play_then(media, true, AfterPrompt::Continue);
            }
            MailboxOp::Next => {
                cursor.pos = (cursor.pos + 1).min(cursor.selection.len());
                self.step_note(at, "mailbox", vec!["next".into()]);
            }
            MailboxOp::Previous => {
                cursor.pos = cursor.pos.saturating_sub(1);
                self.step_note(at, "mailbox", vec!["previous".into()]);
            }
            MailboxOp::Save | MailboxOp::Delete => {
                let save = matches!(op, MailboxOp::Save);
                let Some((id, recording)) = cursor.current().cloned() else {
                    self.note(self.here(), Traced::Branch("no message selected".into()));
                    return;
                };
                let pos = cursor.pos;
                cursor.selection.remove(pos);
                if save {
                    store!(store.move_message(&mailbox, id, Folder::Saved));
                } else if store!(store.delete_message(&mailbox, id)) {
                    self.push(Command::DiscardRecording(recording));
                }
                let verb = if save { "save" } else { "delete" };
                self.step_note(at, "mailbox", vec![verb.into()]);
                self.message_waiting(&mailbox, store);
            }
            MailboxOp::SayCount { saved } => {
                let (new, old) = store!(store.message_counts(&mailbox));
                let n = if *saved { old } else { new };
                let count = n.to_string();
                let names = std::iter::once("vm-you-have".to_string())
                    .chain(digit_prompts(&count))
                    .chain(std::iter::once("vm-messages".to_string()));
                let which = if *saved { "saved" } else { "new" };
                self.step_note(
                    at,
                    "mailbox",
                    vec!["say_count".into(), which.into(), n.to_string()],
                );
                self.play_then(prompts(names), true, AfterPrompt::Continue);
            }
            MailboxOp::SetPin(v) => {
                let pin = match self.value_or_end(v, store) {
                    Some(p) => p,
                    None => return,
                };
                let min = plan.settings.pin_min_digits;
                let ok = pin.len() >= min
                    && pin.len() <= MAX_PIN_DIGITS
                    && pin.bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    self.note(
                        self.here(),
                        Traced::Branch(format!(
                            "a PIN must be {min} to {MAX_PIN_DIGITS} digits; unchanged"
                        )),
                    );
                    self.play_then(
                        prompts(["vm-bad-pin".to_string()]),
                        false,
                        AfterPrompt::Continue,
                    );
                    return;
                }
                store!(store.set_pin(&mailbox, &pin));
                self.step_note(at, "mailbox", vec!["set_pin".into()]);
                self.play_then(
                    prompts(["vm-pin-changed".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
        }
    }
}

/// The longest PIN a phone keypad entry is expected to hold.
const MAX_PIN_DIGITS: usize = 12;
