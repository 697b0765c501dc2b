//! RTP ports: even ports from the configured range, skipping any another program holds.
//!
//! A port is picked at random among the free ones. Handed out in order, the next call's
//! port could be guessed, and an attacker who sent RTP to it first could be taken for the
//! caller (issue 12, "media that belongs to the call"). A port just freed rests while
//! others are free, so a late packet of the last call does not reach the next.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;

/// A shared pool of RTP ports on one address; clones share it.
#[derive(Clone, Debug)]
pub struct PortPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ip: IpAddr,
    /// The first even port of the range.
    first: u16,
    /// Lives as long as the pool; locked only to pick or return a port.
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Slot `i` is port `first + 2 * i`; true while a lease holds it.
    leased: Vec<bool>,
    /// Slots freed lately, oldest first: taken again only when no other slot is free.
    resting: VecDeque<usize>,
}

/// How many freed ports rest at most (and at most half the range).
const RESTING: usize = 64;

/// A bound RTP socket and the lease that keeps its port out of the pool.
#[derive(Debug)]
pub struct BoundPort {
    pub socket: UdpSocket,
    pub lease: PortLease,
}

/// Holds a port; dropping it returns the port to the pool. Keep it for as long as the
/// socket lives (the media session owns the socket; the call owns the lease).
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<Inner>,
    port: u16,
}

impl PortLease {
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        let slot = usize::from((self.port - self.pool.first) / 2);
        let mut state = self.pool.state();
        state.leased[slot] = false;
        let cap = RESTING.min(state.leased.len() / 2);
        state.resting.push_back(slot);
        while state.resting.len() > cap {
            state.resting.pop_front();
        }
    }
}

#[derive(Debug)]
pub enum PortError {
    /// The range holds no even port.
    EmptyRange(RangeInclusive<u16>),
    /// Every port of the range is leased or held by another program.
    Exhausted { ip: IpAddr, first: u16, last: u16 },
    /// Binding failed for another reason than the port being in use (say, an address
    /// this machine does not have).
    Bind(SocketAddr, io::Error),
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::EmptyRange(r) => {
                write!(
                    f,
                    "the RTP port range {}-{} has no even port",
                    r.start(),
                    r.end()
                )
            }
            PortError::Exhausted { ip, first, last } => {
                write!(f, "every RTP port of {ip} from {first} to {last} is in use")
            }
            PortError::Bind(addr, e) => write!(f, "cannot bind RTP to {addr}: {e}"),
        }
    }
}

impl std::error::Error for PortError {}

impl PortPool {
    /// The even ports of `range` on `ip`.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Result<PortPool, PortError> {
        let first = range.start().saturating_add(range.start() % 2);
        if first > *range.end() || first % 2 == 1 {
            return Err(PortError::EmptyRange(range));
        }
        let slots = usize::from((range.end() - first) / 2) + 1;
        Ok(PortPool {
            inner: Arc::new(Inner {
                ip,
                first,
                state: Mutex::new(State {
                    leased: vec![false; slots],
                    resting: VecDeque::new(),
                }),
            }),
        })
    }

    pub fn ip(&self) -> IpAddr {
        self.inner.ip
    }

    /// How many ports are leased now.
    pub fn in_use(&self) -> usize {
        self.inner.state().leased.iter().filter(|l| **l).count()
    }

    /// Binds a UDP socket on a free even port picked at random, one that did not just
    /// rest if any other is free. Must be called inside a tokio runtime (the socket
    /// registers with its reactor).
    pub fn bind(&self) -> Result<BoundPort, PortError> {
        let mut state = self.inner.state();
        let slots = state.leased.len();
        // Without randomness from the system (it does not fail on Linux) the search
        // starts at the first port: the pool still works, only guessably.
        let start = getrandom::u64().unwrap_or(0) as usize % slots;
        for allow_resting in [false, true] {
            for i in 0..slots {
                let slot = (start + i) % slots;
                if state.leased[slot] || (!allow_resting && state.resting.contains(&slot)) {
                    continue;
                }
                let port = self.inner.first + 2 * slot as u16;
                let addr = SocketAddr::new(self.inner.ip, port);
                match bind_udp(addr) {
                    Ok(socket) => {
                        state.leased[slot] = true;
                        state.resting.retain(|s| *s != slot);
                        return Ok(BoundPort {
                            socket,
                            lease: PortLease {
                                pool: self.inner.clone(),
                                port,
                            },
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                    Err(e) => return Err(PortError::Bind(addr, e)),
                }
            }
        }
        Err(PortError::Exhausted {
            ip: self.inner.ip,
            first: self.inner.first,
            last: self.inner.first + 2 * (slots as u16 - 1),
        })
    }
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain fields: a panic while holding the lock leaves it usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range of `n` even ports on loopback that nobody holds now, found by binding.
    ///
    /// The tests of this binary run in parallel and each one gives its ports back before
    /// its pool binds them, so each call searches its own block (a shared counter hands
    /// them out), and the blocks lie below the kernel's ephemeral range (32768 and up),
    /// where no other program is given a port without asking for it.
    fn free_range(n: u16) -> RangeInclusive<u16> {
        use std::sync::atomic::{AtomicU16, Ordering};
        static NEXT_BLOCK: AtomicU16 = AtomicU16::new(21000);
        loop {
            let start = NEXT_BLOCK.fetch_add(400, Ordering::Relaxed);
            assert!(start < 32000, "no free port range on loopback");
            let held: Vec<_> = (0..n)
                .map(|i| std::net::UdpSocket::bind(("127.0.0.1", start + 2 * i)))
                .collect();
            if held.iter().all(Result::is_ok) {
                return start..=start + 2 * (n - 1);
            }
        }
    }

    #[tokio::test]
    async fn leases_even_ports_and_a_freed_one_rests_while_others_are_free() {
        let range = free_range(3);
        let first = *range.start();
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), first - 1..=first + 5).unwrap();
        let ports = [first, first + 2, first + 4];
        let a = pool.bind().unwrap();
        let b = pool.bind().unwrap();
        for lease in [&a, &b] {
            assert!(
                ports.contains(&lease.lease.port()),
                "{}",
                lease.lease.port()
            );
            assert_eq!(
                lease.socket.local_addr().unwrap().port(),
                lease.lease.port()
            );
        }
        assert_ne!(a.lease.port(), b.lease.port());
        assert_eq!(pool.in_use(), 2);
        let freed = a.lease.port();
        drop(a);
        assert_eq!(pool.in_use(), 1);
        // The freed port rests: the third one is taken first, then the freed one.
        let c = pool.bind().unwrap();
        let third = ports
            .iter()
            .find(|p| **p != freed && **p != b.lease.port())
            .copied()
            .unwrap();
        assert_eq!(c.lease.port(), third);
        let d = pool.bind().unwrap();
        assert_eq!(d.lease.port(), freed);
        let err = pool.bind().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "every RTP port of 127.0.0.1 from {first} to {} is in use",
                first + 4
            )
        );
    }

    /// The next call's port cannot be guessed from the last one's.
    #[tokio::test]
    async fn ports_are_not_handed_out_in_order() {
        let range = free_range(100);
        let first = *range.start();
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), range.clone()).unwrap();
        let leases: Vec<_> = (0..10).map(|_| pool.bind().unwrap()).collect();
        let ports: Vec<u16> = leases.iter().map(|l| l.lease.port()).collect();
        let in_order = ports.windows(2).all(|w| w[1] == w[0] + 2);
        assert!(!in_order, "ten ports in a row: {ports:?}");
        // Fresh pools do not all start at the bottom of the range either.
        drop(leases);
        let firsts: Vec<u16> = (0..10)
            .map(|_| {
                let pool = PortPool::new("127.0.0.1".parse().unwrap(), range.clone()).unwrap();
                pool.bind().unwrap().lease.port()
            })
            .collect();
        assert!(firsts.iter().any(|p| *p != first), "{firsts:?}");
    }

    #[tokio::test]
    async fn skips_ports_another_program_holds() {
        let range = free_range(2);
        let first = *range.start();
        let _other = std::net::UdpSocket::bind(("127.0.0.1", first)).unwrap();
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), range).unwrap();
        assert_eq!(pool.bind().unwrap().lease.port(), first + 2);
    }

    #[tokio::test]
    async fn bad_ranges_and_addresses() {
        assert!(matches!(
            PortPool::new("127.0.0.1".parse().unwrap(), 10001..=10001),
            Err(PortError::EmptyRange(_))
        ));
        // An address this machine does not have.
        let pool = PortPool::new("192.0.2.1".parse().unwrap(), 10000..=10002).unwrap();
        assert!(matches!(pool.bind(), Err(PortError::Bind(..))));
    }
}
