//! Blocked live-chat addresses ("Block anonymous user"): a visitor's network address or
//! visitor id, refused from then on.
//!
//! A network address is blocked as the source the limits count it as
//! (`crate::ip_source`): an IPv4 address, or an IPv6 address's whole /64, stored as
//! `2001:db8:1:2::/64`. One IPv6 visitor holds the /64 and can pick a new address in it
//! at will, so blocking the one address they wrote from would not keep them out. Rows
//! written before (a single IPv6 address) still refuse that address.

use super::SqliteStore;
use super::chat::{ChatTx, ms};
use crate::ip_source::source_label;
use rusqlite::params;
use std::net::IpAddr;
use switchboard_core::store::StoreError;

/// What a block of `address` is stored as: a network address's source (`192.0.2.7`,
/// `2001:db8:1:2::/64`); anything else (a visitor id) as it is.
pub fn block_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(ip) => source_label(ip),
        Err(_) => address.to_string(),
    }
}

impl ChatTx<'_> {
    /// Blocks `address` (a network address as its source, see `block_key`); blocking it
    /// again keeps the first block. Returns what was blocked, for the agents' note.
    pub fn block_address(
        &self,
        address: &str,
        by: &str,
        now_ms: u64,
    ) -> Result<String, StoreError> {
        let key = block_key(address);
        self.conn
            .prepare_cached(
                "INSERT INTO chat_blocked (address, blocked_by, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (address) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![key, by, ms(now_ms)]))
            .map_err(self.failed(&format!("block {key}")))?;
        Ok(key)
    }

    /// Whether any of `addresses` is blocked: a network address when its source is (or,
    /// from before sources, the address itself), a visitor id when it is.
    pub fn any_blocked(&self, addresses: &[&str]) -> Result<bool, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM chat_blocked WHERE address IN (?1, ?2))")
            .map_err(self.failed("read the blocked chat addresses"))?;
        for address in addresses {
            let blocked: bool = statement
                .query_row(params![address, block_key(address)], |r| r.get(0))
                .map_err(self.failed("read the blocked chat addresses"))?;
            if blocked {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl SqliteStore {
    /// Blocks `address` in a transaction of its own; what was blocked.
    pub fn block_chat_address(
        &mut self,
        address: &str,
        by: &str,
        now_ms: u64,
    ) -> Result<String, StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_address_is_blocked_as_its_64_and_others_as_they_are() {
        assert_eq!(block_key("2001:db8:1:2::5"), "2001:db8:1:2::/64");
        assert_eq!(block_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(block_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(
            block_key("v-0123456789abcdef0123"),
            "v-0123456789abcdef0123"
        );
    }

    #[test]
    fn a_blocked_64_refuses_its_every_address_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let what = store
            .block_chat_address("2001:db8:1:2::5", "101", 1)
            .unwrap();
        assert_eq!(what, "2001:db8:1:2::/64");
        assert!(store.chat_blocked(&["2001:db8:1:2::ffff"]).unwrap());
        assert!(
            store
                .chat_blocked(&["v-x", "2001:db8:1:2:a:b:c:d"])
                .unwrap()
        );
        assert!(!store.chat_blocked(&["2001:db8:1:3::5"]).unwrap());
        assert!(!store.chat_blocked(&["192.0.2.7", "v-x"]).unwrap());
        store.block_chat_address("v-x", "101", 2).unwrap();
        assert!(store.chat_blocked(&["192.0.2.7", "v-x"]).unwrap());
    }
}
