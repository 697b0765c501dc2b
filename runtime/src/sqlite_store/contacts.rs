//! The office's shared address book: people and companies the office talks to, with
//! their phone numbers, e-mail, company and a note. Any signed-in person reads and edits
//! it (`/api/contacts`); the chat's Information shows the contact whose number or e-mail
//! is the customer's.
//!
//! Phone numbers are kept as the client's links and the trunks use them: `+` and digits
//! (`contact_phone` normalises what a person typed), one JSON array per contact, so a
//! search for a number and the Information's lookup compare like with like.

use super::SqliteStore;
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use switchboard_core::store::StoreError;

/// At most this many contacts answer a search.
pub const MAX_CONTACTS_LISTED: usize = 100;

/// What a person writes about a contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ContactText {
    pub name: String,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A stored contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: i64,
    #[serde(flatten)]
    pub text: ContactText,
    /// The extension that last wrote it.
    pub updated_by: String,
    pub updated_at_ms: u64,
}

fn failed(what: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::new(format!("could not {what} in the office store: {e}"))
}

fn contact_of(r: &Row) -> rusqlite::Result<Contact> {
    let phones: String = r.get(2)?;
    let updated_at: i64 = r.get(7)?;
    Ok(Contact {
        id: r.get(0)?,
        text: ContactText {
            name: r.get(1)?,
            phones: serde_json::from_str(&phones).unwrap_or_default(),
            email: r.get(3)?,
            company: r.get(4)?,
            note: r.get(5)?,
        },
        updated_by: r.get(6)?,
        updated_at_ms: u64::try_from(updated_at).unwrap_or_default(),
    })
}

const COLUMNS: &str = "id, name, phones, email, company, note, updated_by, updated_at";

fn now_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Contacts whose name, company, e-mail, note or a phone number contains `q`
    /// (case-insensitive; every contact for an empty `q`), by name.
    pub fn contacts(&self, q: &str) -> Result<Vec<Contact>, StoreError> {
        let like = format!(
            "%{}%",
            q.trim()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts
             WHERE name LIKE ?1 ESCAPE '\\' OR phones LIKE ?1 ESCAPE '\\'
                OR IFNULL(email, '') LIKE ?1 ESCAPE '\\'
                OR IFNULL(company, '') LIKE ?1 ESCAPE '\\'
                OR IFNULL(note, '') LIKE ?1 ESCAPE '\\'
             ORDER BY name COLLATE NOCASE, id LIMIT ?2"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![like, MAX_CONTACTS_LISTED as i64], contact_of)?
                    .collect()
            })
            .map_err(failed("list the contacts"))
    }

    /// One contact.
    pub fn contact(&self, id: i64) -> Result<Option<Contact>, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM contacts WHERE id = ?1"))
            .and_then(|mut s| s.query_row(params![id], contact_of).optional())
            .map_err(failed("read a contact"))
    }

    /// Stores a new contact; its id.
    pub fn create_contact(
        &mut self,
        text: &ContactText,
        by: &str,
        now_ms: u64,
    ) -> Result<i64, StoreError> {
        let phones = serde_json::to_string(&text.phones).unwrap_or_else(|_| "[]".into());
        self.conn
            .prepare_cached(
                "INSERT INTO contacts (name, phones, email, company, note, updated_by,
                     updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    text.name,
                    phones,
                    text.email,
                    text.company,
                    text.note,
                    by,
                    now_i64(now_ms)
                ])
            })
            .map_err(failed("add a contact"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Replaces a contact's text; false when there is no such contact.
    pub fn update_contact(
        &mut self,
        id: i64,
        text: &ContactText,
        by: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let phones = serde_json::to_string(&text.phones).unwrap_or_else(|_| "[]".into());
        self.conn
            .prepare_cached(
                "UPDATE contacts SET name = ?2, phones = ?3, email = ?4, company = ?5,
                     note = ?6, updated_by = ?7, updated_at = ?8 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    text.name,
                    phones,
                    text.email,
                    text.company,
                    text.note,
                    by,
                    now_i64(now_ms)
                ])
            })
            .map(|n| n == 1)
            .map_err(failed("change a contact"))
    }

    /// Removes a contact; false when there was none.
    pub fn delete_contact(&mut self, id: i64) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM contacts WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id]))
            .map(|n| n == 1)
            .map_err(failed("remove a contact"))
    }

    /// The first contact (by id) with this exact phone number (`+` and digits).
    pub fn contact_by_phone(&self, phone: &str) -> Result<Option<Contact>, StoreError> {
        let quoted = serde_json::to_string(phone).unwrap_or_default();
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM contacts WHERE instr(phones, ?1) > 0 ORDER BY id LIMIT 1"
            ))
            .and_then(|mut s| s.query_row(params![quoted], contact_of).optional())
            .map_err(failed("find a contact by phone"))
    }

    /// The first contact (by id) with this e-mail address, compared without case.
    pub fn contact_by_email(&self, email: &str) -> Result<Option<Contact>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM contacts WHERE email = ?1 COLLATE NOCASE
                 ORDER BY id LIMIT 1"
            ))
            .and_then(|mut s| s.query_row(params![email.trim()], contact_of).optional())
            .map_err(failed("find a contact by e-mail"))
    }
}
