//! The chat outbox: each reply for a provider (WhatsApp, Messenger, SMS), stored in the
//! same transaction as its message, until the provider accepted it or refused it for
//! good. Live-chat replies go to the visitor's socket and have no row.
//!
//! A sender claims due rows with an attempt id of its own and a lease (`pending` →
//! `sending` until `claimed_until`); only the attempt holding a row may mark it sent,
//! dead or due again, so two senders never both send one row. A row whose lease ran out
//! (its sender died with the last server) may be claimed again; `release_in_flight`
//! hands every `sending` row back at once, for a start-up that knows no sender is left.
//!
//! One customer's replies go in the order they were written: a row is claimable only
//! while no earlier row to the same customer (`channel`, `recipient`) is unsent, not dead
//! and not claimable itself, i.e. waiting for its next try or in another sender's hands.
//! Rows are claimed oldest first, so when an earlier row is claimable too it is in the
//! same claim, ahead of the later one, and the sender sends them one after the other. A
//! dead row holds nothing up: the agent sees it failed, and "Send again" queues it anew.

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
    /// Queues `payload` for the provider of `channel`, due at `now_ms` or, when an earlier
    /// reply to the same customer waits for its next try, then (it cannot go before it);
    /// the row's id.
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
                     next_attempt_at, state, created_at, recipient)
                 SELECT ?1, ?2, ?3, 0,
                     MAX(?4, COALESCE((SELECT MAX(e.next_attempt_at) FROM chat_outbox e
                         WHERE e.channel = ?2 AND e.recipient = r.recipient
                           -- The IN lets the partial index serve.
                           AND e.state IN ('pending', 'sending') AND e.state = 'pending'), 0)),
                     'pending', ?4, r.recipient
                 FROM (SELECT CASE WHEN json_valid(?3)
                     THEN COALESCE(json_extract(?3, '$.to'), '') ELSE '' END AS recipient) r",
            )
            .and_then(|mut s| s.insert(params![message_id, channel.as_str(), payload, ms(now_ms)]))
            .map_err(self.failed(&format!("queue message {message_id} for sending")))
    }

    /// Claims up to `limit` rows due by `now_ms` (and rows whose lease ran out) for
    /// `attempt_id`, until `now_ms + lease_ms`, oldest first, skipping the rows that must
    /// wait for an earlier reply to the same customer (see the module's doc).
    ///
    /// The unsent rows are walked in id order (`chat_outbox_unsent`), so the walk stops
    /// at the `limit`th claimable row: draining a backlog costs a claim a few rows, not
    /// one look at every due row. Each look for an earlier reply is one probe of
    /// `chat_outbox_unsent_by_recipient`.
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
                 WHERE id IN (SELECT c.id FROM chat_outbox c INDEXED BY chat_outbox_unsent
                     WHERE c.state IN ('pending', 'sending')
                       AND ((c.state = 'pending' AND c.next_attempt_at <= ?1)
                         OR (c.state = 'sending' AND c.claimed_until <= ?1))
                       AND NOT EXISTS (SELECT 1 FROM chat_outbox e
                           WHERE e.channel = c.channel AND e.recipient = c.recipient
                             AND e.id < c.id AND e.state IN ('pending', 'sending')
                             AND NOT ((e.state = 'pending' AND e.next_attempt_at <= ?1)
                                   OR (e.state = 'sending' AND e.claimed_until <= ?1)))
                     ORDER BY c.id LIMIT ?2)
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
    /// sleep. Only the first unsent row of each customer counts: a later one cannot go
    /// before it, so its own (maybe past) due time would only wake the sender for nothing.
    /// The rows are looked at in due order, stopping at the first that is a customer's
    /// first.
    pub fn next_outbox_due(&self) -> Result<Option<u64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT MIN(at) FROM (
                     SELECT * FROM (SELECT c.next_attempt_at AS at FROM chat_outbox c
                         WHERE c.state = 'pending' AND NOT EXISTS (SELECT 1 FROM chat_outbox e
                             WHERE e.channel = c.channel AND e.recipient = c.recipient
                               AND e.id < c.id AND e.state IN ('pending', 'sending'))
                         ORDER BY c.next_attempt_at LIMIT 1)
                     UNION ALL
                     SELECT * FROM (SELECT c.claimed_until AS at FROM chat_outbox c
                         WHERE c.state = 'sending' AND NOT EXISTS (SELECT 1 FROM chat_outbox e
                             WHERE e.channel = c.channel AND e.recipient = c.recipient
                               AND e.id < c.id AND e.state IN ('pending', 'sending'))
                         ORDER BY c.claimed_until LIMIT 1))",
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

    /// Row `id` failed for now: due again at `retry_at_ms` (or when an earlier reply to
    /// the same customer is, if later), and the later replies to that customer waiting
    /// to be sent are due no earlier. Those could not go before it anyway; a due time
    /// that says so keeps them out of the claims' and the sleeps' way, and tells the
    /// agent when they will be tried. False when `attempt_id` does not hold it.
    pub fn mark_outbox_retry(
        &self,
        id: i64,
        attempt_id: &str,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<bool, StoreError> {
        let retried = self
            .conn
            .prepare_cached(
                "UPDATE chat_outbox AS c SET state = 'pending', attempt_id = NULL,
                     claimed_until = NULL, last_error = ?4,
                     next_attempt_at = MAX(?3, COALESCE((SELECT MAX(e.next_attempt_at)
                         FROM chat_outbox e
                         WHERE e.channel = c.channel AND e.recipient = c.recipient
                           -- The IN lets the partial index serve.
                           AND e.id < c.id AND e.state IN ('pending', 'sending')
                           AND e.state = 'pending'), 0))
                 WHERE id = ?1 AND state = 'sending' AND attempt_id = ?2
                 RETURNING next_attempt_at",
            )
            .and_then(|mut s| {
                s.query_row(params![id, attempt_id, ms(retry_at_ms), error], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()
            })
            .map_err(self.failed(&format!("mark chat reply {id} for another try")))?;
        let Some(due) = retried else {
            return Ok(false);
        };
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET next_attempt_at = ?2
                 WHERE id IN (SELECT l.id FROM chat_outbox l, chat_outbox c
                     WHERE c.id = ?1 AND l.channel = c.channel AND l.recipient = c.recipient
                       AND l.id > c.id AND l.state IN ('pending', 'sending'))
                   AND state = 'pending' AND next_attempt_at < ?2",
            )
            .and_then(|mut s| s.execute(params![id, due]))
            .map_err(self.failed(&format!(
                "hold back the replies written after chat reply {id}"
            )))?;
        Ok(true)
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

    /// Makes every reply waiting for its next try due at `now_ms`; how many. For a
    /// sender's start: a restart is how an admin applies a fixed config (a new access
    /// token, an account added), and what waited for it should go then, not after the
    /// rest of a wait of up to five minutes.
    pub fn retry_waiting_outbox_now(&self, now_ms: u64) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_outbox SET next_attempt_at = ?1
                 WHERE state = 'pending' AND next_attempt_at > ?1",
            )
            .and_then(|mut s| s.execute([ms(now_ms)]))
            .map_err(self.failed("make the waiting chat replies due"))
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

    /// Queues the dead reply `message_id` again as a new row, due at `now_ms` (or when
    /// the replies waiting for the same customer are, if later): attempts from 0, the last
    /// error kept until the next try replaces it. A new row because "Send again" is a new
    /// send: it goes after what is already waiting for the customer, and under a new
    /// `Idempotency-Key`, so a gateway that honours keys does not answer it with the
    /// refusal it kept for the old one. False when it has no dead row: never sent through
    /// a provider, still on its way, or already sent.
    pub fn requeue_dead_outbox(&self, message_id: i64, now_ms: u64) -> Result<bool, StoreError> {
        let what = format!("queue message {message_id} for sending again");
        let dead = self
            .conn
            .prepare_cached(
                "DELETE FROM chat_outbox WHERE message_id = ?1 AND state = 'dead'
                 RETURNING channel, payload, recipient, last_error, created_at",
            )
            .and_then(|mut s| {
                s.query_row([message_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .optional()
            })
            .map_err(self.failed(&what))?;
        let Some((channel, payload, recipient, last_error, created_at)) = dead else {
            return Ok(false);
        };
        self.conn
            .prepare_cached(
                "INSERT INTO chat_outbox (message_id, channel, payload, attempts,
                     next_attempt_at, state, created_at, recipient, last_error)
                 VALUES (?1, ?2, ?3, 0,
                     MAX(?4, COALESCE((SELECT MAX(e.next_attempt_at) FROM chat_outbox e
                         WHERE e.channel = ?2 AND e.recipient = ?6
                           -- The IN lets the partial index serve.
                           AND e.state IN ('pending', 'sending') AND e.state = 'pending'), 0)),
                     'pending', ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    message_id,
                    channel,
                    payload,
                    ms(now_ms),
                    created_at,
                    recipient,
                    last_error
                ])
            })
            .map_err(self.failed(&what))?;
        Ok(true)
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
