//! The chat outbox: each reply for a provider (WhatsApp, Messenger, SMS), stored in the
//! same transaction as its message, until the provider accepted it or refused it for
//! good. Live-chat replies go to the visitor's socket and have no row.
//!
//! A sender claims due rows with an attempt id of its own and a lease (`pending` →
//! `sending` until `claimed_until`); only the attempt holding a row may mark it sent,
//! dead or due again, so two senders never both send one row. A row whose lease ran out
//! (its sender died with the last server) may be claimed again; `release_in_flight`
//! hands every `sending` row back at once, for a start-up that knows no sender is left.

use super::chat::{ChatTx, channel_from_sql, ms, ms_from};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// A row a sender claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    /// `None` once its conversation was deleted.
    pub message_id: Option<i64>,
    pub channel: Channel,
    /// JSON: `{"to", "from", "text", "attachment"}`.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub attempt_id: String,
}

/// How a reply's delivery stands, for the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// `pending`, `sending`, `sent` or `dead`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at_ms: Option<u64>,
    /// When it is due (again): for a `pending` row that failed, the next try.
    pub next_attempt_at_ms: u64,
}

impl ChatTx<'_> {
    /// Queues `payload` for the provider of `channel`, due at `now_ms`; the row's id.
    pub fn enqueue_outbox(
        &self,
        message_id: i64,
        channel: Channel,
        payload: &str,
        now_ms: u64,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_outbox (message_id, channel, payload, attempts,
                     next_attempt_at, state, created_at)
                 VALUES (?1, ?2, ?3, 0, ?4, 'pending', ?4)",
            )
            .and_then(|mut s| s.insert(params![message_id, channel.as_str(), payload, ms(now_ms)]))
            .map_err(self.failed(&format!("queue message {message_id} for sending")))
    }

    /// Claims up to `limit` rows due by `now_ms` (and rows whose lease ran out) for
    /// `attempt_id`, until `now_ms + lease_ms`, oldest first.
    pub fn claim_due_outbox(
        &self,
        now_ms: u64,
        lease_ms: u64,
        attempt_id: &str,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let mut rows: Vec<OutboxRow> = self
            .conn
            .prepare_cached(
                "UPDATE chat_outbox SET state = 'sending', attempt_id = ?3,
                     claimed_until = ?4, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM chat_outbox
                     WHERE (state = 'pending' AND next_attempt_at <= ?1)
                        OR (state = 'sending' AND claimed_until <= ?1)
                     ORDER BY next_attempt_at, id LIMIT ?2)
                 RETURNING id, message_id, channel, payload, attempts, attempt_id",
            )
            .and_then(|mut s| {
                let until = ms(now_ms.saturating_add(lease_ms));
                s.query_map(params![ms(now_ms), limit, attempt_id, until], |r| {
                    let channel: String = r.get(2)?;
                    Ok(OutboxRow {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        channel: channel_from_sql(&channel)?,
                        payload: r.get(3)?,
                        attempts: r.get(4)?,
                        attempt_id: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(self.failed("claim due chat replies"))?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// When the next row is due (or a lease runs out), if any: how long a sender may
    /// sleep.
    pub fn next_outbox_due(&self) -> Result<Option<u64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT MIN(CASE state WHEN 'pending' THEN next_attempt_at
                     ELSE claimed_until END)
                 FROM chat_outbox WHERE state IN ('pending', 'sending')",
            )
            .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))
            .map(|at| at.map(ms_from))
            .map_err(self.failed("read when the next chat reply is due"))
    }

    /// The provider accepted row `id`. False when `attempt_id` does not hold it.
    pub fn mark_outbox_sent(
        &self,
        id: i64,
        attempt_id: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET state = 'sent', sent_at = ?3, last_error = NULL,
                     claimed_until = NULL
                 WHERE id = ?1 AND state = 'sending' AND attempt_id = ?2",
            )
            .and_then(|mut s| s.execute(params![id, attempt_id, ms(now_ms)]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("mark chat reply {id} sent")))
    }

    /// Row `id` failed for now: due again at `retry_at_ms`. False when `attempt_id` does
    /// not hold it.
    pub fn mark_outbox_retry(
        &self,
        id: i64,
        attempt_id: &str,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET state = 'pending', attempt_id = NULL,
                     claimed_until = NULL, next_attempt_at = ?3, last_error = ?4
                 WHERE id = ?1 AND state = 'sending' AND attempt_id = ?2",
            )
            .and_then(|mut s| s.execute(params![id, attempt_id, ms(retry_at_ms), error]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("mark chat reply {id} for another try")))
    }

    /// The provider refused row `id` for good; `error` is shown to the agent. False when
    /// `attempt_id` does not hold it.
    pub fn mark_outbox_dead(
        &self,
        id: i64,
        attempt_id: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET state = 'dead', last_error = ?3, claimed_until = NULL
                 WHERE id = ?1 AND state = 'sending' AND attempt_id = ?2",
            )
            .and_then(|mut s| s.execute(params![id, attempt_id, error]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("mark chat reply {id} undeliverable")))
    }

    /// Hands every `sending` row back as `pending`, due at once; how many. For start-up:
    /// the attempts that held them died with the last server.
    pub fn release_in_flight_outbox(&self) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET state = 'pending', attempt_id = NULL,
                     claimed_until = NULL
                 WHERE state = 'sending'",
            )
            .and_then(|mut s| s.execute([]))
            .map_err(self.failed("hand back the chat replies in flight"))
    }

    /// How the reply `message_id` is being delivered, if it went to a provider.
    pub fn delivery(&self, message_id: i64) -> Result<Option<Delivery>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT state, attempts, last_error, sent_at, next_attempt_at FROM chat_outbox
                 WHERE message_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([message_id], |r| {
                    Ok(Delivery {
                        state: r.get(0)?,
                        attempts: r.get(1)?,
                        last_error: r.get(2)?,
                        sent_at_ms: r.get::<_, Option<i64>>(3)?.map(ms_from),
                        next_attempt_at_ms: ms_from(r.get(4)?),
                    })
                })
                .optional()
            })
            .map_err(self.failed(&format!("read how message {message_id} is delivered")))
    }

    /// The message outbox row `id` carries, if it (and its message) still exist.
    pub fn outbox_message(&self, id: i64) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached("SELECT message_id FROM chat_outbox WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map(Option::flatten)
            .map_err(self.failed(&format!("read which message chat reply {id} carries")))
    }

    /// Queues the dead reply `message_id` again, due at `now_ms`, as if new (attempts
    /// from 0; the last error kept until the next try replaces it). False when it has no
    /// dead row: never sent through a provider, still on its way, or already sent.
    pub fn requeue_dead_outbox(&self, message_id: i64, now_ms: u64) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET state = 'pending', attempts = 0, attempt_id = NULL,
                     claimed_until = NULL, next_attempt_at = ?2
                 WHERE message_id = ?1 AND state = 'dead'",
            )
            .and_then(|mut s| s.execute(params![message_id, ms(now_ms)]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("queue message {message_id} for sending again")))
    }

    /// How many outbox rows conversation `conversation_id`'s messages have.
    pub fn outbox_rows_of(&self, conversation_id: i64) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT COUNT(*) FROM chat_outbox o JOIN chat_messages m ON m.id = o.message_id
                 WHERE m.conversation_id = ?1",
            )
            .and_then(|mut s| s.query_row([conversation_id], |r| r.get(0)))
            .map_err(self.failed(&format!(
                "count the replies of chat conversation {conversation_id}"
            )))
    }
}
