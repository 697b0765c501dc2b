//! The customers' media to fetch (schema version 14): one row per file a customer sent
//! through a provider (WhatsApp, Messenger, Twilio MMS), stored in the same transaction
//! as their message, until the file is a chat file the agents open or a note saying why
//! it is not.
//!
//! `item` is the file's place in its message's `attachment` array and `reference` that
//! item as the webhook gave it (a WhatsApp media id, a Messenger or Twilio link). A
//! fetcher claims due rows with an attempt id of its own and a lease (`pending` →
//! `fetching` until `claimed_until`); only the attempt holding a row may mark it, so two
//! fetchers never both store one file. A row whose lease ran out (its fetcher died with
//! the server) is claimed again. Marking a row `done` or `dead` replaces its item of the
//! message's attachment in the same statement batch (`finish_media`), so the agents see
//! the file (or the note) exactly when the row stops being fetched.

use super::chat::{ChatTx, channel_from_sql, ms, ms_from};
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// A row a fetcher claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaJob {
    pub id: i64,
    pub message_id: i64,
    /// The file's index in the message's `attachment` array.
    pub item: u32,
    pub channel: Channel,
    /// The provider's item, JSON (`{"id", "content_type", "filename"}` WhatsApp,
    /// `{"kind", "url"}` Messenger, `{"url", "content_type"}` Twilio).
    pub reference: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub attempt_id: String,
}

/// How one customer file's fetch stands (for tests and diagnostics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaState {
    pub item: u32,
    /// `pending`, `fetching`, `done` or `dead`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl ChatTx<'_> {
    /// Queues item `item` (`reference`) of message `message_id` for fetching, due at
    /// `now_ms`.
    pub fn enqueue_media(
        &self,
        message_id: i64,
        item: u32,
        channel: Channel,
        reference: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_media (message_id, item, channel, reference, attempts,
                     next_attempt_at, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, 'pending', ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    message_id,
                    item,
                    channel.as_str(),
                    reference,
                    ms(now_ms)
                ])
            })
            .map(drop)
            .map_err(self.failed(&format!(
                "queue file {item} of message {message_id} for fetching"
            )))
    }

    /// Claims up to `limit` rows due by `now_ms` (and rows whose lease ran out) for
    /// `attempt_id`, until `now_ms + lease_ms`, oldest first.
    pub fn claim_due_media(
        &self,
        now_ms: u64,
        lease_ms: u64,
        attempt_id: &str,
        limit: u32,
    ) -> Result<Vec<MediaJob>, StoreError> {
        let mut rows: Vec<MediaJob> = self
            .conn
            .prepare_cached(
                "UPDATE chat_media SET state = 'fetching', attempt_id = ?3,
                     claimed_until = ?4, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM chat_media INDEXED BY chat_media_unfetched
                     WHERE state IN ('pending', 'fetching')
                       AND ((state = 'pending' AND next_attempt_at <= ?1)
                         OR (state = 'fetching' AND claimed_until <= ?1))
                     ORDER BY id LIMIT ?2)
                 RETURNING id, message_id, item, channel, reference, attempts, attempt_id",
            )
            .and_then(|mut s| {
                let until = ms(now_ms.saturating_add(lease_ms));
                s.query_map(params![ms(now_ms), limit, attempt_id, until], |r| {
                    let channel: String = r.get(3)?;
                    Ok(MediaJob {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        item: r.get(2)?,
                        channel: channel_from_sql(&channel)?,
                        reference: r.get(4)?,
                        attempts: r.get(5)?,
                        attempt_id: r.get(6)?,
                    })
                })?
                .collect()
            })
            .map_err(self.failed("claim the customers' files due for fetching"))?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// When the next row is due (or a lease runs out), if any.
    pub fn next_media_due(&self) -> Result<Option<u64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT MIN(CASE state WHEN 'pending' THEN next_attempt_at
                                       ELSE claimed_until END)
                 FROM chat_media WHERE state IN ('pending', 'fetching')",
            )
            .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))
            .map(|at| at.map(ms_from))
            .map_err(self.failed("read when the next customer file is due"))
    }

    /// Row `id` failed for now: due again at `retry_at_ms`. False when `attempt_id` does
    /// not hold it.
    pub fn mark_media_retry(
        &self,
        id: i64,
        attempt_id: &str,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_media SET state = 'pending', attempt_id = NULL,
                     claimed_until = NULL, next_attempt_at = ?3, last_error = ?4
                 WHERE id = ?1 AND state = 'fetching' AND attempt_id = ?2",
            )
            .and_then(|mut s| s.execute(params![id, attempt_id, ms(retry_at_ms), error]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("mark customer file {id} for another try")))
    }

    /// Row `id` is finished: `done` (its file is stored) or `dead` (`error` says why),
    /// and its item of the message's attachment becomes `item` (JSON). False, and nothing
    /// changed, when `attempt_id` does not hold it.
    pub fn finish_media(
        &self,
        id: i64,
        attempt_id: &str,
        done: bool,
        error: Option<&str>,
        item: &str,
    ) -> Result<bool, StoreError> {
        let what = format!("mark customer file {id} fetched");
        let finished = self
            .conn
            .prepare_cached(
                "UPDATE chat_media SET state = ?3, last_error = ?4, attempt_id = NULL,
                     claimed_until = NULL
                 WHERE id = ?1 AND state = 'fetching' AND attempt_id = ?2
                 RETURNING message_id, item",
            )
            .and_then(|mut s| {
                let state = if done { "done" } else { "dead" };
                s.query_row(params![id, attempt_id, state, error], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .optional()
            })
            .map_err(self.failed(&what))?;
        let Some((message_id, index)) = finished else {
            return Ok(false);
        };
        self.conn
            .prepare_cached(
                "UPDATE chat_messages
                 SET attachment = json_replace(attachment, '$[' || ?2 || ']', json(?3))
                 WHERE id = ?1 AND json_valid(attachment) AND json_type(attachment) = 'array'",
            )
            .and_then(|mut s| s.execute(params![message_id, index, item]))
            .map_err(self.failed(&what))?;
        Ok(true)
    }

    /// Whether `attempt_id` holds row `id` (claimed it, and no other claim took it since).
    pub fn holds_media(&self, id: i64, attempt_id: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT 1 FROM chat_media WHERE id = ?1 AND state = 'fetching' AND attempt_id = ?2",
            )
            .and_then(|mut s| s.exists(params![id, attempt_id]))
            .map_err(self.failed(&format!("read who fetches customer file {id}")))
    }

    /// Makes every row waiting for its next try due at `now_ms`; how many. For a
    /// fetcher's start: a restart is how an admin applies a fixed config.
    pub fn retry_waiting_media_now(&self, now_ms: u64) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_media SET next_attempt_at = ?1
                 WHERE state = 'pending' AND next_attempt_at > ?1",
            )
            .and_then(|mut s| s.execute([ms(now_ms)]))
            .map_err(self.failed("make the waiting customer files due"))
    }

    /// How the fetches of message `message_id`'s files stand, by item.
    pub fn media_states(&self, message_id: i64) -> Result<Vec<MediaState>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT item, state, attempts, last_error FROM chat_media
                 WHERE message_id = ?1 ORDER BY item",
            )
            .and_then(|mut s| {
                s.query_map([message_id], |r| {
                    Ok(MediaState {
                        item: r.get(0)?,
                        state: r.get(1)?,
                        attempts: r.get(2)?,
                        last_error: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.failed(&format!(
                "read how message {message_id}'s files are fetched"
            )))
    }
}
