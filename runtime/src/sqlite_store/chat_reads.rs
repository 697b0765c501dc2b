//! How far each person has read each conversation: the newest message id they saw.
//! `unread` is counted per person from it, so the agent reading a conversation sees
//! nothing new while a colleague it is offered to still does.

use super::chat::ChatTx;
use rusqlite::params;
use switchboard_core::store::StoreError;

impl ChatTx<'_> {
    /// `extension` has read conversation `conversation_id` up to message `message_id`. A
    /// mark never moves back (an older page's late request changes nothing).
    pub fn mark_read(
        &self,
        conversation_id: i64,
        extension: &str,
        message_id: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_reads (conversation_id, extension, message_id)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (conversation_id, extension)
                 DO UPDATE SET message_id = MAX(message_id, excluded.message_id)",
            )
            .and_then(|mut s| s.execute(params![conversation_id, extension, message_id]))
            .map(|_| ())
            .map_err(self.failed(&format!(
                "mark chat conversation {conversation_id} read by {extension}"
            )))
    }

    /// The customer's messages `extension` has not seen: those after their read mark and
    /// after their own last reply (answering is reading).
    pub fn unread_by(&self, conversation_id: i64, extension: &str) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT COUNT(*) FROM chat_messages WHERE conversation_id = ?1
                 AND direction = 'in'
                 AND id > COALESCE((SELECT message_id FROM chat_reads
                     WHERE conversation_id = ?1 AND extension = ?2), 0)
                 AND id > COALESCE((SELECT MAX(id) FROM chat_messages
                     WHERE conversation_id = ?1 AND direction = 'out' AND author = ?2), 0)",
            )
            .and_then(|mut s| {
                s.query_row(params![conversation_id, extension], |r| r.get::<_, i64>(0))
            })
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .map_err(self.failed(&format!(
                "count what {extension} has not read of chat conversation {conversation_id}"
            )))
    }
}
