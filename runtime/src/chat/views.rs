//! What agents and the live-chat widget read: an agent's conversations, one
//! conversation with its messages, the contact and interaction history, and a
//! visitor's own lines. Reads ask the same visibility rules as the actions.

use super::error::ChatError;
use super::hub::{ChatHub, checked, name_of};
use crate::sqlite_store::{ChatConversation, ChatMessageRow, ChatTx, Delivery, Direction};
use serde::Serialize;
use switchboard_core::chat::visibility::Action;
use switchboard_dsl::Plan;
use switchboard_dsl::ast::Channel;

/// A conversation in an agent's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConversationSummary {
    pub id: i64,
    pub channel: &'static str,
    pub customer: String,
    pub contact_name: Option<String>,
    pub office_address: String,
    pub routed_to: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub archived: bool,
    pub dealt_with_at_ms: Option<u64>,
    pub last: Option<LastMessage>,
    /// The customer's messages the reading agent has not seen: after their read mark
    /// (`mark_read`) and after their own last reply.
    pub unread: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LastMessage {
    pub text: String,
    pub at_ms: u64,
    pub direction: Direction,
    /// The stored attachment JSON, when the message carried a file.
    pub attachment: Option<String>,
}

/// One message as shown to an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub direction: Direction,
    pub author: Option<String>,
    pub author_name: Option<String>,
    pub text: String,
    pub attachment: Option<String>,
    pub at_ms: u64,
    /// For a reply through a provider: how its delivery stands (a dead one's error is
    /// what the agent sees).
    pub delivery: Option<Delivery>,
}

/// A conversation with its messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConversationDetail {
    pub conversation: ConversationSummary,
    pub messages: Vec<MessageView>,
}

/// The Information panel: the contact and their history with every agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Information {
    pub channel: &'static str,
    pub customer: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// A live-chat visitor's network address.
    pub address: Option<String>,
    pub history: Vec<HistoryEntry>,
}

/// One conversation of the contact's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub conversation_id: i64,
    pub channel: &'static str,
    pub office_address: String,
    pub started_at_ms: u64,
    pub last_at_ms: u64,
    /// The agents who answered, in the order they first did.
    pub agents: Vec<String>,
    pub routed_to: String,
    pub dealt_with_at_ms: Option<u64>,
}

impl ChatHub {
    /// The conversations `agent` sees, archived or not, the latest first.
    pub async fn list(
        &self,
        agent: &str,
        archived: bool,
    ) -> Result<Vec<ConversationSummary>, ChatError> {
        let plan = self.plan();
        let agent = agent.to_string();
        self.transaction("list chat conversations", move |tx| {
            tx.conversations_visible_to(&agent, archived)?
                .iter()
                .map(|c| summary(tx, &plan, c, &agent))
                .collect()
        })
        .await
    }

    /// Conversation `id` with its messages; `NotVisible` when `agent` may not see it.
    pub async fn read(&self, agent: &str, id: i64) -> Result<ConversationDetail, ChatError> {
        let plan = self.plan();
        let agent = agent.to_string();
        self.transaction("read a chat conversation", move |tx| {
            let (c, _) = checked(tx, &plan, id, &agent, Action::See)?;
            let mut messages = Vec::new();
            for m in tx.messages(id)? {
                let delivery = match m.direction {
                    Direction::Out => tx.delivery(m.id)?,
                    _ => None,
                };
                messages.push(view(&plan, m, delivery));
            }
            Ok(ConversationDetail {
                conversation: summary(tx, &plan, &c, &agent)?,
                messages,
            })
        })
        .await
    }

    /// `agent` has read conversation `id` up to message `message_id` (the page marks what
    /// it shows while the conversation is open and visible). `NotFound` when the message
    /// is not the conversation's.
    pub async fn mark_read(&self, agent: &str, id: i64, message_id: i64) -> Result<(), ChatError> {
        let plan = self.plan();
        let agent = agent.to_string();
        self.transaction("mark a chat conversation read", move |tx| {
            checked(tx, &plan, id, &agent, Action::See)?;
            if tx.message(id, message_id)?.is_none() {
                return Err(ChatError::NotFound(format!(
                    "conversation {id} has no message {message_id}; GET \
                     /api/chat/conversations/{id} lists its messages"
                )));
            }
            Ok(tx.mark_read(id, &agent, message_id)?)
        })
        .await
    }

    /// The contact of conversation `id` and their history with every agent, on this
    /// channel's address and any other conversation from the same address.
    pub async fn information(&self, agent: &str, id: i64) -> Result<Information, ChatError> {
        let plan = self.plan();
        let agent = agent.to_string();
        self.transaction("read a chat contact", move |tx| {
            let (c, _) = checked(tx, &plan, id, &agent, Action::Information)?;
            let contact = tx.contact(c.channel, &c.customer)?;
            let mut history = Vec::new();
            for h in tx.conversations_of_customer(&c.customer)? {
                history.push(HistoryEntry {
                    conversation_id: h.id,
                    channel: h.channel.as_str(),
                    office_address: h.office_address.clone(),
                    started_at_ms: h.created_at_ms,
                    last_at_ms: h.last_at_ms,
                    agents: tx.authors(h.id)?,
                    routed_to: h.routed_to.clone(),
                    dealt_with_at_ms: h.dealt_with_at_ms,
                });
            }
            Ok(Information {
                channel: c.channel.as_str(),
                customer: c.customer.clone(),
                name: contact
                    .name
                    .or(c.contact_name)
                    .or_else(|| contact_name(c.channel, &c.customer, None)),
                email: contact.email,
                address: contact.remote_address.or(c.remote_address),
                history,
            })
        })
        .await
    }

    /// A visitor's own conversation (the widget's history), `None` when they have none.
    /// Not for agents: it asks no visibility, the caller is the customer.
    pub async fn customer_conversation(
        &self,
        channel: Channel,
        customer: &str,
        office_address: Option<&str>,
    ) -> Result<Option<(ChatConversation, Vec<MessageView>)>, ChatError> {
        let plan = self.plan();
        let customer = customer.to_string();
        let office = office_address.unwrap_or("").to_string();
        self.transaction("read a visitor's chat", move |tx| {
            let Some(c) = tx.find_conversation(channel, &customer, &office)? else {
                return Ok(None);
            };
            let messages = tx
                .messages(c.id)?
                .into_iter()
                .map(|m| view(&plan, m, None))
                .collect();
            Ok(Some((c, messages)))
        })
        .await
    }

    /// The messages of conversation `id` after message `after` (what an event added),
    /// for the customer's side. Asks no visibility.
    pub async fn messages_after(&self, id: i64, after: i64) -> Result<Vec<MessageView>, ChatError> {
        let plan = self.plan();
        self.transaction("read new chat messages", move |tx| {
            Ok(tx
                .messages_after(id, after)?
                .into_iter()
                .map(|m| view(&plan, m, None))
                .collect())
        })
        .await
    }

    /// Whether any of `addresses` (a visitor id, a network address) is blocked.
    pub async fn is_blocked(&self, addresses: &[&str]) -> Result<bool, ChatError> {
        let addresses: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
        self.transaction("read the blocked chat addresses", move |tx| {
            let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
            Ok(tx.any_blocked(&refs)?)
        })
        .await
    }
}

fn summary(
    tx: &ChatTx<'_>,
    plan: &Plan,
    c: &ChatConversation,
    agent: &str,
) -> Result<ConversationSummary, ChatError> {
    Ok(ConversationSummary {
        id: c.id,
        channel: c.channel.as_str(),
        customer: c.customer.clone(),
        contact_name: contact_name(c.channel, &c.customer, c.contact_name.as_deref()),
        office_address: c.office_address.clone(),
        routed_to: c.routed_to.clone(),
        owner_name: c.owner.as_deref().and_then(|o| name_of(plan, o)),
        owner: c.owner.clone(),
        archived: c.archived,
        dealt_with_at_ms: c.dealt_with_at_ms,
        last: tx.last_message(c.id)?.map(|m| LastMessage {
            text: m.text,
            at_ms: m.created_at_ms,
            direction: m.direction,
            attachment: m.attachment,
        }),
        unread: tx.unread_by(c.id, agent)?,
    })
}

/// The customer's name as agents see it: the one they gave (the widget's hello or
/// offline form, the provider's profile); a live-chat visitor who gave none is "Website
/// visitor" and the first characters of their id, the same everywhere; `None` for another
/// channel's customer without one (their address says who they are).
pub fn contact_name(channel: Channel, customer: &str, given: Option<&str>) -> Option<String> {
    match given
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != customer)
    {
        Some(name) => Some(name.to_string()),
        None if channel == Channel::LiveChat => {
            let short: String = customer.trim_start_matches("v-").chars().take(6).collect();
            Some(format!("Website visitor {short}"))
        }
        None => None,
    }
}

fn view(plan: &Plan, m: ChatMessageRow, delivery: Option<Delivery>) -> MessageView {
    MessageView {
        id: m.id,
        direction: m.direction,
        author_name: m.author.as_deref().and_then(|a| name_of(plan, a)),
        author: m.author,
        text: m.text,
        attachment: m.attachment,
        at_ms: m.created_at_ms,
        delivery,
    }
}
