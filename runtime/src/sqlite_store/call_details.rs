//! The records of finished calls (`Store::record_call`, `Store::call_details`): one row
//! per call, written when it ends, read for `/api/cdr`.

use super::SqliteStore;
use rusqlite::params;
use switchboard_core::store::{CallDetail, HungUpBy, StoreError};

impl SqliteStore {
    pub(super) fn write_call_detail(&mut self, d: &CallDetail) -> Result<(), StoreError> {
        self.write(&format!("record the call {}", d.sip_call_id), |tx| {
            tx.execute(
                "INSERT INTO call_details (sip_call_id, started, answered, ended, caller,
                   dialled, answered_by, outcome, hung_up_by, plan_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    d.sip_call_id,
                    to_sql(d.started_ms),
                    d.answered_ms.map(to_sql),
                    to_sql(d.ended_ms),
                    d.caller,
                    d.dialled,
                    d.answered_by,
                    d.outcome,
                    d.hung_up_by.as_str(),
                    to_sql(d.plan_version),
                ],
            )
            .map(drop)
        })
    }

    pub(super) fn read_call_details(
        &self,
        from_ms: u64,
        to_ms: u64,
        limit: usize,
    ) -> Result<Vec<CallDetail>, StoreError> {
        self.read("read the call records", |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT sip_call_id, started, answered, ended, caller, dialled, answered_by,
                   outcome, hung_up_by, plan_version
                 FROM call_details WHERE started >= ?1 AND started < ?2
                 ORDER BY started, id LIMIT ?3",
            )?;
            let rows = statement.query_map(
                params![
                    to_sql(from_ms),
                    to_sql(to_ms),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |row| {
                    let side: String = row.get(8)?;
                    Ok(CallDetail {
                        sip_call_id: row.get(0)?,
                        started_ms: from_sql(row.get(1)?),
                        answered_ms: row.get::<_, Option<i64>>(2)?.map(from_sql),
                        ended_ms: from_sql(row.get(3)?),
                        caller: row.get(4)?,
                        dialled: row.get(5)?,
                        answered_by: row.get(6)?,
                        outcome: row.get(7)?,
                        // The column's CHECK admits only the three words.
                        hung_up_by: HungUpBy::parse(&side).unwrap_or(HungUpBy::Server),
                        plan_version: from_sql(row.get(9)?),
                    })
                },
            )?;
            rows.collect()
        })
    }
}

/// SQLite integers are signed; times and versions past `i64::MAX` are kept as that.
fn to_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
