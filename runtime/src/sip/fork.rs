//! Ringing several phones at once for one call (forking), sans-IO: an extension rings
//! every contact it registered, and the first to answer is connected.
//!
//! Fed what each branch did, the fork says what to do: tell the caller it rings (once),
//! let the caller hear one branch's early media, connect the first answer and cancel
//! the others, hang up an answer that crossed the
//! first one (RFC 3261 section 13.2.2.4: a second 2xx is acknowledged and ended with a
//! BYE), and when every branch has failed, give the engine one outcome for all: busy if a
//! phone said so (486 or 600), otherwise failed.
//!
//! Early media when forks race: the caller has one stream to hear, so the first branch
//! whose 18x carries SDP is heard and the others' early media is not (their RTP reaches
//! the same port, where the heard branch's latch drops it). If the heard branch fails,
//! its early media ends and the caller hears nothing from the ring until another branch
//! sends early media of its own (a branch that sent it while another was heard is not
//! taken back: it may have finished its announcement) or answers. Whichever branch
//! answers first is connected, heard or not.

/// A branch of the fork: one contact being rung.
pub type Branch = usize;

/// What a branch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchEvent {
    /// 180 or 183 with no SDP (or with SDP while the caller cannot hear early media).
    Ringing(Branch),
    /// 180 or 183 with SDP: this branch sends early media.
    EarlyMedia(Branch),
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
    /// Let the caller hear this branch's early media (183 with the caller's answer), and
    /// tell it that a phone rings if it was not told yet.
    HearEarly(Branch),
    /// The branch whose early media the caller heard failed: stop relaying it.
    EndEarly,
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
    /// The branch whose early media the caller hears.
    heard: Option<Branch>,
    done: bool,
}

impl Fork {
    /// A fork of `branches` contacts, all being called.
    pub fn new(branches: usize) -> Fork {
        Fork {
            branches: vec![State::Trying; branches],
            told_ringing: false,
            heard: None,
            done: false,
        }
    }

    /// The branch whose early media the caller hears, if any.
    pub fn heard(&self) -> Option<Branch> {
        self.heard
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
            BranchEvent::Ringing(b)
            | BranchEvent::EarlyMedia(b)
            | BranchEvent::Answered(b)
            | BranchEvent::Failed(b, _) => b,
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
            BranchEvent::EarlyMedia(_)
                if matches!(state, State::Trying | State::Ringing) && !self.done =>
            {
                self.branches[branch] = State::Ringing;
                let told = std::mem::replace(&mut self.told_ringing, true);
                match self.heard {
                    None => {
                        self.heard = Some(branch);
                        vec![ForkAction::HearEarly(branch)]
                    }
                    Some(_) if !told => vec![ForkAction::TellRinging],
                    Some(_) => Vec::new(),
                }
            }
            BranchEvent::EarlyMedia(_) => Vec::new(),
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
                let mut actions = Vec::new();
                if self.heard == Some(branch) {
                    self.heard = None;
                    actions.push(ForkAction::EndEarly);
                }
                if self.done || !self.ringing().is_empty() {
                    return actions;
                }
                self.done = true;
                let busy = self
                    .branches
                    .iter()
                    .any(|s| matches!(s, State::Failed(Some(486 | 600))));
                actions.push(ForkAction::GiveUp(if busy {
                    ForkOutcome::Busy
                } else {
                    ForkOutcome::Failed
                }));
                actions
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
    fn the_first_branch_with_early_media_is_heard_and_its_failure_ends_it() {
        let mut fork = Fork::new(3);
        assert_eq!(fork.on(Ringing(2)), [ForkAction::TellRinging]);
        assert_eq!(fork.on(EarlyMedia(1)), [ForkAction::HearEarly(1)]);
        assert_eq!(fork.on(EarlyMedia(0)), [], "only the first is heard");
        assert_eq!(
            fork.on(EarlyMedia(1)),
            [],
            "a second 183 of the heard branch"
        );
        assert_eq!(fork.heard(), Some(1));
        assert_eq!(fork.on(Failed(1, Some(486))), [ForkAction::EndEarly]);
        assert_eq!(fork.heard(), None);
        // Another branch's early media may be heard now.
        let mut fork2 = Fork::new(2);
        fork2.on(EarlyMedia(0));
        fork2.on(Failed(0, Some(404)));
        assert_eq!(fork2.on(EarlyMedia(1)), [ForkAction::HearEarly(1)]);
        // The branches left answer or fail as before.
        assert_eq!(
            fork.on(Answered(0)),
            [ForkAction::Connect {
                branch: 0,
                cancel: vec![2]
            }]
        );
    }

    #[test]
    fn the_heard_branch_failing_last_ends_its_media_then_gives_up() {
        let mut fork = Fork::new(1);
        assert_eq!(fork.on(EarlyMedia(0)), [ForkAction::HearEarly(0)]);
        assert_eq!(
            fork.on(Failed(0, Some(486))),
            [ForkAction::EndEarly, ForkAction::GiveUp(ForkOutcome::Busy)]
        );
        assert_eq!(fork.on(EarlyMedia(0)), [], "nothing after the end");
    }

    #[test]
    fn events_of_unknown_branches_are_ignored() {
        let mut fork = Fork::new(1);
        assert_eq!(fork.on(Answered(7)), []);
        assert!(!fork.is_done());
    }
}
