//! The address of ours a phone can reach: what goes into Contact and into the `c=`
//! line of our SDP for that phone.
//!
//! A server bound to `0.0.0.0` has one address per interface, and the right one
//! depends on the phone: a softphone on the same machine reaches it at 127.0.0.1, a
//! desk phone on the LAN at the LAN address, a phone on a VPN at the VPN address.
//! Advertising one fixed address (the default route's, as the server once did) sends a
//! loopback phone's media to a LAN address it may not be allowed to use.
//!
//! The answer here is the address the kernel would send *from* when replying to the
//! phone: a UDP socket `connect`ed to the phone's address and asked for its
//! `local_addr`. Connecting a UDP socket only consults the routing table; no packet
//! is sent. The alternative, `IP_PKTINFO` on the listening socket, gives the
//! destination address of each datagram exactly, but rsipstack owns the receive loop
//! and carries no per-datagram local address through to a transaction, and TCP would
//! need its own path; the route answer is the same address in every case but
//! asymmetric routing, and serves UDP and TCP alike. The answer is cached per
//! phone address, so the syscalls happen once per phone, not once per request.
//!
//! `public-ip`, when set, wins over all of this: it is for a server behind NAT, whose
//! phones must be told the NAT's outside address. Phones behind NAT are handled
//! elsewhere (`rport`, and dialog targets following the request's source).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::sync::Mutex;

/// Past this many cached phone addresses, the cache starts over: a flood of sources
/// must not grow it without bound.
const MAX_CACHED: usize = 4096;

/// Which of our addresses to advertise to whom.
pub struct Reach {
    /// The configured `public-ip`, advertised to everyone.
    fixed: Option<IpAddr>,
    /// The address the SIP sockets are bound to; a specific one is the only one.
    bound: IpAddr,
    /// Phone address to our address; locked only for a look-up or an insert.
    cache: Mutex<HashMap<IpAddr, IpAddr>>,
}

impl Reach {
    pub fn new(fixed: Option<IpAddr>, bound: IpAddr) -> Reach {
        Reach {
            fixed,
            bound,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Our address as `peer` reaches it.
    pub fn for_peer(&self, peer: IpAddr) -> IpAddr {
        if let Some(ip) = self.fixed {
            return ip;
        }
        if !self.bound.is_unspecified() {
            return self.bound;
        }
        if let Some(ip) = self.cache.lock().expect("reach cache").get(&peer) {
            return *ip;
        }
        let ip = route_source(peer).unwrap_or_else(|| self.default_ip());
        let mut cache = self.cache.lock().expect("reach cache");
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(peer, ip);
        ip
    }

    /// Our address for whoever has no address yet (Via of requests the stack makes on
    /// its own, Call-ID suffixes): `public-ip`, the bound address, or the address of
    /// the interface the default route uses, else loopback.
    pub fn default_ip(&self) -> IpAddr {
        if let Some(ip) = self.fixed {
            return ip;
        }
        if !self.bound.is_unspecified() {
            return self.bound;
        }
        // TEST-NET-1 stands for "somewhere out there": only the route is looked up.
        route_source(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// The source address the kernel picks for packets to `peer`, found without sending
/// anything; none when there is no route.
fn route_source(peer: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = match peer {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind((any, 0)).ok()?;
    // The port does not matter for the route; 9 is "discard".
    socket.connect((peer, 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    #[test]
    fn a_loopback_phone_reaches_us_on_loopback_when_bound_to_every_interface() {
        let reach = Reach::new(None, ANY);
        assert_eq!(reach.for_peer(LOOPBACK), LOOPBACK);
        // Any address in 127/8 is routed over the loopback interface, from 127.0.0.1.
        assert_eq!(
            reach.for_peer(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9))),
            LOOPBACK
        );
    }

    #[test]
    fn public_ip_and_a_specific_bind_win() {
        let public: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(Reach::new(Some(public), ANY).for_peer(LOOPBACK), public);
        assert_eq!(Reach::new(Some(public), ANY).default_ip(), public);
        let bound: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(Reach::new(None, bound).for_peer(LOOPBACK), bound);
        assert_eq!(Reach::new(None, bound).default_ip(), bound);
    }

    #[test]
    fn the_cache_is_bounded() {
        let reach = Reach::new(None, ANY);
        for i in 0..(MAX_CACHED as u32 + 10) {
            let [_, a, b, c] = i.to_be_bytes();
            reach.for_peer(IpAddr::V4(Ipv4Addr::new(127, a, b, c)));
        }
        assert!(reach.cache.lock().unwrap().len() <= MAX_CACHED);
    }
}
