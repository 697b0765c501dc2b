//! The agents' actions on a conversation (the chat guide): Take, reply, Transfer, Dealt
//! with, Archive, Unarchive, Delete, End chat session, Block, and starting an SMS chat.
//! Each is one transaction that first asks `switchboard_core::chat::visibility` whether
//! the acting extension may, and writes nothing when not.

use super::error::{ChatError, name_and_number};
use super::event::{ChatEvent, ChatEventKind};
use super::hub::{ChatHub, checked, name_of, visible_to};
use super::inbound::MAX_TEXT_CHARS;
use crate::sqlite_store::{
    ChatConversation, ChatMessageRow, ChatTx, Direction, NewChatConversation, NewChatMessage,
};
use crate::wall_clock::now_ms;
use switchboard_core::chat::sms_number::check_sms_number;
use switchboard_core::chat::visibility::Action;
use switchboard_dsl::Plan;
use switchboard_dsl::ast::Channel;

impl ChatHub {
    /// Take: `actor` owns the conversation; everyone else it was offered to loses it.
    /// Of two agents taking it at once exactly one wins; the other gets `TakenBy`
    /// naming the winner. Taking one's own is no change.
    pub async fn take(&self, actor: &str, id: i64) -> Result<ChatConversation, ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let now = now_ms();
        let (conversation, event) = self
            .transaction("take a chat conversation", move |tx| {
                let (c, offered) = checked(tx, &plan, id, &actor, Action::Take)?;
                if c.owner.as_deref() == Some(actor.as_str()) {
                    return Ok((c, None));
                }
                take_for(tx, &plan, &c, &actor, now)?;
                let note = system_note(
                    tx,
                    &c,
                    &actor,
                    &format!("{} took this conversation", who(&plan, &actor)),
                    now,
                )?;
                let after = vec![actor.clone()];
                let event = event(
                    ChatEventKind::Taken,
                    &c,
                    Some(note),
                    &offered_before(&c, &offered),
                    after,
                );
                Ok((reread(tx, id)?, Some(event)))
            })
            .await?;
        if let Some(e) = event {
            self.announce(e);
        }
        Ok(conversation)
    }

    /// A reply by `actor`: stored, and for a provider's channel queued in the outbox in
    /// the same transaction. Answering an unowned conversation takes it.
    pub async fn reply(
        &self,
        actor: &str,
        id: i64,
        text: &str,
        attachment: Option<&str>,
    ) -> Result<ChatMessageRow, ChatError> {
        check_text(text, attachment.is_some())?;
        let plan = self.plan();
        let actor = actor.to_string();
        let text = text.to_string();
        let attachment = attachment.map(String::from);
        let now = now_ms();
        let (message, event) = self
            .transaction("store a chat reply", move |tx| {
                let (c, offered) = checked(tx, &plan, id, &actor, Action::Reply)?;
                let before = offered_before(&c, &offered);
                if c.owner.is_none() {
                    take_for(tx, &plan, &c, &actor, now)?;
                }
                let message = send(tx, &c, &actor, &text, attachment.as_deref(), now)?;
                let event = event(
                    ChatEventKind::Message,
                    &c,
                    Some(message.id),
                    &before,
                    vec![actor.clone()],
                );
                Ok((message, event))
            })
            .await?;
        self.announce(event);
        Ok(message)
    }

    /// Transfer to extension `to` (found by name or number in the client): they own it,
    /// in their recents; it disappears for `actor`.
    pub async fn transfer(
        &self,
        actor: &str,
        id: i64,
        to: &str,
    ) -> Result<ChatConversation, ChatError> {
        let plan = self.plan();
        if plan.extension(to).is_none() {
            return Err(ChatError::Invalid(format!(
                "`{to}` is not an extension of the running plan; transfer to one of its extensions"
            )));
        }
        if to == actor {
            return Err(ChatError::Invalid(
                "a conversation cannot be transferred to yourself; pick another extension".into(),
            ));
        }
        let actor = actor.to_string();
        let to = to.to_string();
        let now = now_ms();
        let (conversation, event) = self
            .transaction("transfer a chat conversation", move |tx| {
                let (c, offered) = checked(tx, &plan, id, &actor, Action::Transfer)?;
                tx.set_owner(id, &to, now)?;
                let words = format!(
                    "{} transferred this conversation to {}",
                    who(&plan, &actor),
                    who(&plan, &to)
                );
                let note = system_note(tx, &c, &actor, &words, now)?;
                let event = event(
                    ChatEventKind::Transferred,
                    &c,
                    Some(note),
                    &offered_before(&c, &offered),
                    vec![to.clone()],
                );
                Ok((reread(tx, id)?, event))
            })
            .await?;
        self.announce(event);
        Ok(conversation)
    }

    /// Dealt with: a system message is posted, the conversation archived and nobody owns
    /// it any more, so the customer's next message goes through routing again. It stays
    /// in `actor`'s archive.
    pub async fn dealt_with(&self, actor: &str, id: i64) -> Result<ChatConversation, ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let now = now_ms();
        let (conversation, event) = self
            .transaction("mark a chat conversation dealt with", move |tx| {
                let (c, offered) = checked(tx, &plan, id, &actor, Action::DealtWith)?;
                let note = system_note(
                    tx,
                    &c,
                    &actor,
                    &format!(
                        "{} marked this conversation as dealt with",
                        who(&plan, &actor)
                    ),
                    now,
                )?;
                tx.set_dealt_with(id, now)?;
                tx.replace_offers(id, std::slice::from_ref(&actor))?;
                let event = event(
                    ChatEventKind::DealtWith,
                    &c,
                    Some(note),
                    &offered_before(&c, &offered),
                    vec![actor.clone()],
                );
                Ok((reread(tx, id)?, event))
            })
            .await?;
        self.announce(event);
        Ok(conversation)
    }

    /// Archive (out of the recents; still owned, still takeable and transferable).
    pub async fn archive(&self, actor: &str, id: i64) -> Result<ChatConversation, ChatError> {
        self.set_archived(actor, id, true).await
    }

    /// Back to the recents.
    pub async fn unarchive(&self, actor: &str, id: i64) -> Result<ChatConversation, ChatError> {
        self.set_archived(actor, id, false).await
    }

    async fn set_archived(
        &self,
        actor: &str,
        id: i64,
        archived: bool,
    ) -> Result<ChatConversation, ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let (conversation, event) = self
            .transaction("archive a chat conversation", move |tx| {
                let action = if archived {
                    Action::Archive
                } else {
                    Action::Unarchive
                };
                let (c, offered) = checked(tx, &plan, id, &actor, action)?;
                tx.set_archived(id, archived)?;
                let seen = offered_before(&c, &offered);
                let kind = if archived {
                    ChatEventKind::Archived
                } else {
                    ChatEventKind::Unarchived
                };
                let event = event(kind, &c, None, &seen, seen.clone());
                Ok((reread(tx, id)?, event))
            })
            .await?;
        self.announce(event);
        Ok(conversation)
    }

    /// Deletes the conversation and its messages. Replies still waiting for their
    /// provider are delivered all the same.
    pub async fn delete(&self, actor: &str, id: i64) -> Result<(), ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let event = self
            .transaction("delete a chat conversation", move |tx| {
                let (c, offered) = checked(tx, &plan, id, &actor, Action::Delete)?;
                tx.delete_conversation(id)?;
                let seen = offered_before(&c, &offered);
                Ok(event(ChatEventKind::Deleted, &c, None, &[], seen))
            })
            .await?;
        self.announce(event);
        Ok(())
    }

    /// End chat session (live chat): noted in the conversation; the visitor's socket
    /// hears `ended` and is closed.
    pub async fn end_session(&self, actor: &str, id: i64) -> Result<ChatConversation, ChatError> {
        self.end(actor, id, false).await
    }

    /// Block anonymous user (live chat): the visitor's network address and visitor id
    /// are refused from then on; their socket is closed with `blocked`.
    pub async fn block(&self, actor: &str, id: i64) -> Result<ChatConversation, ChatError> {
        self.end(actor, id, true).await
    }

    async fn end(&self, actor: &str, id: i64, block: bool) -> Result<ChatConversation, ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let now = now_ms();
        let (conversation, event) = self
            .transaction("end a live chat", move |tx| {
                let action = if block {
                    Action::Block
                } else {
                    Action::EndSession
                };
                let (c, offered) = checked(tx, &plan, id, &actor, action)?;
                let words = if block {
                    tx.block_address(&c.customer, &actor, now)?;
                    // The agents read what was blocked: an IPv6 visitor's whole /64.
                    match &c.remote_address {
                        Some(address) => {
                            let what = tx.block_address(address, &actor, now)?;
                            format!("{} blocked this visitor ({what})", who(&plan, &actor))
                        }
                        None => format!("{} blocked this visitor", who(&plan, &actor)),
                    }
                } else {
                    format!("{} ended the chat session", who(&plan, &actor))
                };
                let note = system_note(tx, &c, &actor, &words, now)?;
                let seen = offered_before(&c, &offered);
                let kind = if block {
                    ChatEventKind::Blocked
                } else {
                    ChatEventKind::Ended
                };
                let event = event(kind, &c, Some(note), &seen, seen.clone());
                Ok((reread(tx, id)?, event))
            })
            .await?;
        self.announce(event);
        Ok(conversation)
    }

    /// Starts (or continues) an SMS chat with `to` (`+1` and 10 digits, as the manual
    /// requires), owned by `actor`, from office number `from` (default: the plan's first
    /// `chat sms` route with a number). The first message goes out through the outbox.
    pub async fn start_sms(
        &self,
        actor: &str,
        to: &str,
        from: Option<&str>,
        text: &str,
    ) -> Result<(ChatConversation, ChatMessageRow), ChatError> {
        let to = check_sms_number(to.trim())
            .map_err(ChatError::Invalid)?
            .to_string();
        check_text(text, false)?;
        let plan = self.plan();
        let from = match from.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => f.to_string(),
            None => office_sms_number(&plan).ok_or_else(|| {
                ChatError::Invalid(
                    "give `from`, the office number to send from: the plan has no `chat sms` route with a number".into(),
                )
            })?,
        };
        let actor = actor.to_string();
        let text = text.to_string();
        let now = now_ms();
        let (conversation, message, event) = self
            .transaction("start an SMS chat", move |tx| {
                let (c, before) = match tx.find_conversation(Channel::Sms, &to, &from)? {
                    // The agent's own conversation with this number goes on. Another one
                    // only when they may take it (offered to them and unowned): writing
                    // out must not hand anyone a conversation, and its history, that
                    // they could not open. Who holds it is said only to those offered it.
                    Some(c) if c.owner.as_deref() == Some(actor.as_str()) => {
                        let before = visible_to(c.owner.as_deref(), &tx.offered_to(c.id)?);
                        (c, before)
                    }
                    Some(c) => match checked(tx, &plan, c.id, &actor, Action::Take) {
                        Ok(_) => {
                            let before = visible_to(c.owner.as_deref(), &tx.offered_to(c.id)?);
                            (c, before)
                        }
                        Err(taken @ ChatError::TakenBy { .. }) => return Err(taken),
                        Err(ChatError::NotVisible | ChatError::NotAllowed(_)) => {
                            return Err(ChatError::NotAllowed(format!(
                                "{to} is already in a conversation with {from} that another \
                                 agent or queue of the office answers; nothing was sent"
                            )));
                        }
                        Err(other) => return Err(other),
                    },
                    None => {
                        let id = tx.insert_conversation(&NewChatConversation {
                            channel: Channel::Sms,
                            customer: &to,
                            office_address: &from,
                            contact_name: None,
                            remote_address: None,
                            now_ms: now,
                        })?;
                        tx.set_routed(id, &format!("extension {actor}"))?;
                        (reread(tx, id)?, Vec::new())
                    }
                };
                if c.owner.as_deref() != Some(actor.as_str()) {
                    tx.set_owner(c.id, &actor, now)?;
                }
                let message = send(tx, &c, &actor, &text, None, now)?;
                let event = event(
                    ChatEventKind::Message,
                    &c,
                    Some(message.id),
                    &before,
                    vec![actor.clone()],
                );
                Ok((reread(tx, c.id)?, message, event))
            })
            .await?;
        self.announce(event);
        Ok((conversation, message))
    }
}

fn check_text(text: &str, has_file: bool) -> Result<(), ChatError> {
    if text.trim().is_empty() && !has_file {
        return Err(ChatError::Invalid(
            "the message is empty: write some text".into(),
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ChatError::Invalid(format!(
            "the message has {chars} characters; at most {MAX_TEXT_CHARS} can be sent"
        )));
    }
    Ok(())
}

/// The first number a `chat sms "<number>"` route of the plan takes messages to.
fn office_sms_number(plan: &Plan) -> Option<String> {
    plan.chats
        .iter()
        .filter(|c| c.channel == Channel::Sms)
        .find_map(|c| c.number.as_ref().map(|(n, _)| n.clone()))
}

/// "Bruno (102)".
fn who(plan: &Plan, ext: &str) -> String {
    name_and_number(&name_of(plan, ext), ext)
}

/// Takes an unowned conversation for `actor`. The `UPDATE … WHERE owner IS NULL` is the
/// one place ownership is won: should it find an owner, that owner is the answer.
pub(super) fn take_for(
    tx: &ChatTx<'_>,
    plan: &Plan,
    c: &ChatConversation,
    actor: &str,
    now: u64,
) -> Result<(), ChatError> {
    if tx.take_if_unowned(c.id, actor, now)? {
        return Ok(());
    }
    let now_owned = reread(tx, c.id)?;
    let owner = now_owned.owner.unwrap_or_default();
    Err(ChatError::TakenBy {
        name: name_of(plan, &owner),
        extension: owner,
        at_ms: now_owned.taken_at_ms,
    })
}

/// An agent's message to the customer: stored, and for a provider's channel queued for
/// sending in the same transaction.
pub(super) fn send(
    tx: &ChatTx<'_>,
    c: &ChatConversation,
    actor: &str,
    text: &str,
    attachment: Option<&str>,
    now: u64,
) -> Result<ChatMessageRow, ChatError> {
    let id = tx.insert_message(&NewChatMessage {
        conversation_id: c.id,
        channel: c.channel,
        direction: Direction::Out,
        author: Some(actor),
        text,
        attachment,
        provider_id: None,
        now_ms: now,
    })?;
    if c.channel != Channel::LiveChat {
        let attachment: Option<serde_json::Value> = attachment
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| ChatError::Invalid(format!("the attachment is not JSON: {e}")))?;
        let payload = serde_json::json!({
            "to": c.customer,
            "from": c.office_address,
            "text": text,
            "attachment": attachment,
        });
        tx.enqueue_outbox(id, c.channel, &payload.to_string(), now)?;
    }
    tx.message(c.id, id)?
        .ok_or_else(|| ChatError::Invalid(format!("message {id} vanished")))
}

/// A system note in the conversation, for the agents (never sent to the customer).
fn system_note(
    tx: &ChatTx<'_>,
    c: &ChatConversation,
    actor: &str,
    words: &str,
    now: u64,
) -> Result<i64, ChatError> {
    Ok(tx.insert_message(&NewChatMessage {
        conversation_id: c.id,
        channel: c.channel,
        direction: Direction::System,
        author: Some(actor),
        text: words,
        attachment: None,
        provider_id: None,
        now_ms: now,
    })?)
}

fn reread(tx: &ChatTx<'_>, id: i64) -> Result<ChatConversation, ChatError> {
    tx.conversation(id)?.ok_or(ChatError::NotVisible)
}

/// Who saw `c` before the change.
pub(super) fn offered_before(c: &ChatConversation, offered: &[String]) -> Vec<String> {
    visible_to(c.owner.as_deref(), offered)
}

/// The announcement of a change: `after` see it now; those of `before` who do not, lost it.
pub(super) fn event(
    kind: ChatEventKind,
    c: &ChatConversation,
    message_id: Option<i64>,
    before: &[String],
    after: Vec<String>,
) -> ChatEvent {
    ChatEvent {
        kind,
        conversation_id: c.id,
        message_id,
        channel: c.channel,
        customer: c.customer.clone(),
        gone_for: before
            .iter()
            .filter(|e| !after.contains(e))
            .cloned()
            .collect(),
        visible_to: after,
    }
}
