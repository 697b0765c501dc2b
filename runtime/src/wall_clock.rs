//! The wall clock as the store and the APIs write it: milliseconds since the Unix epoch.
//! One function, so every record of "when" (a chat message, a contact, a kept
//! registration, an outbox retry) reads the same clock the same way. A clock before the
//! epoch reads 0; one past `u64::MAX` ms, `u64::MAX`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
