//! Chat files (schema version 10): what was uploaded (name, type, size, who, when) and
//! the SHA-256 naming its bytes under the data folder's `chat-files/`. The bytes are
//! written and synced before a row here is committed; see `chat/files.rs`.

use super::chat::{ChatTx, ms, ms_from};
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

/// A stored file's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatFileRow {
    pub id: i64,
    /// Lowercase hex; the bytes are at `chat-files/<sha256>`.
    pub sha256: String,
    /// The sanitised name shown to people and given on download.
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// The extension that uploaded it.
    pub uploaded_by: String,
    pub at_ms: u64,
}

impl ChatTx<'_> {
    /// Records an uploaded file whose bytes are already on disk; its id.
    pub fn insert_file(&self, f: &ChatFileRow) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_files (sha256, name, content_type, size, uploaded_by, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.insert(params![
                    f.sha256,
                    f.name,
                    f.content_type,
                    i64::try_from(f.size).unwrap_or(i64::MAX),
                    f.uploaded_by,
                    ms(f.at_ms)
                ])
            })
            .map_err(self.failed(&format!("record the chat file {}", f.name)))
    }

    /// File `id`, if it exists.
    pub fn file(&self, id: i64) -> Result<Option<ChatFileRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id, sha256, name, content_type, size, uploaded_by, at
                 FROM chat_files WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok(ChatFileRow {
                        id: r.get(0)?,
                        sha256: r.get(1)?,
                        name: r.get(2)?,
                        content_type: r.get(3)?,
                        size: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                        uploaded_by: r.get(5)?,
                        at_ms: ms_from(r.get(6)?),
                    })
                })
                .optional()
            })
            .map_err(self.failed(&format!("read chat file {id}")))
    }

    /// The conversations with a message carrying file `id`: an attachment object
    /// `{"id": …}` (an agent's file), or an item `{"id": …}` with a number for id of an
    /// attachment array (a customer's file, fetched from their provider: the provider's
    /// own references in such arrays name media by text, never by number, so they never
    /// match).
    pub fn conversations_holding_file(&self, id: i64) -> Result<Vec<i64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT DISTINCT conversation_id FROM chat_messages
                 WHERE attachment IS NOT NULL
                   AND ((CASE WHEN json_valid(attachment) AND json_type(attachment) = 'object'
                        THEN json_extract(attachment, '$.id') END) = ?1
                     OR (CASE WHEN json_valid(attachment) AND json_type(attachment) = 'array'
                        THEN EXISTS (SELECT 1 FROM json_each(attachment) j
                            WHERE j.type = 'object'
                              AND json_type(j.value, '$.id') = 'integer'
                              AND json_extract(j.value, '$.id') = ?1) END))",
            )
            .and_then(|mut s| {
                s.query_map([id], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .map_err(self.failed(&format!("find the conversations holding chat file {id}")))
    }
}
