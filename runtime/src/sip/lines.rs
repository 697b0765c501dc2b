//! What each extension's line is doing, across all its calls, sans-IO: the state busy
//! lamps, presence and the queues' "skip a busy agent" read.
//!
//! An extension can be in several calls at once (talking on one while another rings
//! it, or two of its phones in two calls), so each call says what it does to the line
//! and the line shows the busiest: in a call over ringing over idle. One call ending
//! never darkens a line another call still holds.

use std::collections::HashMap;

use super::dialog_info::LineState;

/// Every extension's line, by the calls holding it.
#[derive(Default)]
pub struct Lines {
    held: HashMap<String, HashMap<u64, LineState>>,
}

impl Lines {
    /// What `extension`'s line shows: the busiest state any call holds it in.
    pub fn state(&self, extension: &str) -> LineState {
        self.held
            .get(extension)
            .map(|calls| calls.values().copied().fold(LineState::Idle, busiest))
            .unwrap_or_default()
    }

    /// Call `call` now holds `extension`'s line in `state` (`Idle`: lets it go).
    /// Whether what the line shows changed.
    pub fn set(&mut self, call: u64, extension: &str, state: LineState) -> bool {
        let before = self.state(extension);
        if state == LineState::Idle {
            if let Some(calls) = self.held.get_mut(extension) {
                calls.remove(&call);
                if calls.is_empty() {
                    self.held.remove(extension);
                }
            }
        } else {
            self.held
                .entry(extension.to_string())
                .or_default()
                .insert(call, state);
        }
        self.state(extension) != before
    }

    /// Call `call` has ended: it lets go of every line it still holds. The extensions
    /// whose lines now show something else.
    pub fn release(&mut self, call: u64) -> Vec<String> {
        let held: Vec<String> = self
            .held
            .iter()
            .filter(|(_, calls)| calls.contains_key(&call))
            .map(|(extension, _)| extension.clone())
            .collect();
        held.into_iter()
            .filter(|extension| self.set(call, extension, LineState::Idle))
            .collect()
    }

    /// How many lines some call holds.
    pub fn busy(&self) -> usize {
        self.held.len()
    }
}

fn busiest(a: LineState, b: LineState) -> LineState {
    let rank = |s: LineState| match s {
        LineState::Idle => 0,
        LineState::Early => 1,
        LineState::Confirmed => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_ending_leaves_the_line_to_the_other() {
        let mut lines = Lines::default();
        assert!(lines.set(1, "102", LineState::Confirmed));
        // A second call rings 102 while it talks: the lamp stays "in a call".
        assert!(!lines.set(2, "102", LineState::Early));
        assert_eq!(lines.state("102"), LineState::Confirmed);
        // The talking call ends: the line shows the ringing one.
        assert!(lines.set(1, "102", LineState::Idle));
        assert_eq!(lines.state("102"), LineState::Early);
        assert!(lines.set(2, "102", LineState::Idle));
        assert_eq!(lines.state("102"), LineState::Idle);
        assert_eq!(lines.busy(), 0);
    }

    #[test]
    fn an_ended_call_lets_go_of_every_line_it_held() {
        let mut lines = Lines::default();
        lines.set(1, "101", LineState::Confirmed);
        lines.set(1, "102", LineState::Early);
        lines.set(2, "102", LineState::Confirmed);
        // 102 still shows call 2's state: unchanged, so nobody is told about it.
        assert_eq!(lines.release(1), vec!["101".to_string()]);
        assert_eq!(lines.state("102"), LineState::Confirmed);
        assert_eq!(lines.busy(), 1);
    }

    #[test]
    fn letting_go_of_a_line_never_held_changes_nothing() {
        let mut lines = Lines::default();
        assert!(!lines.set(7, "101", LineState::Idle));
        assert_eq!(lines.busy(), 0);
    }
}
