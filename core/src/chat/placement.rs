//! Where a customer's new message goes, sans-IO: back to the conversation's owner
//! (sticky ownership), or offered by the plan's chat routing to some agents.
//!
//! The rules (the 3CX chat guide and docs/language.md, section 11):
//!
//! - A conversation that is owned and not dealt with is sticky: the message goes to its
//!   owner, never through routing, and an archived one comes back to the owner's
//!   recents.
//! - Otherwise (new, never taken, or dealt with) the routing's answer decides:
//!   - a queue polled `all` is offered to every logged-in agent of the queue;
//!   - a queue polled `top N` to the N logged-in agents idle the longest (an agent
//!     never active counts as idle the longest; ties keep the queue's order);
//!   - a queue with nobody logged in to every agent of the queue, so that a chat is
//!     never stored where nobody can see it;
//!   - an extension to that extension alone.
//! - No route (or a queue without agents) leaves the conversation unplaced: it is still
//!   stored, so nothing the customer wrote is lost, and the notes say why.

use super::ChatDestination;
use switchboard_dsl::ast::Poll;

/// What is stored of a conversation, as far as placing a new message goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredConversation {
    /// The extension that owns it, if any.
    pub owner: Option<String>,
    /// Whether it was marked dealt with since it was last taken.
    pub dealt_with: bool,
    pub archived: bool,
}

/// One agent of the routed-to queue, in the queue's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueAgent {
    pub extension: String,
    pub logged_in: bool,
    /// Since when the agent has been idle (ms since the epoch: the end of their last
    /// queue call or their last chat reply, whichever is later); `None`: never active.
    pub idle_since_ms: Option<u64>,
}

/// Where the new message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// To the owner, unarchived if it was archived; not routed.
    Sticky { owner: String, unarchive: bool },
    /// Offered (unowned) to these extensions, for the routing's target.
    Offered {
        routed_to: RoutedTo,
        offered_to: Vec<String>,
    },
    /// Nobody: no route took it, or its queue has no agents. `reason` says which.
    Unplaced { reason: String },
}

/// What a conversation was routed to, as shown to agents ("queue 800", "extension 102").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoutedTo {
    Queue(String),
    Extension(String),
}

impl std::fmt::Display for RoutedTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoutedTo::Queue(q) => write!(f, "queue {q}"),
            RoutedTo::Extension(e) => write!(f, "extension {e}"),
        }
    }
}

/// Decides where a new message on `stored` goes (`None`: a new conversation).
/// `destination` is the plan's routing answer for the message, and `queue_agents` the
/// routed-to queue's agents in the queue's order (ignored for an extension).
pub fn place(
    stored: Option<&StoredConversation>,
    destination: Option<&ChatDestination>,
    queue_agents: &[QueueAgent],
) -> Placement {
    if let Some(StoredConversation {
        owner: Some(owner),
        dealt_with: false,
        archived,
    }) = stored
    {
        return Placement::Sticky {
            owner: owner.clone(),
            unarchive: *archived,
        };
    }
    match destination {
        None => Placement::Unplaced {
            reason: "no chat route takes this message".into(),
        },
        Some(ChatDestination::Extension(e)) => Placement::Offered {
            routed_to: RoutedTo::Extension(e.clone()),
            offered_to: vec![e.clone()],
        },
        Some(ChatDestination::Queue { queue, poll }) => {
            let routed_to = RoutedTo::Queue(queue.clone());
            if queue_agents.is_empty() {
                return Placement::Unplaced {
                    reason: format!("queue {queue} has no agents"),
                };
            }
            let mut logged_in: Vec<&QueueAgent> =
                queue_agents.iter().filter(|a| a.logged_in).collect();
            if logged_in.is_empty() {
                // Nobody logged in: everyone of the queue sees it, so it is not invisible.
                return Placement::Offered {
                    routed_to,
                    offered_to: queue_agents.iter().map(|a| a.extension.clone()).collect(),
                };
            }
            if let Poll::Top(n) = poll {
                // Stable: equal idle times keep the queue's order. `None` (never active)
                // sorts first, as the longest idle.
                logged_in.sort_by_key(|a| a.idle_since_ms);
                logged_in.truncate(usize::try_from(*n).unwrap_or(usize::MAX));
            }
            Placement::Offered {
                routed_to,
                offered_to: logged_in.iter().map(|a| a.extension.clone()).collect(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(owner: &str, dealt_with: bool, archived: bool) -> StoredConversation {
        StoredConversation {
            owner: Some(owner.into()),
            dealt_with,
            archived,
        }
    }

    fn queue(poll: Poll) -> ChatDestination {
        ChatDestination::Queue {
            queue: "800".into(),
            poll,
        }
    }

    fn agent(ext: &str, logged_in: bool, idle_since_ms: Option<u64>) -> QueueAgent {
        QueueAgent {
            extension: ext.into(),
            logged_in,
            idle_since_ms,
        }
    }

    fn offered(p: &Placement) -> Vec<&str> {
        match p {
            Placement::Offered { offered_to, .. } => {
                offered_to.iter().map(String::as_str).collect()
            }
            other => panic!("not offered: {other:?}"),
        }
    }

    fn agents() -> Vec<QueueAgent> {
        vec![
            agent("101", true, Some(5_000)),
            agent("102", false, None),
            agent("103", true, Some(1_000)),
            agent("104", true, None),
            agent("105", true, Some(9_000)),
        ]
    }

    #[test]
    fn an_owned_conversation_not_dealt_with_sticks_to_its_owner() {
        let q = queue(Poll::All);
        let p = place(Some(&owned("103", false, false)), Some(&q), &agents());
        assert_eq!(
            p,
            Placement::Sticky {
                owner: "103".into(),
                unarchive: false
            }
        );
        // Even when routing would send it elsewhere, or nowhere.
        let p = place(Some(&owned("103", false, true)), None, &[]);
        assert_eq!(
            p,
            Placement::Sticky {
                owner: "103".into(),
                unarchive: true
            }
        );
    }

    #[test]
    fn dealt_with_or_never_taken_goes_through_routing_again() {
        let q = queue(Poll::All);
        let p = place(Some(&owned("103", true, true)), Some(&q), &agents());
        assert_eq!(offered(&p), ["101", "103", "104", "105"]);
        let unowned = StoredConversation::default();
        let p = place(Some(&unowned), Some(&q), &agents());
        assert_eq!(offered(&p), ["101", "103", "104", "105"]);
        let p = place(None, Some(&q), &agents());
        assert_eq!(offered(&p), ["101", "103", "104", "105"]);
        match p {
            Placement::Offered { routed_to, .. } => assert_eq!(routed_to.to_string(), "queue 800"),
            _ => unreachable!(),
        }
    }

    #[test]
    fn poll_top_n_offers_the_n_longest_idle_logged_in_agents() {
        let p = place(None, Some(&queue(Poll::Top(2))), &agents());
        // 104 never active (longest idle), then 103 idle since 1 000; 102 is logged out.
        assert_eq!(offered(&p), ["104", "103"]);
        let p = place(None, Some(&queue(Poll::Top(3))), &agents());
        assert_eq!(offered(&p), ["104", "103", "101"]);
        // More than there are: every logged-in agent.
        let p = place(None, Some(&queue(Poll::Top(9))), &agents());
        assert_eq!(offered(&p), ["104", "103", "101", "105"]);
    }

    #[test]
    fn equal_idle_times_keep_the_queue_order() {
        let same = vec![
            agent("201", true, Some(7)),
            agent("202", true, Some(7)),
            agent("203", true, Some(7)),
        ];
        let p = place(None, Some(&queue(Poll::Top(2))), &same);
        assert_eq!(offered(&p), ["201", "202"]);
    }

    #[test]
    fn nobody_logged_in_offers_it_to_every_agent_of_the_queue() {
        let out = vec![agent("101", false, None), agent("102", false, Some(3))];
        for poll in [Poll::All, Poll::Top(1)] {
            let p = place(None, Some(&queue(poll)), &out);
            assert_eq!(offered(&p), ["101", "102"], "{poll:?}");
        }
    }

    #[test]
    fn an_extension_target_is_offered_to_that_extension_alone() {
        let p = place(
            None,
            Some(&ChatDestination::Extension("102".into())),
            &agents(),
        );
        assert_eq!(
            p,
            Placement::Offered {
                routed_to: RoutedTo::Extension("102".into()),
                offered_to: vec!["102".into()],
            }
        );
    }

    #[test]
    fn no_route_or_an_empty_queue_leaves_it_unplaced_with_the_reason() {
        match place(None, None, &agents()) {
            Placement::Unplaced { reason } => assert!(reason.contains("no chat route"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match place(None, Some(&queue(Poll::All)), &[]) {
            Placement::Unplaced { reason } => assert!(reason.contains("queue 800"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
