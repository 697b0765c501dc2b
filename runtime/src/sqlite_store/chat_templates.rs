//! Quick-response chat templates, by category and language (the team-view manual):
//! managers write them, every agent filters and inserts them.

use super::chat::{ChatTx, ms, ms_from};
use rusqlite::{Row, params};
use serde::Serialize;
use switchboard_core::store::StoreError;

/// A stored template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatTemplate {
    pub id: i64,
    pub category: String,
    pub language: String,
    pub title: String,
    pub text: String,
    pub created_by: String,
    pub updated_at_ms: u64,
}

/// A template's words, for creating or replacing one.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct TemplateText {
    pub category: String,
    pub language: String,
    pub title: String,
    pub text: String,
}

/// Which templates to list; empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct TemplateFilter {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub language: String,
    /// Words to find in the title or the text, case-insensitively.
    #[serde(default)]
    pub q: String,
}

fn row(r: &Row) -> rusqlite::Result<ChatTemplate> {
    Ok(ChatTemplate {
        id: r.get(0)?,
        category: r.get(1)?,
        language: r.get(2)?,
        title: r.get(3)?,
        text: r.get(4)?,
        created_by: r.get(5)?,
        updated_at_ms: ms_from(r.get(6)?),
    })
}

impl ChatTx<'_> {
    /// The templates `filter` selects, by category, language and title.
    pub fn templates(&self, filter: &TemplateFilter) -> Result<Vec<ChatTemplate>, StoreError> {
        // `instr` on lower case: LIKE would treat `%` and `_` in the words as patterns.
        self.conn
            .prepare_cached(
                "SELECT id, category, language, title, text, created_by, updated_at
                 FROM chat_templates
                 WHERE (?1 = '' OR category = ?1) AND (?2 = '' OR language = ?2)
                   AND (?3 = '' OR instr(lower(title), lower(?3)) > 0
                        OR instr(lower(text), lower(?3)) > 0)
                 ORDER BY category, language, title, id",
            )
            .and_then(|mut s| {
                s.query_map(params![filter.category, filter.language, filter.q], row)?
                    .collect()
            })
            .map_err(self.failed("list the chat templates"))
    }

    /// Template `id`, if there is one.
    pub fn template(&self, id: i64) -> Result<Option<ChatTemplate>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .prepare_cached(
                "SELECT id, category, language, title, text, created_by, updated_at
                 FROM chat_templates WHERE id = ?1",
            )
            .and_then(|mut s| s.query_row([id], row).optional())
            .map_err(self.failed(&format!("read chat template {id}")))
    }

    /// Stores a new template; its id.
    pub fn insert_template(
        &self,
        t: &TemplateText,
        by: &str,
        now_ms: u64,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_templates (category, language, title, text, created_by,
                     updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.insert(params![
                    t.category,
                    t.language,
                    t.title,
                    t.text,
                    by,
                    ms(now_ms)
                ])
            })
            .map_err(self.failed("store a chat template"))
    }

    /// Replaces template `id`'s words; false when there is no such template.
    pub fn update_template(
        &self,
        id: i64,
        t: &TemplateText,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_templates SET category = ?2, language = ?3, title = ?4, text = ?5,
                     updated_at = ?6
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    t.category,
                    t.language,
                    t.title,
                    t.text,
                    ms(now_ms)
                ])
            })
            .map(|n| n == 1)
            .map_err(self.failed(&format!("change chat template {id}")))
    }

    /// Deletes template `id`; false when there is no such template.
    pub fn delete_template(&self, id: i64) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM chat_templates WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("delete chat template {id}")))
    }
}
