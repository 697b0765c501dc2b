//! The people's web passwords: an Argon2id hash per extension (`password_hash`), kept
//! beside the extension's SIP digests (`credentials`), never the password.
//!
//! By default a person has one password for the phone and the web client:
//! `set_phone_and_web_password` stores both from it in one transaction, so a crash never
//! leaves one changed and the other not. The web one can also be set alone
//! (`switchboard user set-password --web`, or the person in the client), which leaves the
//! phone's digests as they are.
//!
//! Setting a web password ends that person's sessions (but the one it was changed from,
//! when a person changes their own), as removing it does: a password is changed because
//! someone else may know it.

use super::SqliteStore;
use super::credentials::write_digests;
use super::password_hash::hash_web_password;
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

/// What `remove_phone_and_web_password` found to remove.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebPasswordsRemoved {
    /// The SIP digests were removed: the phone can no longer register.
    pub phone: bool,
    /// The web password was removed (and with it the person's sessions).
    pub web: bool,
}

impl SqliteStore {
    /// Sets the web password of `extension`, hashing it here (slow: not on the server's
    /// store thread, see `store_web_password_hash`), and ends the person's sessions. The
    /// caller checks the password policy first (`password_policy::check`).
    pub fn set_web_password(
        &mut self,
        extension: &str,
        password: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let hash = hash_web_password(&format!("extension {extension}"), password)?;
        self.store_web_password_hash(extension, &hash, now_ms, None)
    }

    /// Stores `hash` (from `hash_web_password`) as the web password of `extension` and
    /// ends the person's sessions but the one stored under `keep_session` (the SHA-256
    /// of the token a person changed their own password with).
    pub fn store_web_password_hash(
        &mut self,
        extension: &str,
        hash: &str,
        now_ms: u64,
        keep_session: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(&format!("set the web password of {extension}"), |tx| {
            write_web_hash(tx, extension, hash, now_ms, keep_session)
        })
    }

    /// Sets the SIP password (its digests for `realm`) and the web password of
    /// `extension` from the same `password`, in one transaction, and ends the person's
    /// sessions. The caller checks the password policy first.
    pub fn set_phone_and_web_password(
        &mut self,
        extension: &str,
        realm: &str,
        password: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let hash = hash_web_password(&format!("extension {extension}"), password)?;
        self.changed.credentials();
        self.write(
            &format!("set the phone and web password of {extension}"),
            |tx| {
                write_digests(tx, extension, realm, password)?;
                write_web_hash(tx, extension, &hash, now_ms, None)
            },
        )
    }

    /// The stored hash of `extension`'s web password (a PHC string); `None` when it has
    /// none.
    pub fn web_password_hash(&self, extension: &str) -> Result<Option<String>, StoreError> {
        self.read(&format!("read the web password of {extension}"), |conn| {
            conn.query_row(
                "SELECT password_hash FROM web_passwords WHERE extension = ?1",
                [extension],
                |row| row.get(0),
            )
            .optional()
        })
    }

    /// The extensions with a web password, in order.
    pub fn list_web_passwords(&self) -> Result<Vec<String>, StoreError> {
        self.read("list the web passwords", |conn| {
            let mut statement =
                conn.prepare("SELECT extension FROM web_passwords ORDER BY extension")?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect()
        })
    }

    /// Removes the web password of `extension` and ends the person's sessions; false
    /// when it had none.
    pub fn remove_web_password(&mut self, extension: &str) -> Result<bool, StoreError> {
        self.write(&format!("remove the web password of {extension}"), |tx| {
            delete_web_password(tx, extension)
        })
    }

    /// Removes both passwords of `extension` (the SIP digests and the web password, in
    /// one transaction) and ends the person's sessions.
    pub fn remove_phone_and_web_password(
        &mut self,
        extension: &str,
    ) -> Result<WebPasswordsRemoved, StoreError> {
        let removed = self.write(&format!("remove the passwords of {extension}"), |tx| {
            let phone = tx.execute(
                "DELETE FROM sip_credentials WHERE extension = ?1",
                [extension],
            )? > 0;
            super::sip_registrations::forget_kept(tx, extension)?;
            let web = delete_web_password(tx, extension)?;
            Ok(WebPasswordsRemoved { phone, web })
        })?;
        if removed.phone {
            self.changed.credentials();
        }
        Ok(removed)
    }
}

fn write_web_hash(
    tx: &rusqlite::Connection,
    extension: &str,
    hash: &str,
    now_ms: u64,
    keep_session: Option<&str>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO web_passwords (extension, password_hash, password_set) VALUES (?1, ?2, ?3)
         ON CONFLICT (extension) DO UPDATE SET
             password_hash = excluded.password_hash,
             password_set = excluded.password_set",
        params![extension, hash, now_ms],
    )?;
    tx.execute(
        "DELETE FROM sessions WHERE extension = ?1 AND token_sha256 IS NOT ?2",
        params![extension, keep_session],
    )?;
    Ok(())
}

fn delete_web_password(tx: &rusqlite::Connection, extension: &str) -> rusqlite::Result<bool> {
    // The sessions first, though the schema would cascade: the rule does not hang on a
    // connection setting.
    tx.execute("DELETE FROM sessions WHERE extension = ?1", [extension])?;
    Ok(tx.execute(
        "DELETE FROM web_passwords WHERE extension = ?1",
        [extension],
    )? > 0)
}
