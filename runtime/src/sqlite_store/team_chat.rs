//! Colleagues' chat in the office store (schema version 9): threads between two
//! extensions or of one queue, their messages and each member's read mark.
//!
//! The statements run through a `ChatTx` (`SqliteStore::chat`), so one team action is
//! one transaction: a refused message writes nothing. Who belongs to a group thread is
//! not stored — it is the running plan's say (`crate::chat::team`) — so the store
//! answers only for threads and extensions it is told about.

use super::ChatTx;
use super::chat::ms;
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

/// A thread as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamThreadRow {
    pub id: i64,
    pub kind: TeamThreadKind,
}

/// Between two extensions, or of one queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeamThreadKind {
    /// The two extensions, the lower first.
    Direct(String, String),
    /// The queue's number.
    Group(String),
}

/// One message of a thread.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TeamMessageRow {
    pub id: i64,
    pub thread_id: i64,
    pub author: String,
    pub text: String,
    /// JSON describing an attached file (`null` when none).
    pub attachment: Option<serde_json::Value>,
    pub at: u64,
}

fn thread_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TeamThreadRow> {
    let id: i64 = row.get(0)?;
    let a: Option<String> = row.get(1)?;
    let b: Option<String> = row.get(2)?;
    let queue: Option<String> = row.get(3)?;
    let kind = match (a, b, queue) {
        (Some(a), Some(b), None) => TeamThreadKind::Direct(a, b),
        (None, None, Some(q)) => TeamThreadKind::Group(q),
        // The table's CHECK allows nothing else.
        _ => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Null,
                format!("team thread {id} is neither direct nor a group").into(),
            ));
        }
    };
    Ok(TeamThreadRow { id, kind })
}

fn message_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TeamMessageRow> {
    let attachment: Option<String> = row.get(4)?;
    Ok(TeamMessageRow {
        id: row.get(0)?,
        thread_id: row.get(1)?,
        author: row.get(2)?,
        text: row.get(3)?,
        attachment: attachment.and_then(|a| serde_json::from_str(&a).ok()),
        at: u64::try_from(row.get::<_, i64>(5)?).unwrap_or(0),
    })
}

const THREAD_COLUMNS: &str = "id, member_a, member_b, queue";
const MESSAGE_COLUMNS: &str = "id, thread_id, author, text, attachment, created_at";

impl ChatTx<'_> {
    /// The direct thread of `one` and `other` (two different extensions), created the
    /// first time: one thread per pair, whoever starts it.
    pub fn team_direct_thread(
        &self,
        one: &str,
        other: &str,
        now_ms: u64,
    ) -> Result<TeamThreadRow, StoreError> {
        let (a, b) = if one < other {
            (one, other)
        } else {
            (other, one)
        };
        self.conn
            .execute(
                "INSERT INTO team_threads (kind, member_a, member_b, created_at)
                 VALUES ('direct', ?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![a, b, ms(now_ms)],
            )
            .map_err(self.failed("start a direct team thread"))?;
        self.conn
            .query_row(
                &format!(
                    "SELECT {THREAD_COLUMNS} FROM team_threads \
                     WHERE member_a = ?1 AND member_b = ?2"
                ),
                params![a, b],
                thread_from_row,
            )
            .map_err(self.failed("read a direct team thread"))
    }

    /// The group thread of queue `queue`, created the first time.
    pub fn team_group_thread(&self, queue: &str, now_ms: u64) -> Result<TeamThreadRow, StoreError> {
        self.conn
            .execute(
                "INSERT INTO team_threads (kind, queue, created_at)
                 VALUES ('group', ?1, ?2) ON CONFLICT DO NOTHING",
                params![queue, ms(now_ms)],
            )
            .map_err(self.failed("start a queue's team thread"))?;
        self.conn
            .query_row(
                &format!("SELECT {THREAD_COLUMNS} FROM team_threads WHERE queue = ?1"),
                params![queue],
                thread_from_row,
            )
            .map_err(self.failed("read a queue's team thread"))
    }

    /// Thread `id`, if there is one.
    pub fn team_thread(&self, id: i64) -> Result<Option<TeamThreadRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {THREAD_COLUMNS} FROM team_threads WHERE id = ?1"),
                params![id],
                thread_from_row,
            )
            .optional()
            .map_err(self.failed("read a team thread"))
    }

    /// The direct threads `extension` is one of the two of.
    pub fn team_direct_threads_of(
        &self,
        extension: &str,
    ) -> Result<Vec<TeamThreadRow>, StoreError> {
        let fail = self.failed("list the direct team threads");
        let mut statement = self
            .conn
            .prepare_cached(&format!(
                "SELECT {THREAD_COLUMNS} FROM team_threads \
                 WHERE kind = 'direct' AND (member_a = ?1 OR member_b = ?1) ORDER BY id"
            ))
            .map_err(self.failed("list the direct team threads"))?;
        statement
            .query_map(params![extension], thread_from_row)
            .and_then(|rows| rows.collect())
            .map_err(fail)
    }

    /// Stores a message and marks it read for its author; returns it.
    pub fn team_post(
        &self,
        thread_id: i64,
        author: &str,
        text: &str,
        attachment: Option<&serde_json::Value>,
        now_ms: u64,
    ) -> Result<TeamMessageRow, StoreError> {
        let attachment = attachment.map(serde_json::Value::to_string);
        let id = self
            .conn
            .query_row(
                "INSERT INTO team_messages (thread_id, author, text, attachment, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![thread_id, author, text, attachment, ms(now_ms)],
                |row| row.get::<_, i64>(0),
            )
            .map_err(self.failed("store a team message"))?;
        self.team_mark_read(thread_id, author, id)?;
        self.conn
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM team_messages WHERE id = ?1"),
                params![id],
                message_from_row,
            )
            .map_err(self.failed("read back a team message"))
    }

    /// The threads with a message carrying chat file `id` (its attachment `{"id": …}`).
    pub fn team_threads_holding_file(&self, id: i64) -> Result<Vec<TeamThreadRow>, StoreError> {
        let fail = self.failed(&format!("find the team threads holding chat file {id}"));
        let mut statement = self
            .conn
            .prepare_cached(&format!(
                "SELECT {THREAD_COLUMNS} FROM team_threads WHERE id IN (
                     SELECT thread_id FROM team_messages
                     WHERE attachment IS NOT NULL
                       AND (CASE WHEN json_valid(attachment)
                                  AND json_type(attachment) = 'object'
                            THEN json_extract(attachment, '$.id') END) = ?1)
                 ORDER BY id"
            ))
            .map_err(self.failed("find the team threads holding a chat file"))?;
        statement
            .query_map(params![id], thread_from_row)
            .and_then(|rows| rows.collect())
            .map_err(fail)
    }

    /// At most `limit` messages of the thread older than `before` (all when `None`),
    /// oldest first.
    pub fn team_messages(
        &self,
        thread_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<TeamMessageRow>, StoreError> {
        let fail = self.failed("read a team thread's messages");
        let mut statement = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM team_messages \
                 WHERE thread_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
            ))
            .map_err(self.failed("read a team thread's messages"))?;
        let mut rows: Vec<TeamMessageRow> = statement
            .query_map(
                params![
                    thread_id,
                    before.unwrap_or(i64::MAX),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                message_from_row,
            )
            .and_then(|rows| rows.collect())
            .map_err(fail)?;
        rows.reverse();
        Ok(rows)
    }

    /// The thread's newest message.
    pub fn team_last_message(&self, thread_id: i64) -> Result<Option<TeamMessageRow>, StoreError> {
        Ok(self.team_messages(thread_id, None, 1)?.pop())
    }

    /// The thread's newest message id (0 when it has none).
    pub fn team_last_message_id(&self, thread_id: i64) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(id), 0) FROM team_messages WHERE thread_id = ?1",
                params![thread_id],
                |row| row.get(0),
            )
            .map_err(self.failed("read a team thread's newest message"))
    }

    /// Marks the thread read by `extension` up to message `up_to` (never backwards).
    pub fn team_mark_read(
        &self,
        thread_id: i64,
        extension: &str,
        up_to: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO team_reads (thread_id, extension, last_read_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (thread_id, extension)
                 DO UPDATE SET last_read_id = MAX(last_read_id, excluded.last_read_id)",
                params![thread_id, extension, up_to],
            )
            .map_err(self.failed("mark a team thread read"))?;
        Ok(())
    }

    /// How many of the thread's messages by others `extension` has not read.
    pub fn team_unread(&self, thread_id: i64, extension: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM team_messages
                 WHERE thread_id = ?1 AND author <> ?2 AND id > COALESCE(
                     (SELECT last_read_id FROM team_reads
                      WHERE thread_id = ?1 AND extension = ?2), 0)",
                params![thread_id, extension],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(self.failed("count a team thread's unread messages"))
    }
}
