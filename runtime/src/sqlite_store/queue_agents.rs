//! What the queues remember of their agents (`Store::agent_last_call_end`,
//! `queue_calls_answered`, `queue_last_offered`): when each agent's last queue call ended,
//! how many of a queue's calls they answered since logging in, and whom each queue last
//! offered a call to. Kept on disk so that round robin's turn, wrap-up and the counts
//! survive a restart.

use super::SqliteStore;
use rusqlite::{OptionalExtension, params};
use switchboard_core::store::StoreError;

impl SqliteStore {
    pub(super) fn read_agent_last_call_end(&self, agent: &str) -> Result<Option<u64>, StoreError> {
        let ended: Option<i64> = self.read(
            &format!("read when {agent}'s last queue call ended"),
            |conn| {
                conn.query_row(
                    "SELECT last_call_end FROM queue_agents WHERE agent = ?1",
                    [agent],
                    |row| row.get(0),
                )
                .optional()
            },
        )?;
        Ok(ended.map(|ms| u64::try_from(ms).unwrap_or(0)))
    }

    pub(super) fn write_agent_last_call_end(
        &mut self,
        agent: &str,
        at_ms: u64,
    ) -> Result<(), StoreError> {
        self.write(&format!("note the end of {agent}'s queue call"), |tx| {
            tx.execute(
                "INSERT INTO queue_agents (agent, last_call_end) VALUES (?1, ?2)
                 ON CONFLICT (agent) DO UPDATE SET last_call_end = excluded.last_call_end",
                params![agent, to_sql(at_ms)],
            )
            .map(drop)
        })
    }

    pub(super) fn read_queue_calls_answered(
        &self,
        agent: &str,
        queue: &str,
    ) -> Result<u32, StoreError> {
        let n: Option<i64> = self.read(
            &format!("count {agent}'s calls from queue {queue}"),
            |conn| {
                conn.query_row(
                    "SELECT answered FROM queue_answered WHERE agent = ?1 AND queue = ?2",
                    [agent, queue],
                    |row| row.get(0),
                )
                .optional()
            },
        )?;
        Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    pub(super) fn write_queue_calls_answered(
        &mut self,
        agent: &str,
        queue: &str,
        answered: u32,
    ) -> Result<(), StoreError> {
        self.write(&format!("count {agent}'s calls from queue {queue}"), |tx| {
            tx.execute(
                "INSERT INTO queue_answered (agent, queue, answered) VALUES (?1, ?2, ?3)
                 ON CONFLICT (agent, queue) DO UPDATE SET answered = excluded.answered",
                params![agent, queue, answered],
            )
            .map(drop)
        })
    }

    pub(super) fn read_queue_last_offered(
        &self,
        queue: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read(&format!("read queue {queue}'s last offer"), |conn| {
            conn.query_row(
                "SELECT last_offered FROM queue_turns WHERE queue = ?1",
                [queue],
                |row| row.get(0),
            )
            .optional()
        })
    }

    pub(super) fn write_queue_last_offered(
        &mut self,
        queue: &str,
        agent: &str,
    ) -> Result<(), StoreError> {
        self.write(&format!("note queue {queue}'s offer to {agent}"), |tx| {
            tx.execute(
                "INSERT INTO queue_turns (queue, last_offered) VALUES (?1, ?2)
                 ON CONFLICT (queue) DO UPDATE SET last_offered = excluded.last_offered",
                [queue, agent],
            )
            .map(drop)
        })
    }
}

/// SQLite integers are signed: a time past `i64::MAX` ms is kept as that.
fn to_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}
