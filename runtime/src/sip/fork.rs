//! Ringing several phones at once for one call (forking), sans-IO: an extension rings
//! every contact it registered, and the first to answer is connected.
//!
//! Fed what each branch did, the fork says what to do: tell the caller it rings (once),
//! connect the first answer and cancel the others, hang up an answer that crossed the
//! first one (RFC 3261 section 13.2.2.4: a second 2xx is acknowledged and ended with a
//! BYE), and when every branch has failed, give the engine one outcome for all: busy if a
//! phone said so (486 or 600), otherwise failed.

/// A branch of the fork: one contact being rung.
pub type Branch = usize;

/// What a branch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchEvent {
    /// 180 or 183.
    Ringing(Branch),
    /// 2xx.
    Answered(Branch),
    /// A final failure with this status, or none when no answer came at all (a timeout,
    /// a transport error).
    Failed(Branch, Option<u16>),
}

/// What the fork asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForkAction {
    /// Tell the caller that a phone rings (180), once per fork.
    TellRinging,
    /// Connect the caller to this branch; cancel these others still ringing.
    Connect { branch: Branch, cancel: Vec<Branch> },
    /// This branch answered after another was connected: acknowledge and hang it up.
    HangUpLate(Branch),
    /// Every branch failed: the call goes on in the plan with this outcome.
    GiveUp(ForkOutcome),
}

/// Why nobody could be connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkOutcome {
    /// A phone said busy (486 Busy Here or 600 Busy Everywhere).
    Busy,
    /// The phones refused or could not be reached.
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Trying,
    Ringing,
    Failed(Option<u16>),
    Connected,
    Cancelled,
    HungUp,
}

/// The branches of one fork.
#[derive(Debug)]
pub struct Fork {
    branches: Vec<State>,
    told_ringing: bool,
    done: bool,
}

impl Fork {
    /// A fork of `branches` contacts, all being called.
    pub fn new(branches: usize) -> Fork {
        Fork {
            branches: vec![State::Trying; branches],
            told_ringing: false,
            done: false,
        }
    }

    /// Whether the fork is over: a branch connected, or all of them failed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The branches still being rung (to cancel when the caller gives up).
    pub fn ringing(&self) -> Vec<Branch> {
        self.branches
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, State::Trying | State::Ringing))
            .map(|(b, _)| b)
            .collect()
    }

    /// Takes what a branch did; returns what to do about it.
    pub fn on(&mut self, event: BranchEvent) -> Vec<ForkAction> {
        let branch = match event {
            BranchEvent::Ringing(b) | BranchEvent::Answered(b) | BranchEvent::Failed(b, _) => b,
        };
        let Some(&state) = self.branches.get(branch) else {
            return Vec::new();
        };
        match event {
            BranchEvent::Ringing(_) if state == State::Trying && !self.done => {
                self.branches[branch] = State::Ringing;
                if std::mem::replace(&mut self.told_ringing, true) {
                    Vec::new()
                } else {
                    vec![ForkAction::TellRinging]
                }
            }
            BranchEvent::Ringing(_) => Vec::new(),
            BranchEvent::Answered(_) if self.done => {
                if matches!(state, State::Connected | State::HungUp) {
                    return Vec::new(); // a retransmitted 2xx
                }
                self.branches[branch] = State::HungUp;
                vec![ForkAction::HangUpLate(branch)]
            }
            BranchEvent::Answered(_) => {
                self.done = true;
                let cancel: Vec<Branch> = self
                    .ringing()
                    .into_iter()
                    .filter(|b| *b != branch)
                    .collect();
                for b in &cancel {
                    self.branches[*b] = State::Cancelled;
                }
                self.branches[branch] = State::Connected;
                vec![ForkAction::Connect { branch, cancel }]
            }
            BranchEvent::Failed(_, status) => {
                if !matches!(state, State::Trying | State::Ringing) {
                    return Vec::new();
                }
                self.branches[branch] = State::Failed(status);
                if self.done || !self.ringing().is_empty() {
                    return Vec::new();
                }
                self.done = true;
                let busy = self
                    .branches
                    .iter()
                    .any(|s| matches!(s, State::Failed(Some(486 | 600))));
                vec![ForkAction::GiveUp(if busy {
                    ForkOutcome::Busy
                } else {
                    ForkOutcome::Failed
                })]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BranchEvent::*;

    #[test]
    fn the_first_answer_wins_and_the_others_are_cancelled() {
        let mut fork = Fork::new(3);
        assert_eq!(fork.on(Ringing(1)), [ForkAction::TellRinging]);
        assert_eq!(fork.on(Ringing(0)), [], "the caller is told once");
        assert_eq!(
            fork.on(Answered(0)),
            [ForkAction::Connect {
                branch: 0,
                cancel: vec![1, 2]
            }]
        );
        assert!(fork.is_done());
        assert!(fork.ringing().is_empty());
        // The cancelled branch's 487 changes nothing.
        assert_eq!(fork.on(Failed(1, Some(487))), []);
    }

    #[test]
    fn an_answer_that_crosses_the_first_is_hung_up_once() {
        let mut fork = Fork::new(2);
        fork.on(Answered(1));
        assert_eq!(fork.on(Answered(0)), [ForkAction::HangUpLate(0)]);
        assert_eq!(fork.on(Answered(0)), [], "a retransmitted 2xx");
        assert_eq!(
            fork.on(Answered(1)),
            [],
            "the connected branch's retransmission"
        );
    }

    #[test]
    fn when_every_branch_fails_busy_wins_over_other_failures() {
        let mut fork = Fork::new(3);
        assert_eq!(fork.on(Failed(0, Some(480))), []);
        assert_eq!(fork.on(Failed(1, Some(486))), []);
        assert_eq!(
            fork.on(Failed(2, None)),
            [ForkAction::GiveUp(ForkOutcome::Busy)]
        );
        let mut fork = Fork::new(2);
        fork.on(Failed(0, Some(603)));
        assert_eq!(
            fork.on(Failed(1, None)),
            [ForkAction::GiveUp(ForkOutcome::Failed)]
        );
    }

    #[test]
    fn one_branch_failing_leaves_the_others_ringing() {
        let mut fork = Fork::new(2);
        fork.on(Ringing(0));
        assert_eq!(fork.on(Failed(0, Some(486))), []);
        assert_eq!(fork.ringing(), [1]);
        assert_eq!(
            fork.on(Answered(1)),
            [ForkAction::Connect {
                branch: 1,
                cancel: vec![]
            }]
        );
    }

    #[test]
    fn events_of_unknown_branches_are_ignored() {
        let mut fork = Fork::new(1);
        assert_eq!(fork.on(Answered(7)), []);
        assert!(!fork.is_done());
    }
}
