//! Who may see a conversation and who may act on it, sans-IO.
//!
//! The rules (the 3CX chat guide, the SMS guide):
//!
//! - An owned conversation is seen by its owner alone; an unowned one by the agents it
//!   was offered to ("any agent can respond and see ongoing conversations until one
//!   agent takes ownership").
//! - An agent it was offered to who asks to take or answer it after someone else took
//!   it hears who took it (a conflict, not "no such conversation": they saw it a moment
//!   ago). To anybody else a conversation they may not see does not exist.
//! - Take, reply, transfer, dealt with and information: whoever sees it. Answering an
//!   unowned conversation takes it; taking one's own is no change.
//! - Archive, unarchive and delete change the conversation for everyone who sees it, so
//!   only its owner may, or the one agent an unowned conversation is offered to (after
//!   Dealt with it stays in the archive of the agent who marked it).
//! - End chat session and Block: live chat only.

use switchboard_dsl::ast::Channel;

/// What the rules need to know of a stored conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub channel: Channel,
    pub owner: Option<String>,
    /// When the owner took it (ms since the epoch), for the conflict's words.
    pub taken_at_ms: Option<u64>,
    /// The extensions it was (last) offered to; kept after someone takes it.
    pub offered_to: Vec<String>,
}

/// What an agent asks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    See,
    Take,
    Reply,
    Transfer,
    DealtWith,
    Archive,
    Unarchive,
    Delete,
    EndSession,
    Block,
    Information,
}

/// Why an action is refused; nothing changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The agent may not see it: for them it does not exist.
    NotVisible,
    /// Someone else owns it (the agent had it offered).
    TakenBy { owner: String, at_ms: Option<u64> },
    /// They see it but may not do this; the words say why and what to do.
    NotAllowed(String),
}

/// Whether `agent` sees `c`.
pub fn sees(c: &Conversation, agent: &str) -> bool {
    match &c.owner {
        Some(owner) => owner == agent,
        None => c.offered_to.iter().any(|e| e == agent),
    }
}

/// Whether `agent` may do `action` on `c`.
pub fn may(c: &Conversation, agent: &str, action: Action) -> Result<(), Refusal> {
    if !sees(c, agent) {
        return Err(match (&c.owner, action) {
            (Some(owner), Action::Take | Action::Reply)
                if c.offered_to.iter().any(|e| e == agent) =>
            {
                Refusal::TakenBy {
                    owner: owner.clone(),
                    at_ms: c.taken_at_ms,
                }
            }
            _ => Refusal::NotVisible,
        });
    }
    match action {
        Action::See
        | Action::Take
        | Action::Reply
        | Action::Transfer
        | Action::DealtWith
        | Action::Information => Ok(()),
        Action::Archive | Action::Unarchive | Action::Delete => {
            let alone = c.owner.is_some() || c.offered_to.len() == 1;
            if alone {
                Ok(())
            } else {
                Err(Refusal::NotAllowed(format!(
                    "this conversation is offered to {} agents; take it first, then {}",
                    c.offered_to.len(),
                    match action {
                        Action::Archive => "archive it",
                        Action::Unarchive => "unarchive it",
                        _ => "delete it",
                    }
                )))
            }
        }
        Action::EndSession | Action::Block => {
            if c.channel == Channel::LiveChat {
                Ok(())
            } else {
                Err(Refusal::NotAllowed(format!(
                    "{} is only for website live chat; this is a {} conversation",
                    if action == Action::Block {
                        "blocking"
                    } else {
                        "ending the chat session"
                    },
                    c.channel.as_str()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 11] = [
        Action::See,
        Action::Take,
        Action::Reply,
        Action::Transfer,
        Action::DealtWith,
        Action::Archive,
        Action::Unarchive,
        Action::Delete,
        Action::EndSession,
        Action::Block,
        Action::Information,
    ];

    fn conversation(channel: Channel, owner: Option<&str>, offered: &[&str]) -> Conversation {
        Conversation {
            channel,
            owner: owner.map(String::from),
            taken_at_ms: owner.map(|_| 42),
            offered_to: offered.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn an_owned_conversation_is_the_owners_alone() {
        let c = conversation(Channel::LiveChat, Some("102"), &["101", "102", "103"]);
        for action in ALL {
            assert_eq!(may(&c, "102", action), Ok(()), "{action:?}");
        }
        assert!(sees(&c, "102"));
        assert!(!sees(&c, "101"));
    }

    #[test]
    fn an_offered_agent_hears_who_took_it_when_taking_or_answering() {
        let c = conversation(Channel::Sms, Some("102"), &["101", "102"]);
        for action in [Action::Take, Action::Reply] {
            assert_eq!(
                may(&c, "101", action),
                Err(Refusal::TakenBy {
                    owner: "102".into(),
                    at_ms: Some(42)
                })
            );
        }
        // Anything else: for them it no longer exists.
        for action in [
            Action::See,
            Action::Transfer,
            Action::Delete,
            Action::Information,
        ] {
            assert_eq!(
                may(&c, "101", action),
                Err(Refusal::NotVisible),
                "{action:?}"
            );
        }
    }

    #[test]
    fn a_stranger_is_never_told_that_it_exists() {
        for c in [
            conversation(Channel::Sms, Some("102"), &["101", "102"]),
            conversation(Channel::Sms, None, &["101", "102"]),
        ] {
            for action in ALL {
                assert_eq!(
                    may(&c, "199", action),
                    Err(Refusal::NotVisible),
                    "{action:?}"
                );
            }
        }
    }

    #[test]
    fn every_offered_agent_sees_an_unowned_one_and_may_take_answer_or_pass_it_on() {
        let c = conversation(Channel::WhatsApp, None, &["101", "103"]);
        for agent in ["101", "103"] {
            assert!(sees(&c, agent));
            for action in [
                Action::See,
                Action::Take,
                Action::Reply,
                Action::Transfer,
                Action::DealtWith,
                Action::Information,
            ] {
                assert_eq!(may(&c, agent, action), Ok(()), "{agent} {action:?}");
            }
        }
    }

    #[test]
    fn archive_and_delete_of_a_shared_one_need_taking_it_first() {
        let c = conversation(Channel::Facebook, None, &["101", "103"]);
        for action in [Action::Archive, Action::Unarchive, Action::Delete] {
            match may(&c, "101", action) {
                Err(Refusal::NotAllowed(words)) => assert!(words.contains("take it first")),
                other => panic!("{action:?}: {other:?}"),
            }
        }
        // Offered to one agent alone (after Dealt with): theirs to archive or delete.
        let c = conversation(Channel::Facebook, None, &["101"]);
        for action in [Action::Archive, Action::Unarchive, Action::Delete] {
            assert_eq!(may(&c, "101", action), Ok(()), "{action:?}");
        }
    }

    #[test]
    fn end_session_and_block_are_for_live_chat_only() {
        for channel in [Channel::WhatsApp, Channel::Facebook, Channel::Sms] {
            let c = conversation(channel, Some("101"), &[]);
            for action in [Action::EndSession, Action::Block] {
                match may(&c, "101", action) {
                    Err(Refusal::NotAllowed(words)) => {
                        assert!(words.contains("only for website live chat"), "{words}")
                    }
                    other => panic!("{channel:?} {action:?}: {other:?}"),
                }
            }
        }
    }
}
