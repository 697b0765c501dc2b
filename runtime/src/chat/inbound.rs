//! A customer's message arriving from any channel: refused if their address is blocked,
//! stored once however often the provider retries it, then sticky to its owner or
//! routed by the running plan and offered.

mod media;

use super::error::ChatError;
use super::event::{ChatEvent, ChatEventKind};
use super::hub::{ChatHub, visible_to};
use crate::office_time::wall_time;
use crate::sqlite_store::{ChatContact, ChatTx, Direction, NewChatConversation, NewChatMessage};
use crate::wall_clock::now_ms;
use std::time::SystemTime;
use switchboard_core::chat::placement::{Placement, QueueAgent, StoredConversation, place};
use switchboard_core::chat::{ChatDestination, ChatMessage, route_chat};
use switchboard_dsl::Plan;
use switchboard_dsl::ast::Channel;

/// The longest message the hub stores, in characters: WhatsApp's limit, above
/// Messenger's and a concatenated SMS's (the widget refuses over 2,000 itself).
pub const MAX_TEXT_CHARS: usize = 4096;

/// A customer's message as a channel received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub channel: Channel,
    /// Who wrote: an E.164 number (SMS, WhatsApp), a Facebook PSID, a live-chat visitor id.
    pub customer: String,
    /// The office number or page written to, where the channel has one.
    pub office_address: Option<String>,
    /// The name the customer gave (the widget's form, a WhatsApp profile).
    pub contact_name: Option<String>,
    /// The e-mail the customer gave (the widget's form). Typed by whoever is at the
    /// widget and never verified: kept and shown as what they said (a note to the agents,
    /// "said their email is … (not verified)"), never used to match a saved contact or
    /// another conversation, which would show a stranger someone else's history.
    pub contact_email: Option<String>,
    /// A live-chat visitor's network address, kept for Block.
    pub address: Option<String>,
    pub text: String,
    /// JSON describing a file the customer sent.
    pub attachment: Option<String>,
    /// The provider's id of the message; a retry with the same id is stored once.
    pub provider_id: Option<String>,
    /// The customer's language when known (`"de"`), for routing conditions.
    pub language: Option<String>,
}

impl Inbound {
    /// A plain text message; the other fields empty.
    pub fn new(channel: Channel, customer: &str, text: &str) -> Inbound {
        Inbound {
            channel,
            customer: customer.to_string(),
            office_address: None,
            contact_name: None,
            contact_email: None,
            address: None,
            text: text.to_string(),
            attachment: None,
            provider_id: None,
            language: None,
        }
    }
}

/// What became of an inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub conversation_id: i64,
    pub message_id: i64,
    /// The provider sent this message before; nothing new was stored or announced.
    pub duplicate: bool,
    /// Where it went; `None` for a duplicate.
    pub placed: Option<Placement>,
}

impl ChatHub {
    /// Stores a customer's message and places it (sticky to the owner, or routed and
    /// offered), in one transaction, then announces it. `Blocked` when the customer's
    /// address or id is blocked, `Invalid` for an empty or oversized message; nothing is
    /// stored then.
    pub async fn receive(&self, inbound: Inbound) -> Result<Received, ChatError> {
        check(&inbound)?;
        let plan = self.plan();
        let message = ChatMessage {
            channel: inbound.channel,
            from: inbound.customer.clone(),
            to: inbound.office_address.clone(),
            text: inbound.text.clone(),
            language: inbound.language.clone(),
        };
        let routing = route_chat(
            &plan,
            &message,
            wall_time(&plan.settings.timezone, SystemTime::now()),
        );
        let now = now_ms();
        let (received, event) = self
            .transaction("store a customer's chat message", move |tx| {
                store(tx, &plan, &inbound, routing.destination.as_ref(), now)
            })
            .await?;
        if let Some(event) = event {
            self.announce(event);
        }
        Ok(received)
    }
}

impl ChatHub {
    /// Whether a message on `channel` to `office_address` (in `language`) would reach
    /// someone now: its route's queue has an agent logged in. An extension target counts
    /// as online (whether that person is at their desk is not the hub's to know); no
    /// route, or a queue without a logged-in agent, is offline — the widget shows its
    /// offline form, whose message is stored as a conversation all the same.
    pub async fn online(
        &self,
        channel: Channel,
        office_address: Option<&str>,
        language: Option<&str>,
    ) -> Result<bool, ChatError> {
        let plan = self.plan();
        let message = ChatMessage {
            channel,
            from: String::new(),
            to: office_address.map(String::from),
            text: String::new(),
            language: language.map(String::from),
        };
        let routing = route_chat(
            &plan,
            &message,
            wall_time(&plan.settings.timezone, SystemTime::now()),
        );
        match routing.destination {
            None => Ok(false),
            Some(ChatDestination::Extension(_)) => Ok(true),
            Some(ChatDestination::Queue { queue, .. }) => {
                self.transaction("read who is logged in to a chat queue", move |tx| {
                    Ok(queue_agents(tx, &plan, &queue)?.iter().any(|a| a.logged_in))
                })
                .await
            }
        }
    }
}

fn check(inbound: &Inbound) -> Result<(), ChatError> {
    if inbound.customer.trim().is_empty() {
        return Err(ChatError::Invalid(format!(
            "a {} message needs the customer's address (who wrote it)",
            inbound.channel.as_str()
        )));
    }
    if inbound.text.trim().is_empty() && inbound.attachment.is_none() {
        return Err(ChatError::Invalid(
            "the message is empty: it needs text or a file".into(),
        ));
    }
    let chars = inbound.text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ChatError::Invalid(format!(
            "the message has {chars} characters; at most {MAX_TEXT_CHARS} are taken"
        )));
    }
    Ok(())
}

/// The transaction: blocked, duplicate, placement, then the writes.
fn store(
    tx: &ChatTx<'_>,
    plan: &Plan,
    inbound: &Inbound,
    destination: Option<&ChatDestination>,
    now: u64,
) -> Result<(Received, Option<ChatEvent>), ChatError> {
    let mut addresses = vec![inbound.customer.as_str()];
    addresses.extend(inbound.address.as_deref());
    if tx.any_blocked(&addresses)? {
        return Err(ChatError::Blocked);
    }
    if let Some(provider_id) = &inbound.provider_id
        && let Some((conversation_id, message_id)) =
            tx.message_by_provider_id(inbound.channel, provider_id)?
    {
        return Ok((
            Received {
                conversation_id,
                message_id,
                duplicate: true,
                placed: None,
            },
            None,
        ));
    }
    let office = inbound.office_address.as_deref().unwrap_or("");
    let existing = tx.find_conversation(inbound.channel, &inbound.customer, office)?;
    let before = match &existing {
        Some(c) => visible_to(c.owner.as_deref(), &tx.offered_to(c.id)?),
        None => Vec::new(),
    };
    let stored = existing.as_ref().map(|c| StoredConversation {
        // An owner the running plan no longer has (a reload removed the extension)
        // cannot answer: the message is routed instead of sticking to nobody.
        owner: c.owner.clone().filter(|o| plan.extension(o).is_some()),
        // Dealt with after it was last taken (Dealt with also clears the owner).
        dealt_with: c
            .dealt_with_at_ms
            .is_some_and(|d| c.taken_at_ms.is_none_or(|t| d >= t)),
        archived: c.archived,
    });
    let agents = match destination {
        Some(ChatDestination::Queue { queue, .. }) => queue_agents(tx, plan, queue)?,
        _ => Vec::new(),
    };
    let placed = place(stored.as_ref(), destination, &agents);
    let id = match &existing {
        Some(c) => c.id,
        None => tx.insert_conversation(&NewChatConversation {
            channel: inbound.channel,
            customer: &inbound.customer,
            office_address: office,
            contact_name: inbound.contact_name.as_deref(),
            remote_address: inbound.address.as_deref(),
            now_ms: now,
        })?,
    };
    tx.touch_conversation(
        id,
        now,
        inbound.contact_name.as_deref(),
        inbound.address.as_deref(),
    )?;
    let (after, kind) = match &placed {
        Placement::Sticky { owner, unarchive } => {
            if *unarchive {
                tx.set_archived(id, false)?;
            }
            (vec![owner.clone()], ChatEventKind::Message)
        }
        Placement::Offered {
            routed_to,
            offered_to,
        } => {
            tx.set_routed(id, &routed_to.to_string())?;
            tx.replace_offers(id, offered_to)?;
            (offered_to.clone(), ChatEventKind::Offered)
        }
        Placement::Unplaced { reason } => {
            tracing::warn!(
                conversation = id,
                "a {} message from {} is stored but offered to nobody: {reason}",
                inbound.channel.as_str(),
                inbound.customer
            );
            tx.set_routed(id, "")?;
            tx.replace_offers(id, &[])?;
            (Vec::new(), ChatEventKind::Offered)
        }
    };
    note_said_email(tx, inbound, id, now)?;
    let message_id = tx.insert_message(&NewChatMessage {
        conversation_id: id,
        channel: inbound.channel,
        direction: Direction::In,
        author: None,
        text: &inbound.text,
        attachment: inbound.attachment.as_deref(),
        provider_id: inbound.provider_id.as_deref(),
        now_ms: now,
    })?;
    // In this transaction: a message stored is a file that will be fetched.
    media::queue_fetches(tx, inbound, message_id, now)?;
    tx.note_contact(
        inbound.channel,
        &inbound.customer,
        &ChatContact {
            name: inbound.contact_name.clone(),
            email: inbound.contact_email.clone(),
            remote_address: inbound.address.clone(),
        },
        now,
    )?;
    let gone_for = before.into_iter().filter(|e| !after.contains(e)).collect();
    Ok((
        Received {
            conversation_id: id,
            message_id,
            duplicate: false,
            placed: Some(placed),
        },
        Some(ChatEvent {
            kind,
            conversation_id: id,
            message_id: Some(message_id),
            channel: inbound.channel,
            customer: inbound.customer.clone(),
            visible_to: after,
            gone_for,
        }),
    ))
}

/// Tells the agents, in a note before the message, the e-mail the customer typed when it
/// is new or changed: what they said, not who they are (anyone can type any address).
fn note_said_email(
    tx: &ChatTx<'_>,
    inbound: &Inbound,
    conversation_id: i64,
    now: u64,
) -> Result<(), ChatError> {
    let Some(email) = inbound.contact_email.as_deref() else {
        return Ok(());
    };
    let known = tx.contact(inbound.channel, &inbound.customer)?.email;
    if known.is_some_and(|k| k.eq_ignore_ascii_case(email)) {
        return Ok(());
    }
    let words = format!("The visitor said their email is {email} (not verified)");
    tx.insert_message(&NewChatMessage {
        conversation_id,
        channel: inbound.channel,
        direction: Direction::System,
        author: None,
        text: &words,
        attachment: None,
        provider_id: None,
        now_ms: now,
    })?;
    Ok(())
}

/// The agents of `queue` in the plan's order, with their logins and idle times.
pub(super) fn queue_agents(
    tx: &ChatTx<'_>,
    plan: &Plan,
    queue: &str,
) -> Result<Vec<QueueAgent>, ChatError> {
    let Some(q) = plan.queue(queue) else {
        return Ok(Vec::new());
    };
    let mut agents = Vec::new();
    for extension in q.agents.iter().filter_map(|v| v.literal()) {
        agents.push(QueueAgent {
            logged_in: tx.queue_logged_in(&extension, queue)?,
            idle_since_ms: tx.idle_since(&extension)?,
            extension,
        });
    }
    Ok(agents)
}
