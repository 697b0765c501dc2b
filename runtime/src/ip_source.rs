//! The network an address counts as, for every limit and block keyed by address: an IPv4
//! address itself, an IPv6 address's /64.
//!
//! One IPv6 host, or one customer line, usually holds a whole /64 and may pick any
//! address in it (privacy addresses change daily, a script can change one per request),
//! so counting or blocking a single IPv6 address would cost an attacker nothing. An
//! IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, an IPv4 client on a dual-stack socket)
//! counts as the IPv4 address it is.

use std::net::{IpAddr, Ipv6Addr};

/// The source `ip` counts against: the IPv4 address, or the IPv6 address's /64 (its
/// host bits zeroed).
pub fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & (u128::MAX << 64))),
        },
    }
}

/// The source as people read it: `192.0.2.7`, `2001:db8:1:2::/64`.
pub fn source_label(ip: IpAddr) -> String {
    match source_of(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(net) => format!("{net}/64"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_is_itself_and_ipv6_is_its_64() {
        assert_eq!(source_of(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(source_of(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(source_of(ip("2001:db8:1:2::5")), ip("2001:db8:1:2::"));
        assert_eq!(
            source_of(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            source_of(ip("2001:db8:1:2::ffff"))
        );
        assert_ne!(
            source_of(ip("2001:db8:1:2::5")),
            source_of(ip("2001:db8:1:3::5"))
        );
        assert_eq!(source_label(ip("2001:db8:1:2::5")), "2001:db8:1:2::/64");
        assert_eq!(source_label(ip("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(source_label(ip("192.0.2.7")), "192.0.2.7");
    }
}
