//! Blocked live-chat addresses ("Block anonymous user"): a visitor's network address or
//! visitor id, refused from then on.

use super::SqliteStore;
use super::chat::{ChatTx, ms};
use rusqlite::params;
use switchboard_core::store::StoreError;

impl ChatTx<'_> {
    /// Blocks `address`; blocking it again keeps the first block.
    pub fn block_address(&self, address: &str, by: &str, now_ms: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_blocked (address, blocked_by, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (address) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![address, by, ms(now_ms)]))
            .map(drop)
            .map_err(self.failed(&format!("block {address}")))
    }

    /// Whether any of `addresses` is blocked.
    pub fn any_blocked(&self, addresses: &[&str]) -> Result<bool, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM chat_blocked WHERE address = ?1)")
            .map_err(self.failed("read the blocked chat addresses"))?;
        for address in addresses {
            let blocked: bool = statement
                .query_row([address], |r| r.get(0))
                .map_err(self.failed("read the blocked chat addresses"))?;
            if blocked {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl SqliteStore {
    /// Blocks `address` in a transaction of its own.
    pub fn block_chat_address(
        &mut self,
        address: &str,
        by: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        self.chat("block a chat address", |tx| {
            tx.block_address(address, by, now_ms)
        })
    }

    /// Whether any of `addresses` is blocked.
    pub fn chat_blocked(&mut self, addresses: &[&str]) -> Result<bool, StoreError> {
        self.chat("read the blocked chat addresses", |tx| {
            tx.any_blocked(addresses)
        })
    }
}
