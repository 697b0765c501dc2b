//! The web editor's sign-in sessions, kept so they outlive a restart of the server.
//!
//! A row holds the SHA-256 of the session's token, never the token: the token is what
//! the browser's cookie presents, and someone who copies the store must not be able to
//! present it. Looking a token up hashes it first (`http::auth::session_cookie`).
//! Times are milliseconds since the Unix epoch, from the caller's clock.

use super::SqliteStore;
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

/// A session that has not expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The admin it belongs to.
    pub admin: String,
    pub created_ms: u64,
    pub expires_ms: u64,
}

impl SqliteStore {
    /// Stores a new session of `admin` under `token_sha256` (lowercase hex) and deletes
    /// every session that has expired by `now_ms` (so the table holds live sessions only).
    pub fn create_session(
        &mut self,
        token_sha256: &str,
        admin: &str,
        now_ms: u64,
        expires_ms: u64,
    ) -> Result<(), StoreError> {
        self.write(&format!("start a session of admin {admin}"), |tx| {
            tx.execute("DELETE FROM sessions WHERE expires <= ?1", [now_ms])?;
            tx.execute(
                "INSERT INTO sessions (token_sha256, admin, created, expires)
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_sha256, admin, now_ms, expires_ms],
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
                "SELECT admin, created, expires FROM sessions WHERE token_sha256 = ?1",
                [token_sha256],
                |row| {
                    Ok(Session {
                        admin: row.get(0)?,
                        created_ms: row.get(1)?,
                        expires_ms: row.get(2)?,
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
