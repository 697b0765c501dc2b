//! The web sign-in sessions, an admin's or a person's, kept so they outlive a restart of
//! the server.
//!
//! A row holds the SHA-256 of the session's token, never the token: the token is what
//! the browser's cookie presents, and someone who copies the store must not be able to
//! present it. Looking a token up hashes it first (`http::auth::session_cookie`).
//! Times are milliseconds since the Unix epoch, from the caller's clock.
//!
//! Whose a session is (`SessionOwner`) decides what it reaches (`http::auth::guard`): an
//! admin's the editor's API, a person's their own pages and the chat. The schema keeps
//! exactly one of `admin` and `extension` per row, and each goes with its password row
//! (`ON DELETE CASCADE`).

use super::SqliteStore;
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

/// Who signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOwner {
    /// An admin of the editor, by name (`switchboard admin set-password`).
    Admin(String),
    /// One of the office's people, by extension (`switchboard user set-password`).
    Person(String),
}

impl SessionOwner {
    /// `admin` or `person`, as the `kind` column and `GET /api/session` say it.
    pub fn kind(&self) -> &'static str {
        match self {
            SessionOwner::Admin(_) => "admin",
            SessionOwner::Person(_) => "person",
        }
    }
}

impl std::fmt::Display for SessionOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionOwner::Admin(name) => write!(f, "admin {name}"),
            SessionOwner::Person(extension) => write!(f, "extension {extension}"),
        }
    }
}

/// A session that has not expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub owner: SessionOwner,
    pub created_ms: u64,
    pub expires_ms: u64,
}

impl SqliteStore {
    /// Stores a new session of `owner` under `token_sha256` (lowercase hex) and deletes
    /// every session that has expired by `now_ms` (so the table holds live sessions only).
    pub fn create_session(
        &mut self,
        token_sha256: &str,
        owner: &SessionOwner,
        now_ms: u64,
        expires_ms: u64,
    ) -> Result<(), StoreError> {
        let (admin, extension) = match owner {
            SessionOwner::Admin(name) => (Some(name.as_str()), None),
            SessionOwner::Person(extension) => (None, Some(extension.as_str())),
        };
        self.write(&format!("start a session of {owner}"), |tx| {
            tx.execute("DELETE FROM sessions WHERE expires <= ?1", [now_ms])?;
            tx.execute(
                "INSERT INTO sessions (token_sha256, kind, admin, extension, created, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token_sha256,
                    owner.kind(),
                    admin,
                    extension,
                    now_ms,
                    expires_ms
                ],
            )?;
            Ok(())
        })
    }

    /// The session stored under `token_sha256`, if it exists and has not expired by
    /// `now_ms`. An expired one is deleted here.
    pub fn session(
        &mut self,
        token_sha256: &str,
        now_ms: u64,
    ) -> Result<Option<Session>, StoreError> {
        let found = self.read("read a session", |conn| {
            conn.query_row(
                "SELECT admin, extension, created, expires FROM sessions
                 WHERE token_sha256 = ?1",
                [token_sha256],
                |row| {
                    let admin: Option<String> = row.get(0)?;
                    let extension: Option<String> = row.get(1)?;
                    // The schema's CHECK keeps exactly one of the two.
                    let owner = match (admin, extension) {
                        (Some(name), _) => SessionOwner::Admin(name),
                        (None, extension) => SessionOwner::Person(extension.unwrap_or_default()),
                    };
                    Ok(Session {
                        owner,
                        created_ms: row.get(2)?,
                        expires_ms: row.get(3)?,
                    })
                },
            )
            .optional()
        })?;
        match found {
            Some(session) if session.expires_ms > now_ms => Ok(Some(session)),
            Some(_) => {
                self.delete_session(token_sha256)?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Ends every person's session whose extension is not one of `extensions` (the
    /// running plan's); the extensions whose sessions ended, sorted. A session ended here
    /// stays ended when the plan defines the extension again: its person signs in anew.
    pub fn end_sessions_outside(
        &mut self,
        extensions: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<String>, StoreError> {
        self.write("end the sessions of extensions not in the plan", |tx| {
            let signed_in: Vec<String> = tx
                .prepare("SELECT DISTINCT extension FROM sessions WHERE extension IS NOT NULL")?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut ended: Vec<String> = signed_in
                .into_iter()
                .filter(|e| !extensions.contains(e))
                .collect();
            ended.sort();
            for extension in &ended {
                tx.execute("DELETE FROM sessions WHERE extension = ?1", [extension])?;
            }
            Ok(ended)
        })
    }

    /// Deletes the session stored under `token_sha256`; false when there was none.
    pub fn delete_session(&mut self, token_sha256: &str) -> Result<bool, StoreError> {
        self.write("end a session", |tx| {
            Ok(tx.execute(
                "DELETE FROM sessions WHERE token_sha256 = ?1",
                [token_sha256],
            )? > 0)
        })
    }
}
