//! The phones' registrations, kept so that a restart does not leave every desk phone
//! unreachable until it registers again (up to `MAX_EXPIRES`, two hours): the registrar
//! in memory is the truth while the server runs, and this table its copy for the next
//! start, written after each REGISTER that changed an extension's contacts.
//!
//! Only contacts registered over UDP are kept. A TCP phone is reached over the connection
//! it registered on, which ends with the server; it registers again when it notices.

use super::SqliteStore;
use rusqlite::params;
use std::net::SocketAddr;
use switchboard_core::store::StoreError;

/// One kept contact of a SIP user (an extension, or a hot-desk phone's MAC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedRegistration {
    /// The Contact URI, as the phone sent it.
    pub contact: String,
    /// Where its REGISTER came from: where requests to it go.
    pub source: SocketAddr,
    /// When it lapses, in milliseconds since the Unix epoch (a wall-clock time, as the
    /// registrar's `Instant` means nothing to the next process).
    pub expires_at_ms: u64,
    pub user_agent: Option<String>,
}

impl SqliteStore {
    /// Makes `contacts` all that is kept for `user`: none forgets them.
    pub fn save_registrations(
        &mut self,
        user: &str,
        contacts: &[SavedRegistration],
    ) -> Result<(), StoreError> {
        self.write(&format!("keep {user}'s registrations"), |tx| {
            forget_kept(tx, user)?;
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO sip_registrations
                     (user, contact, source, expires_at, user_agent)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for c in contacts {
                insert.execute(params![
                    user,
                    c.contact,
                    c.source.to_string(),
                    i64::try_from(c.expires_at_ms).unwrap_or(i64::MAX),
                    c.user_agent
                ])?;
            }
            Ok(())
        })
    }

    /// The kept registrations still live at `now_ms`, by user and contact; the lapsed
    /// ones are forgotten. A row whose source does not parse (written by hand) is skipped.
    pub fn saved_registrations(
        &mut self,
        now_ms: u64,
    ) -> Result<Vec<(String, SavedRegistration)>, StoreError> {
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        self.write("read the kept registrations", |tx| {
            tx.prepare_cached("DELETE FROM sip_registrations WHERE expires_at <= ?1")?
                .execute([now])?;
            let mut select = tx.prepare_cached(
                "SELECT user, contact, source, expires_at, user_agent FROM sip_registrations
                 ORDER BY user, contact",
            )?;
            let rows = select.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut kept = Vec::new();
            for row in rows {
                let (user, contact, source, expires_at, user_agent) = row?;
                let Ok(source) = source.parse() else {
                    continue;
                };
                kept.push((
                    user,
                    SavedRegistration {
                        contact,
                        source,
                        expires_at_ms: u64::try_from(expires_at).unwrap_or(0),
                        user_agent,
                    },
                ));
            }
            Ok(kept)
        })
    }
}

/// Forgets the contacts kept for `user`, inside the caller's transaction: its password
/// changed or went, and a phone that knew only the old one must not be rung after the
/// next start (the running server's registrar is not touched: it forgets such a phone
/// when its registration lapses).
pub(super) fn forget_kept(tx: &rusqlite::Connection, user: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM sip_registrations WHERE user = ?1")?
        .execute([user])
        .map(drop)
}
