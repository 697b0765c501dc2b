//! RTP ports: even ports from the configured range, handed out round-robin (so a port
//! just freed is not reused at once and a late packet of the last call does not reach the
//! next), skipping any another program holds.

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
    /// The slot to try next.
    next: usize,
}

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
        self.pool.state().leased[slot] = false;
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
                    next: 0,
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

    /// Binds a UDP socket on the next free even port. Must be called inside a tokio
    /// runtime (the socket registers with its reactor).
    pub fn bind(&self) -> Result<BoundPort, PortError> {
        let mut state = self.inner.state();
        let slots = state.leased.len();
        for _ in 0..slots {
            let slot = state.next;
            state.next = (slot + 1) % slots;
            if state.leased[slot] {
                continue;
            }
            let port = self.inner.first + 2 * slot as u16;
            let addr = SocketAddr::new(self.inner.ip, port);
            match bind_udp(addr) {
                Ok(socket) => {
                    state.leased[slot] = true;
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
    fn free_range(n: u16) -> RangeInclusive<u16> {
        'search: for start in (41000..60000).step_by(200) {
            let held: Vec<_> = (0..n)
                .map(|i| std::net::UdpSocket::bind(("127.0.0.1", start + 2 * i)))
                .collect();
            if held.iter().any(Result::is_err) {
                continue 'search;
            }
            return start..=start + 2 * (n - 1);
        }
        panic!("no free port range on loopback");
    }

    #[tokio::test]
    async fn leases_even_ports_round_robin_and_returns_them() {
        let range = free_range(3);
        let first = *range.start();
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), first - 1..=first + 5).unwrap();
        let a = pool.bind().unwrap();
        let b = pool.bind().unwrap();
        assert_eq!(a.lease.port(), first);
        assert_eq!(b.lease.port(), first + 2);
        assert_eq!(a.socket.local_addr().unwrap().port(), first);
        assert_eq!(pool.in_use(), 2);
        drop(a);
        assert_eq!(pool.in_use(), 1);
        // Round-robin: the freed port comes back only after the others.
        let c = pool.bind().unwrap();
        assert_eq!(c.lease.port(), first + 4);
        let d = pool.bind().unwrap();
        assert_eq!(d.lease.port(), first);
        let err = pool.bind().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "every RTP port of 127.0.0.1 from {first} to {} is in use",
                first + 4
            )
        );
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
