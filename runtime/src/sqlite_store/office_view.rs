//! What the admin's view of the office (`GET /api/office`) reads that the engines'
//! `Store` does not offer: when each hot-desk login began.

use super::SqliteStore;
use switchboard_core::store::StoreError;

/// One hot-desk login and when it began.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HotDeskSince {
    /// The phone's MAC, upper case.
    pub device: String,
    pub extension: String,
    /// Milliseconds since the Unix epoch; `None` for a login made before the store
    /// noted when logins begin (schema version 5).
    pub since_ms: Option<u64>,
}

impl SqliteStore {
    /// Every hot-desk login with its start, by MAC.
    pub fn hot_desk_logins_since(&self) -> Result<Vec<HotDeskSince>, StoreError> {
        self.read("list the hot-desk logins", |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT device_mac, extension, since FROM hot_desks ORDER BY device_mac",
            )?;
            let rows = statement.query_map([], |row| {
                let since: Option<i64> = row.get(2)?;
                Ok(HotDeskSince {
                    device: row.get(0)?,
                    extension: row.get(1)?,
                    since_ms: since.map(|ms| u64::try_from(ms).unwrap_or(0)),
                })
            })?;
            rows.collect()
        })
    }
}
