//! The visitor's network address: what limits count and Block refuses (both as its
//! source, `crate::ip_source`: an IPv6 visitor's whole /64), and Information shows.
//!
//! It is the socket's peer, unless the peer is one of the reverse proxies the admin
//! listed (`chat.livechat.trusted-proxies`): then it is the address that proxy says it
//! forwarded for, in `X-Forwarded-For`. Each proxy appends the address it heard from, so
//! the header is read from the right, past the listed proxies; the first other address
//! is the visitor, and anything left of it may have been written by the visitor
//! themselves. An unlisted peer's `X-Forwarded-For` is ignored: any client can write one.

use axum::http::HeaderMap;
use std::net::IpAddr;

pub fn visitor_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Not an address (`unknown`, a port): nothing left of it can be trusted.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_unlisted_peer_is_the_visitor_whatever_it_claims() {
        let h = forwarded(&["198.51.100.7"]);
        assert_eq!(
            visitor_address(ip("203.0.113.9"), &h, &[]),
            ip("203.0.113.9")
        );
        let proxy = [ip("10.0.0.2")];
        assert_eq!(
            visitor_address(ip("203.0.113.9"), &h, &proxy),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_listed_proxies_the_first_unlisted_hop_from_the_right_is_the_visitor() {
        let proxies = [ip("10.0.0.2"), ip("10.0.0.3")];
        // The visitor wrote a made-up first hop; the proxies appended the real one.
        let h = forwarded(&["1.2.3.4, 198.51.100.7", "10.0.0.3"]);
        assert_eq!(
            visitor_address(ip("10.0.0.2"), &h, &proxies),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        let none = HeaderMap::new();
        assert_eq!(
            visitor_address(ip("10.0.0.2"), &none, &proxies),
            ip("10.0.0.2")
        );
        let junk = forwarded(&["198.51.100.7, unknown"]);
        assert_eq!(
            visitor_address(ip("10.0.0.2"), &junk, &proxies),
            ip("10.0.0.2")
        );
        // An IPv4 peer on an IPv6 socket is still the listed proxy.
        assert_eq!(
            visitor_address(ip("::ffff:10.0.0.2"), &h, &proxies),
            ip("198.51.100.7")
        );
    }
}
