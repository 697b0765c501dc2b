//! Whom an unowned chat conversation is offered to. The offers are kept when someone
//! takes it, so the others who had it offered hear who took it.

use super::chat::ChatTx;
use rusqlite::params;
use switchboard_core::store::StoreError;

impl ChatTx<'_> {
    /// The extensions conversation `id` is offered to, in number order.
    pub fn offered_to(&self, id: i64) -> Result<Vec<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT extension FROM chat_offers WHERE conversation_id = ?1
                 ORDER BY extension",
            )
            .and_then(|mut s| s.query_map([id], |r| r.get(0))?.collect())
            .map_err(self.failed(&format!("read whom chat conversation {id} is offered to")))
    }

    /// Offers conversation `id` to `extensions` instead of whoever had it.
    pub fn replace_offers(&self, id: i64, extensions: &[String]) -> Result<(), StoreError> {
        let what = format!("offer chat conversation {id}");
        self.conn
            .prepare_cached("DELETE FROM chat_offers WHERE conversation_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(self.failed(&what))?;
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO chat_offers (conversation_id, extension) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(self.failed(&what))?;
        for extension in extensions {
            insert
                .execute(params![id, extension])
                .map_err(self.failed(&what))?;
        }
        Ok(())
    }
}
