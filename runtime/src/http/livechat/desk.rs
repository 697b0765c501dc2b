//! The chat service as the live-chat socket sees it: the few `ChatHub` calls a visitor's
//! socket makes, in the socket's words (visitor, lines), so `session` reads as the
//! conversation it carries and the hub's wider API stays the hub's.

use super::super::{AppState, time};
use super::frames::{Attachment, Author, Line};
use crate::chat::file_links::{LinkKey, VISITOR_LINK_SECS};
use crate::chat::files::StoredAttachment;
use crate::chat::{ChatError, ChatEvent, ChatEventKind, ChatHub, Direction, Inbound, MessageView};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_dsl::ast::Channel;
use tokio::sync::broadcast;

/// What the visitor said, with who they are, for `receive`.
#[derive(Clone, Debug)]
pub struct Visit {
    /// The customer address (`visitor::VisitorToken::visitor_id`).
    pub visitor_id: String,
    /// The office address the widget's `data-office` named, if any.
    pub office: Option<String>,
    pub language: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The socket's peer, stored on the conversation so an agent can block it.
    pub address: IpAddr,
}

/// Why the hub did not take a message.
#[derive(Debug)]
pub enum NotTaken {
    /// The address was blocked (between the socket opening and this message).
    Blocked,
    /// The store failed; the words go to the log, the visitor hears "try again".
    Failed(String),
}

/// What happened to a conversation, as the socket needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Happened {
    /// Something was added (a message); fetch the lines after the last one shown.
    Changed(i64),
    /// An agent ended the chat session.
    Ended(i64),
    /// An agent blocked the visitor's address.
    Blocked(i64),
    /// Events were missed (a slow socket): fetch afresh.
    Missed,
}

/// The hub, for one socket.
#[derive(Clone)]
pub struct Desk {
    state: AppState,
}

/// The hub's events for one socket, from the moment it was made.
pub struct Events {
    events: broadcast::Receiver<ChatEvent>,
}

impl Desk {
    pub fn new(state: AppState) -> Desk {
        Desk { state }
    }

    fn hub(&self) -> &Arc<ChatHub> {
        &self.state.chat
    }

    /// Subscribes to the hub's events; made before the history is read, so nothing
    /// falls between the two.
    pub fn events(&self) -> Events {
        Events {
            events: self.hub().subscribe(),
        }
    }

    /// Whether the address, or the visitor when known, was blocked by an agent.
    pub async fn is_blocked(
        &self,
        address: IpAddr,
        visitor_id: Option<&str>,
    ) -> Result<bool, String> {
        let address = address.to_string();
        let mut blocked = vec![address.as_str()];
        blocked.extend(visitor_id);
        self.hub()
            .is_blocked(&blocked)
            .await
            .map_err(|e| e.to_string())
    }

    /// Whether an agent is there to answer a live chat from this widget now (the hub
    /// decides: the route's queue has an agent logged in, or it goes to a person).
    pub async fn online(
        &self,
        office: Option<&str>,
        language: Option<&str>,
    ) -> Result<bool, String> {
        self.hub()
            .online(Channel::LiveChat, office, language)
            .await
            .map_err(|e| e.to_string())
    }

    /// Wakes at each change of the office after now (queue logins among them): when an
    /// agent may have come or gone.
    pub fn office_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.state.office_changes.subscribe()
    }

    /// The visitor's conversation and its lines so far, if they wrote before.
    pub async fn conversation(
        &self,
        visitor_id: &str,
        office: Option<&str>,
    ) -> Result<Option<(i64, Vec<Line>)>, String> {
        let found = self
            .hub()
            .customer_conversation(Channel::LiveChat, visitor_id, office)
            .await
            .map_err(|e| e.to_string())?;
        let Some((c, messages)) = found else {
            return Ok(None);
        };
        Ok(Some((c.id, self.lines(messages).await?)))
    }

    /// The lines of `conversation` after message `after`.
    pub async fn lines_after(&self, conversation: i64, after: i64) -> Result<Vec<Line>, String> {
        let messages = self
            .hub()
            .messages_after(conversation, after)
            .await
            .map_err(|e| e.to_string())?;
        self.lines(messages).await
    }

    /// `messages` as the visitor's lines, their files with links signed now for
    /// `VISITOR_LINK_SECS` (so a history shown again carries fresh ones). The key is read
    /// only when a line has a file. A key that cannot be read (a damaged key file) costs
    /// the files their links, never the lines: the widget says a file was sent, and the
    /// conversation goes on; the log says what to fix.
    async fn lines(&self, messages: Vec<MessageView>) -> Result<Vec<Line>, String> {
        let key = if messages.iter().any(|m| m.attachment.is_some()) {
            match self.hub().link_key().await {
                Ok(key) => Some(key),
                Err(words) => {
                    tracing::error!("a visitor's file is shown without a link: {words}");
                    None
                }
            }
        } else {
            None
        };
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            + VISITOR_LINK_SECS;
        Ok(lines(messages, key, expires))
    }

    /// Hands the visitor's message to the hub (routed or sticky, stored, announced); the
    /// conversation it went into.
    pub async fn receive(&self, visit: &Visit, text: &str) -> Result<i64, NotTaken> {
        let inbound = Inbound {
            office_address: visit.office.clone(),
            contact_name: visit.name.clone(),
            contact_email: visit.email.clone(),
            address: Some(visit.address.to_string()),
            language: visit.language.clone(),
            ..Inbound::new(Channel::LiveChat, &visit.visitor_id, text)
        };
        match self.hub().receive(inbound).await {
            Ok(received) => Ok(received.conversation_id),
            Err(ChatError::Blocked) => Err(NotTaken::Blocked),
            Err(e) => Err(NotTaken::Failed(e.to_string())),
        }
    }
}

/// The lines a visitor sees: theirs and the agents'; the office's own notes (taken,
/// transferred, dealt with) are for the agents. A file's link expires at `expires`.
fn lines(messages: Vec<MessageView>, key: Option<&LinkKey>, expires: u64) -> Vec<Line> {
    messages
        .into_iter()
        .filter_map(|m| {
            let from = match m.direction {
                Direction::In => Author::Visitor,
                Direction::Out => Author::Agent,
                Direction::System => return None,
            };
            Some(Line {
                id: m.id,
                from,
                agent_name: match from {
                    Author::Agent => m.author_name.or(m.author),
                    Author::Visitor => None,
                },
                attachment: m
                    .attachment
                    .as_deref()
                    .and_then(StoredAttachment::parse)
                    .zip(key)
                    .map(|(a, key)| Attachment {
                        url: key.link(a.id, expires),
                        name: a.name,
                        content_type: a.content_type,
                        size: a.size,
                    }),
                text: m.text,
                at: time::rfc3339(UNIX_EPOCH + Duration::from_millis(m.at_ms)),
            })
        })
        .collect()
}

impl Events {
    /// The next live-chat event of any conversation; `None` when the hub is gone.
    pub async fn next(&mut self) -> Option<Happened> {
        loop {
            match self.events.recv().await {
                Ok(event) if event.channel != Channel::LiveChat => continue,
                Ok(event) => {
                    let id = event.conversation_id;
                    return Some(match event.kind {
                        ChatEventKind::Ended => Happened::Ended(id),
                        ChatEventKind::Blocked => Happened::Blocked(id),
                        _ => Happened::Changed(id),
                    });
                }
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(Happened::Missed),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
