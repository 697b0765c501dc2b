//! What the SIP side holds right now, counted for the debug endpoint: a test (or an
//! admin chasing a leak) reads these before and after calls and sees nothing left
//! behind once they end.

use serde::Serialize;
use std::time::Instant;

use super::server::SipServer;

/// The SIP side's tables, each counted once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SipCounts {
    /// Call dialogs rsipstack holds (both the calls phones place and the ones we do).
    pub dialogs: usize,
    /// Transactions still running (finished ones linger a few seconds by design and
    /// are not counted).
    pub transactions: usize,
    /// Live subscriptions (message lamps, busy lamps, presence).
    pub subscriptions: usize,
    /// Live registered contacts.
    pub registrations: usize,
    /// Open SIP-over-TCP connections.
    pub tcp_connections: usize,
    /// Extensions whose line is ringing or in a call.
    pub busy_lines: usize,
}

impl SipServer {
    /// Counts what the server holds now.
    pub fn counts(&self) -> SipCounts {
        let shared = &self.shared;
        let now = Instant::now();
        SipCounts {
            dialogs: shared.dialogs.len(),
            transactions: shared.endpoint.get_stats().running_transactions,
            subscriptions: shared
                .subscriptions
                .lock()
                .expect("subscriptions lock")
                .live_count(now),
            registrations: {
                let mut registrar = shared.registrar.lock().expect("registrar lock");
                registrar.purge(now);
                registrar.contact_count()
            },
            tcp_connections: shared.gate.open_connections(),
            busy_lines: shared.lines.lock().expect("lines lock").busy(),
        }
    }
}
