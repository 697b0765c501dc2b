//! SIP-over-TCP connections, sans-IO: how many are open from each address and in all,
//! and which have sent a whole message yet.
//!
//! Each connection costs a descriptor and a task. Without a bound, 20,000 idle
//! connections exhaust the descriptors and calls get 503; here a connection past
//! [`ConnectionLimits::per_address`] or [`ConnectionLimits::total`] is closed as soon as
//! it is accepted, and one that has not sent a complete SIP message within
//! [`FIRST_MESSAGE_DEADLINE`] is closed by the accept loop (a phone sends its REGISTER
//! the moment it connects). After its first message a connection lives by rsipstack's
//! idle timeout (5 minutes without a byte).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long a new connection may take to send its first complete message.
pub const FIRST_MESSAGE_DEADLINE: Duration = Duration::from_secs(10);

/// The bounds on open connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From one address: an office's phones behind one NAT address share it.
    pub per_address: usize,
    /// In all.
    pub total: usize,
}

impl ConnectionLimits {
    /// Limits that leave most of the process's `descriptors` to RTP and the store: a
    /// quarter of them for SIP over TCP (each connection may briefly hold two while it
    /// is young), at most 2,048.
    pub fn for_descriptors(descriptors: u64) -> ConnectionLimits {
        let total = (descriptors / 4).clamp(16, 2048) as usize;
        ConnectionLimits {
            per_address: total.min(256),
            total,
        }
    }
}

/// Why a connection was closed at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    TooManyFromAddress,
    TooMany,
}

/// The open connections.
pub struct ConnectionTable {
    limits: ConnectionLimits,
    per_address: HashMap<IpAddr, usize>,
    open: HashMap<SocketAddr, bool>,
}

impl ConnectionTable {
    pub fn new(limits: ConnectionLimits) -> ConnectionTable {
        ConnectionTable {
            limits,
            per_address: HashMap::new(),
            open: HashMap::new(),
        }
    }

    /// A connection from `remote` was accepted: count it, or say why to close it.
    pub fn open(&mut self, remote: SocketAddr) -> Result<(), Refusal> {
        if self.open.contains_key(&remote) {
            // The same address and port again: the old one is on its way out.
            return Ok(());
        }
        if self.open.len() >= self.limits.total {
            return Err(Refusal::TooMany);
        }
        let from_address = self.per_address.entry(remote.ip()).or_default();
        if *from_address >= self.limits.per_address {
            return Err(Refusal::TooManyFromAddress);
        }
        *from_address += 1;
        self.open.insert(remote, false);
        Ok(())
    }

    /// A complete message arrived on the connection from `remote`.
    pub fn spoke(&mut self, remote: SocketAddr) {
        if let Some(spoken) = self.open.get_mut(&remote) {
            *spoken = true;
        }
    }

    /// Whether the connection from `remote` is open and has not sent a message yet.
    pub fn is_silent(&self, remote: SocketAddr) -> bool {
        self.open.get(&remote) == Some(&false)
    }

    /// The connection from `remote` closed. Connections this table never counted (the
    /// server's own, made to reach a phone) are ignored.
    pub fn closed(&mut self, remote: SocketAddr) {
        if self.open.remove(&remote).is_none() {
            return;
        }
        if let Some(n) = self.per_address.get_mut(&remote.ip()) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&remote.ip());
            }
        }
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ip: [u8; 4], port: u16) -> SocketAddr {
        SocketAddr::from((ip, port))
    }

    #[test]
    fn connections_are_bounded_per_address_and_in_all() {
        let mut table = ConnectionTable::new(ConnectionLimits {
            per_address: 2,
            total: 3,
        });
        assert_eq!(table.open(at([10, 0, 0, 1], 1)), Ok(()));
        assert_eq!(table.open(at([10, 0, 0, 1], 2)), Ok(()));
        assert_eq!(
            table.open(at([10, 0, 0, 1], 3)),
            Err(Refusal::TooManyFromAddress)
        );
        assert_eq!(table.open(at([10, 0, 0, 2], 1)), Ok(()));
        assert_eq!(table.open(at([10, 0, 0, 3], 1)), Err(Refusal::TooMany));
        table.closed(at([10, 0, 0, 1], 1));
        assert_eq!(table.open(at([10, 0, 0, 3], 1)), Ok(()));
        assert_eq!(table.len(), 3);
        // A close of a connection never counted changes nothing.
        table.closed(at([10, 9, 9, 9], 9));
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn a_connection_is_silent_until_it_sends_a_message() {
        let mut table = ConnectionTable::new(ConnectionLimits::for_descriptors(1024));
        let phone = at([10, 0, 0, 1], 5060);
        table.open(phone).unwrap();
        assert!(table.is_silent(phone));
        table.spoke(phone);
        assert!(!table.is_silent(phone));
        table.closed(phone);
        assert!(!table.is_silent(phone), "a closed connection is nothing");
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn limits_leave_most_descriptors_to_the_rest() {
        assert_eq!(
            ConnectionLimits::for_descriptors(1024),
            ConnectionLimits {
                per_address: 256,
                total: 256
            }
        );
        assert_eq!(ConnectionLimits::for_descriptors(1 << 20).total, 2048);
        assert_eq!(ConnectionLimits::for_descriptors(20).total, 16);
    }
}
