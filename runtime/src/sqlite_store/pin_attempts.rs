//! The wrong PINs counted per mailbox (`Store::pin_attempts`) and the store's clock that
//! stamps them (`Store::now_ms`): the system clock, so a lock outlives the call that
//! caused it and a restart of the server.

use super::SqliteStore;
use rusqlite::{OptionalExtension, params};
use std::time::{SystemTime, UNIX_EPOCH};
use switchboard_core::store::{PinAttempts, StoreError};

impl SqliteStore {
    pub(super) fn clock_ms(&self) -> Result<u64, StoreError> {
        // A clock set before 1970 is an admin's error, not an attacker's: count from 0,
        // which at worst makes a lock last longer.
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn read_pin_attempts(&self, mailbox: &str) -> Result<PinAttempts, StoreError> {
        let row = self.read(&format!("read the PIN attempts of {mailbox}"), |conn| {
            conn.query_row(
                "SELECT failures, since, locks, locked_until FROM pin_attempts
                 WHERE mailbox = ?1",
                [mailbox],
                |row| {
                    Ok(PinAttempts {
                        failures: row.get(0)?,
                        since: from_sql(row.get(1)?),
                        locks: row.get(2)?,
                        locked_until: from_sql(row.get(3)?),
                    })
                },
            )
            .optional()
        })?;
        Ok(row.unwrap_or_default())
    }

    pub(super) fn write_pin_attempts(
        &mut self,
        mailbox: &str,
        a: PinAttempts,
    ) -> Result<(), StoreError> {
        self.write(&format!("count the PIN attempts of {mailbox}"), |tx| {
            if a == PinAttempts::default() {
                tx.execute("DELETE FROM pin_attempts WHERE mailbox = ?1", [mailbox])
                    .map(drop)
            } else {
                tx.execute(
                    "INSERT INTO pin_attempts (mailbox, failures, since, locks, locked_until)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (mailbox) DO UPDATE SET failures = excluded.failures,
                       since = excluded.since, locks = excluded.locks,
                       locked_until = excluded.locked_until",
                    params![
                        mailbox,
                        a.failures,
                        to_sql(a.since),
                        a.locks,
                        to_sql(a.locked_until)
                    ],
                )
                .map(drop)
            }
        })
    }
}

/// SQLite integers are signed: times past `i64::MAX` ms (some 292 million years) are
/// kept as that, which is still "locked".
fn to_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn from_sql(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}
