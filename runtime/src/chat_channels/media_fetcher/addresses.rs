//! Which hosts a customer's file is fetched from: the providers' own (the hosts of the
//! configured `api-url`s, which an office may point at a gateway on its own network) and
//! otherwise public addresses only. A Messenger or Twilio link may name any host, and a
//! redirect may point anywhere; without this a link, a redirect, or a name resolving to
//! `127.0.0.1`, the office's LAN or a cloud's metadata address `169.254.169.254` would
//! have this server read its own network and hand the answer to the agents as a file or
//! a quoted error.
//!
//! A host is checked in two places, as a link names it in two ways: an address written
//! in the link (`https://10.0.0.5/…`) is refused before the request and on every redirect
//! (`refused_host`); a name is resolved by `PublicAddressesOnly`, which keeps only the
//! public addresses it resolves to, so the connection can only go to one of those.
//! Behind a proxy (`HTTPS_PROXY`, `ALL_PROXY`) the proxy resolves names and its rules
//! apply (reqwest would ask this resolver for the proxy's own name, often a LAN one);
//! an address written in a link is still refused here.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Whether `ip` is this machine, a private or shared network, link-local, multicast or
/// unspecified: never a provider's address on the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                // 100.64.0.0/10: a carrier's shared addresses, not the internet.
                || (a == 100 && (b & 0xC0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (first & 0xFE00) == 0xFC00
                || (first & 0xFFC0) == 0xFE80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// The hosts fetched from whatever their addresses: those of the configured `api-url`s.
#[derive(Clone, Debug, Default)]
pub struct TrustedHosts(Arc<Vec<String>>);

impl TrustedHosts {
    /// The hosts of `api_urls` (lowercase, IPv6 without brackets).
    pub fn of<'a>(api_urls: impl IntoIterator<Item = &'a str>) -> TrustedHosts {
        let hosts = api_urls
            .into_iter()
            .filter_map(|u| reqwest::Url::parse(u).ok())
            .filter_map(|u| u.host_str().map(bare))
            .collect();
        TrustedHosts(Arc::new(hosts))
    }

    fn holds(&self, host: &str) -> bool {
        self.0
            .iter()
            .any(|h| h.eq_ignore_ascii_case(bare(host).as_str()))
    }

    /// The host of `url` when it must not be fetched: an internal address written in
    /// the link, not one of the trusted hosts. A name is `PublicAddressesOnly`'s to check.
    pub fn refused_host(&self, url: &reqwest::Url) -> Option<String> {
        let Some(host) = url.host_str() else {
            return Some(String::new());
        };
        // The URL parser has already turned other spellings of an IPv4 address
        // (`2130706433`, `0x7f.1`) into dotted decimal.
        let internal = bare(host).parse::<IpAddr>().is_ok_and(is_internal);
        (internal && !self.holds(host)).then(|| host.to_string())
    }
}

/// `host` without an IPv6 address's brackets, lowercase.
fn bare(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Why a fetch was refused: its host is internal. Found among a request error's causes,
/// it makes the file a note rather than a retry.
#[derive(Debug)]
pub struct InternalAddress(pub String);

impl std::fmt::Display for InternalAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is on this machine or a private network, where a customer's file is never \
             fetched from",
            self.0
        )
    }
}

impl std::error::Error for InternalAddress {}

/// The `InternalAddress` among `e`'s causes, if any.
pub fn refused_as_internal<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a InternalAddress> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(internal) = c.downcast_ref::<InternalAddress>() {
            return Some(internal);
        }
        cause = c.source();
    }
    None
}

/// The system's resolver, keeping only the public addresses a name resolves to (all of
/// them for a trusted host); a name with none (`localhost`, an intranet name) is refused
/// with `InternalAddress`.
pub struct PublicAddressesOnly(pub TrustedHosts);

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let trusted = self.0.holds(name.as_str());
        Box::pin(addresses_of(name.as_str().to_string(), trusted))
    }
}

async fn addresses_of(
    host: String,
    trusted: bool,
) -> Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let kept: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
        .await?
        .filter(|a| trusted || !is_internal(a.ip()))
        .collect();
    if kept.is_empty() {
        return Err(Box::new(InternalAddress(host)));
    }
    Ok(Box::new(kept.into_iter()))
}

/// Whether this process sends its https requests through a proxy (reqwest reads these).
pub fn proxy_in_use() -> bool {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_told_from_public_ones() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["157.240.1.35", "54.172.60.0", "2a03:2880:f10c::1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn an_internal_address_in_a_link_is_refused_unless_it_is_an_api_urls_host() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let none = TrustedHosts::default();
        assert!(
            none.refused_host(&url("https://127.0.0.1:8443/a.png"))
                .is_some()
        );
        assert!(none.refused_host(&url("https://[::1]/a.png")).is_some());
        assert!(
            none.refused_host(&url("https://2130706433/a.png"))
                .is_some(),
            "127.0.0.1 in decimal"
        );
        assert!(
            none.refused_host(&url("https://scontent.xx.fbcdn.net/a.png"))
                .is_none()
        );
        assert!(
            none.refused_host(&url("https://157.240.1.35/a.png"))
                .is_none()
        );
        let gateway = TrustedHosts::of(["https://10.0.0.5/v21.0", "https://[fd00::7]:8443"]);
        assert!(
            gateway
                .refused_host(&url("https://10.0.0.5/media/1"))
                .is_none()
        );
        assert!(
            gateway
                .refused_host(&url("https://[fd00::7]:8443/m"))
                .is_none()
        );
        assert!(
            gateway
                .refused_host(&url("https://10.0.0.6/media/1"))
                .is_some()
        );
    }
}
