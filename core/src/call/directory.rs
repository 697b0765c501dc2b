//! Dial by name: the caller spells the first three letters of a name on the keypad,
//! hears each matching person's recorded name and presses 1 to be connected or 2 for the
//! next. Only people who recorded their name are listed, as the user manual warns.

use super::input::{Input, Purpose};
use super::{AfterPrompt, Call};
use crate::command::{HangupCause, Media};
use crate::office;
use crate::store::Store;
use crate::trace::Traced;

/// Where a dial-by-name search stands.
pub(super) struct Directory {
    /// Failed searches and unanswered questions so far.
    attempts: u32,
    /// Extensions matching the letters; empty while asking for letters.
    matches: Vec<String>,
    index: usize,
}

/// After this many failed searches the caller is let go.
const MAX_ATTEMPTS: u32 = 3;

impl Call {
    pub(super) fn directory_start(&mut self, store: &mut dyn Store) {
        let d = Directory {
            attempts: 0,
            matches: Vec::new(),
            index: 0,
        };
        self.directory_ask(d, store);
    }

    /// Asks for letters, or offers the current match.
    pub(super) fn directory_ask(&mut self, d: Directory, store: &mut dyn Store) {
        let t = self.plan.settings.digit_timeout;
        if d.matches.is_empty() {
            let input = Input::new(3, None, t, t, Purpose::Directory(Box::new(d)));
            return self.begin_input(input, vec![Media::Prompt("dir-intro".into())], store);
        }
        let ext = d.matches[d.index].clone();
        let name = match store.name_recording(&ext) {
            Ok(Some(r)) => Media::Recording(r),
            Ok(None) => Media::Prompt("dir-no-match".into()),
            Err(e) => return self.fail(format!("the office store failed: {e}")),
        };
        let input = Input::new(1, None, t, t, Purpose::Directory(Box::new(d)));
        self.begin_input(
            input,
            vec![name, Media::Prompt("dir-confirm".into())],
            store,
        );
    }

    pub(super) fn directory_answer(
        &mut self,
        mut d: Directory,
        digits: &str,
        store: &mut dyn Store,
    ) {
        if d.matches.is_empty() {
            let found = if digits.len() == 3 {
                match office::directory_matches(&self.plan.clone(), store, digits) {
                    Ok(m) => m,
                    Err(e) => return self.fail(format!("the office store failed: {e}")),
                }
            } else {
                Vec::new()
            };
            self.note(
                self.here(),
                Traced::Branch(format!("{} name(s) match {digits:?}", found.len())),
            );
            if found.is_empty() {
                return self.directory_retry(d);
            }
            d.matches = found;
            d.index = 0;
            return self.directory_ask(d, store);
        }
        match digits {
            "1" => {
                let ext = d.matches[d.index].clone();
                self.note(self.here(), Traced::Branch(format!("connect to {ext}")));
                self.ring_extension(self.current, ext, None, store);
            }
            "2" => {
                d.index += 1;
                if d.index >= d.matches.len() {
                    d.matches.clear();
                    return self.directory_retry(d);
                }
                self.directory_ask(d, store);
            }
            _ => {
                d.attempts += 1;
                if d.attempts >= MAX_ATTEMPTS {
                    return self.end(HangupCause::Normal, "no choice in dial by name");
                }
                self.directory_ask(d, store);
            }
        }
    }

    /// No (more) names: say so and ask for letters again, a few times.
    fn directory_retry(&mut self, mut d: Directory) {
        d.attempts += 1;
        d.matches.clear();
        let then = if d.attempts >= MAX_ATTEMPTS {
            AfterPrompt::Hangup(HangupCause::Normal)
        } else {
            AfterPrompt::Directory(Box::new(d))
        };
        self.play_then(vec![Media::Prompt("dir-no-match".into())], false, then);
    }
}
