//! SIP passwords as digest authentication needs them: the HA1 values of RFC 7616 (and RFC
//! 8760 for SIP), never the password.
//!
//! HA1 is `H(username:realm:password)`. A registrar checking a digest response needs only
//! HA1, so the password itself is never written anywhere. HA1 is still enough to answer a
//! challenge for that realm, so the file is created readable by its owner only.
//!
//! Both the MD5 and the SHA-256 value are kept, since phones differ in what they support
//! and the registrar may offer both challenges. An HA1 is bound to its realm: one realm is
//! kept per extension, and changing the server's realm means setting the passwords again.

use super::SqliteStore;
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

pub use crate::sip::digest::DigestAlgorithm;
use crate::sip::digest::ha1;

impl SqliteStore {
    /// Sets the SIP password of `extension` for `realm`, replacing any earlier one, by
    /// storing its HA1 values only. An empty password is refused: it would let anyone
    /// register as the extension.
    pub fn set_password(
        &mut self,
        extension: &str,
        realm: &str,
        password: &str,
    ) -> Result<(), StoreError> {
        if password.is_empty() {
            return Err(StoreError::new(format!(
                "refusing an empty SIP password for extension {extension}: anyone could \
                 register as it"
            )));
        }
        self.changed.credentials();
        self.write(&format!("set the SIP password of {extension}"), |tx| {
            write_digests(tx, extension, realm, password)
        })
    }

    /// The HA1 of `extension` in `realm` for `algorithm`, lowercase hex; `None` when it has
    /// no password, or has one for another realm only.
    pub fn ha1(
        &self,
        extension: &str,
        realm: &str,
        algorithm: DigestAlgorithm,
    ) -> Result<Option<String>, StoreError> {
        let sql = match algorithm {
            DigestAlgorithm::Md5 => {
                "SELECT ha1_md5 FROM sip_credentials WHERE extension = ?1 AND realm = ?2"
            }
            DigestAlgorithm::Sha256 => {
                "SELECT ha1_sha256 FROM sip_credentials WHERE extension = ?1 AND realm = ?2"
            }
        };
        self.read(&format!("read the SIP digest of {extension}"), |conn| {
            conn.query_row(sql, params![extension, realm], |row| row.get(0))
                .optional()
        })
    }

    /// Whether `extension` has a SIP password, for any realm.
    pub fn has_password(&self, extension: &str) -> Result<bool, StoreError> {
        self.read(&format!("read the SIP digest of {extension}"), |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sip_credentials WHERE extension = ?1)",
                [extension],
                |row| row.get(0),
            )
        })
    }

    /// Every user with a SIP password and the realm it is for, by user name.
    pub fn list_passwords(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.read("list the SIP users", |conn| {
            let mut statement =
                conn.prepare("SELECT extension, realm FROM sip_credentials ORDER BY extension")?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        })
    }

    /// Removes the SIP password of `extension`; false when it had none.
    pub fn remove_password(&mut self, extension: &str) -> Result<bool, StoreError> {
        let removed = self.write(&format!("remove the SIP password of {extension}"), |tx| {
            let n = tx.execute(
                "DELETE FROM sip_credentials WHERE extension = ?1",
                [extension],
            )?;
            super::sip_registrations::forget_kept(tx, extension)?;
            Ok(n > 0)
        })?;
        if removed {
            self.changed.credentials();
        }
        Ok(removed)
    }
}

/// Stores the HA1 values of `password` for `extension` in `realm`, replacing any earlier
/// ones, and forgets the contacts kept for it, inside the caller's transaction; the
/// caller refuses an empty password and tells the registrar (`changed.credentials()`).
pub(super) fn write_digests(
    tx: &rusqlite::Connection,
    extension: &str,
    realm: &str,
    password: &str,
) -> rusqlite::Result<()> {
    let md5 = ha1(DigestAlgorithm::Md5, extension, realm, password);
    let sha256 = ha1(DigestAlgorithm::Sha256, extension, realm, password);
    super::sip_registrations::forget_kept(tx, extension)?;
    tx.execute(
        "INSERT INTO sip_credentials (extension, realm, ha1_md5, ha1_sha256)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (extension) DO UPDATE SET
             realm = excluded.realm,
             ha1_md5 = excluded.ha1_md5,
             ha1_sha256 = excluded.ha1_sha256",
        params![extension, realm, md5, sha256],
    )?;
    Ok(())
}
