//! A reply's delivery through its provider, as the agent follows it: every change the
//! outbox sender marks (sent, failed for good, tried again) is announced as `delivery`
//! to whoever sees the conversation, and the owner may queue a failed reply again.

use super::error::ChatError;
use super::event::{ChatEvent, ChatEventKind};
use super::hub::{ChatHub, checked, visible_to};
use crate::sqlite_store::{ChatTx, Direction};
use crate::wall_clock::now_ms;
use switchboard_core::chat::visibility::Action;

impl ChatHub {
    /// Queues `actor`'s failed reply `message_id` in conversation `id` again, due now.
    /// Only the conversation's owner may; a reply that did not fail (still on its way,
    /// sent, or a live-chat line) is refused, so nothing is ever sent twice this way.
    pub async fn resend(&self, actor: &str, id: i64, message_id: i64) -> Result<(), ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let now = now_ms();
        let event = self
            .transaction("queue a failed chat reply again", move |tx| {
                let (c, _) = checked(tx, &plan, id, &actor, Action::See)?;
                if c.owner.as_deref() != Some(actor.as_str()) {
                    return Err(ChatError::NotAllowed(
                        "only the conversation's owner may send a reply again; take it first"
                            .into(),
                    ));
                }
                let is_reply = tx
                    .message(id, message_id)?
                    .is_some_and(|m| m.direction == Direction::Out);
                if !is_reply {
                    return Err(ChatError::NotFound(format!(
                        "conversation {id} has no reply {message_id}; GET \
                         /api/chat/conversations/{id} lists its messages"
                    )));
                }
                if !tx.requeue_dead_outbox(message_id, now)? {
                    return Err(ChatError::Invalid(format!(
                        "reply {message_id} has not failed (it is on its way or was \
                         delivered); only a reply shown as not delivered can be sent again"
                    )));
                }
                delivery_event(tx, message_id, true)
            })
            .await?;
        if let Some(e) = event {
            self.announce(e);
        }
        Ok(())
    }
}

/// The `delivery` event of reply `message_id`, for whoever sees its conversation; none
/// when the conversation is gone.
pub(super) fn delivery_event(
    tx: &ChatTx<'_>,
    message_id: i64,
    requeued: bool,
) -> Result<Option<ChatEvent>, ChatError> {
    let Some(conversation_id) = tx.conversation_of_message(message_id)? else {
        return Ok(None);
    };
    let Some(c) = tx.conversation(conversation_id)? else {
        return Ok(None);
    };
    let offered = tx.offered_to(c.id)?;
    Ok(Some(ChatEvent {
        kind: ChatEventKind::Delivery { requeued },
        conversation_id: c.id,
        message_id: Some(message_id),
        channel: c.channel,
        customer: c.customer.clone(),
        visible_to: visible_to(c.owner.as_deref(), &offered),
        gone_for: Vec::new(),
    }))
}
