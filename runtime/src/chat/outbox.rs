//! The outbox as the channel senders see it: claim due replies under an attempt id of
//! their own and a lease, then mark each sent, dead (refused for good; the agent sees
//! the error) or due again. Each call is one transaction on the store thread.

use super::delivery::delivery_event;
use super::error::ChatError;
use super::event::ChatEvent;
use super::hub::ChatHub;
use crate::sqlite_store::{ChatTx, OutboxRow};

impl ChatHub {
    /// Claims up to `limit` replies due by `now_ms` (and any whose lease ran out) for
    /// `attempt_id`, until `now_ms + lease_ms`, oldest first; a reply to a customer an
    /// earlier unsent, not-dead reply is still waiting for or on its way to is left.
    pub async fn outbox_claim_due(
        &self,
        now_ms: u64,
        lease_ms: u64,
        attempt_id: &str,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, ChatError> {
        let attempt = attempt_id.to_string();
        self.transaction("claim due chat replies", move |tx| {
            Ok(tx.claim_due_outbox(now_ms, lease_ms, &attempt, limit)?)
        })
        .await
    }

    /// When the next reply is due (or a lease runs out), if any.
    pub async fn outbox_next_due(&self) -> Result<Option<u64>, ChatError> {
        self.transaction("read when the next chat reply is due", |tx| {
            Ok(tx.next_outbox_due()?)
        })
        .await
    }

    /// The provider accepted it. False when `attempt_id` no longer holds the row.
    pub async fn outbox_mark_sent(
        &self,
        id: i64,
        attempt_id: &str,
        now_ms: u64,
    ) -> Result<bool, ChatError> {
        let attempt = attempt_id.to_string();
        self.marked(
            self.transaction("mark a chat reply sent", move |tx| {
                let marked = tx.mark_outbox_sent(id, &attempt, now_ms)?;
                changed(tx, id, marked)
            })
            .await,
        )
    }

    /// Failed for now; due again at `retry_at_ms` (no earlier than an earlier reply to
    /// the same customer), and the later replies to that customer no earlier than it.
    pub async fn outbox_mark_retry(
        &self,
        id: i64,
        attempt_id: &str,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<bool, ChatError> {
        let (attempt, error) = (attempt_id.to_string(), error.to_string());
        self.marked(
            self.transaction("mark a chat reply for another try", move |tx| {
                let marked = tx.mark_outbox_retry(id, &attempt, retry_at_ms, &error)?;
                changed(tx, id, marked)
            })
            .await,
        )
    }

    /// Refused for good; `error` is what the agent sees on the message.
    pub async fn outbox_mark_dead(
        &self,
        id: i64,
        attempt_id: &str,
        error: &str,
    ) -> Result<bool, ChatError> {
        let (attempt, error) = (attempt_id.to_string(), error.to_string());
        self.marked(
            self.transaction("mark a chat reply undeliverable", move |tx| {
                let marked = tx.mark_outbox_dead(id, &attempt, &error)?;
                changed(tx, id, marked)
            })
            .await,
        )
    }

    /// Makes every reply waiting for its next try due at `now_ms`; how many. For a
    /// sender's start (see `ChatTx::retry_waiting_outbox_now`).
    pub async fn outbox_retry_waiting_now(&self, now_ms: u64) -> Result<usize, ChatError> {
        self.transaction("make the waiting chat replies due", move |tx| {
            Ok(tx.retry_waiting_outbox_now(now_ms)?)
        })
        .await
    }

    /// Hands every in-flight reply back as due; how many. For a start-up that knows no
    /// sender of the last server is left.
    pub async fn outbox_release_in_flight(&self) -> Result<usize, ChatError> {
        self.transaction("hand back the chat replies in flight", |tx| {
            Ok(tx.release_in_flight_outbox()?)
        })
        .await
    }
}

impl ChatHub {
    /// Announces a mark's `delivery` event; whether the row was marked.
    fn marked(
        &self,
        done: Result<(bool, Option<ChatEvent>), ChatError>,
    ) -> Result<bool, ChatError> {
        let (marked, event) = done?;
        if let Some(e) = event {
            self.announce(e);
        }
        Ok(marked)
    }
}

/// The `delivery` event of row `id` when it was `marked` (in the mark's transaction, so
/// the agents hear the state the row was left in).
fn changed(tx: &ChatTx<'_>, id: i64, marked: bool) -> Result<(bool, Option<ChatEvent>), ChatError> {
    if !marked {
        return Ok((false, None));
    }
    let event = match tx.outbox_message(id)? {
        Some(message_id) => delivery_event(tx, message_id, false)?,
        None => None,
    };
    Ok((true, event))
}
