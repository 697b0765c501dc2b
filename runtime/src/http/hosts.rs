//! The names the HTTP API answers to, and the middleware that refuses every other `Host`.
//!
//! DNS rebinding: a page on `attacker.example` makes its name resolve to this server's
//! address, and the browser on the office LAN then lets the page read the API, since to
//! the browser it is the page's own origin. The browser still sends `Host:
//! attacker.example`, so answering only to our own names closes the hole.
//!
//! Names are compared without their port. A browser always sends the port it connected to
//! (or none for 80), so a port check would refuse a reverse proxy's requests and stop no
//! attack: what an attacker cannot choose is the *name*.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// One name a `Host` may carry: a DNS name or an IP address, lower case, IPv6 in brackets,
/// without a port or a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostName(String);

impl HostName {
    /// Reads a name as the `http-names` setting takes it: `pbx.office.example`,
    /// `10.0.0.5`, `[fd00::5]` (or `fd00::5`).
    pub fn parse(text: &str) -> Result<HostName, String> {
        let text = text.trim();
        if let Ok(ip) = text
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
        {
            return Ok(HostName::from_ip(ip));
        }
        let name = text.strip_suffix('.').unwrap_or(text);
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(format!(
                "`{text}` is not a host name; write the name the admin types in the browser, \
                 without http:// or a port, like pbx.office.example or 10.0.0.5"
            ));
        }
        Ok(HostName(name.to_ascii_lowercase()))
    }

    fn from_ip(ip: IpAddr) -> HostName {
        match ip {
            IpAddr::V4(v4) => HostName(v4.to_string()),
            IpAddr::V6(v6) => HostName(format!("[{v6}]")),
        }
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every name the API answers to.
#[derive(Clone, Debug)]
pub struct HostNames(Vec<HostName>);

impl HostNames {
    /// The loopback names, the address the API listens on (unless it is 0.0.0.0 or `::`,
    /// which no browser can name), and the admin's `extra` names.
    pub fn new(listening: SocketAddr, extra: &[HostName]) -> HostNames {
        let mut names: Vec<HostName> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(|n| HostName(n.to_string()))
            .collect();
        if !listening.ip().is_unspecified() {
            names.push(HostName::from_ip(listening.ip()));
        }
        for name in extra {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        HostNames(names)
    }

    /// Whether `host` (a `Host` header's value: a name, an optional port) is one of ours.
    pub fn allows(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
            return false;
        };
        if host.contains('@') {
            return false;
        }
        let name = authority.host();
        let name = name.strip_suffix('.').unwrap_or(name);
        self.0.iter().any(|n| n.0.eq_ignore_ascii_case(name))
    }
}

/// Paths answered whatever the `Host`: a load balancer probes `/healthz` by address, and
/// its answer (`ok`) tells a web page nothing.
const OPEN_PATHS: &[&str] = &["/healthz"];

/// Refuses a request whose `Host` is not one of `names` with 421 Misdirected Request and
/// a message naming the setting that would let it in.
pub async fn check_host(
    State(names): State<Arc<HostNames>>,
    request: Request,
    next: Next,
) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    // An absolute-form request line (`GET http://name/ HTTP/1.1`) names the host itself
    // and wins over the header (RFC 9112, section 3.2.2).
    let host = match request.uri().authority() {
        Some(a) => Some(a.as_str().to_string()),
        None => request
            .headers()
            .get(header::HOST)
            .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned()),
    };
    match host {
        Some(h) if names.allows(&h) => next.run(request).await,
        Some(h) => refuse(&h),
        None => super::error_json::answer(
            StatusCode::BAD_REQUEST,
            "this request has no Host header; send one: the Switchboard API answers only to \
             its configured names (the `http-names` setting)",
        ),
    }
}

fn refuse(host: &str) -> Response {
    // The name is echoed to help the admin; cut it so a request cannot make the answer
    // large, and keep it printable.
    let shown: String = host
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    let name = shown.rsplit_once(':').map_or(shown.as_str(), |(n, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) && !n.ends_with(':') {
            n
        } else {
            shown.as_str()
        }
    });
    super::error_json::answer(
        StatusCode::MISDIRECTED_REQUEST,
        format!(
            "this Switchboard does not answer to the name `{shown}`. If that is its name, \
             add it to the setting `http-names` (the flag --http-names {name}, or \
             `http-names: {name}` in the config file). Unknown names are refused so that \
             a web page cannot reach the API through DNS rebinding."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(extra: &[&str]) -> HostNames {
        let extra: Vec<HostName> = extra.iter().map(|n| HostName::parse(n).unwrap()).collect();
        HostNames::new("0.0.0.0:8080".parse().unwrap(), &extra)
    }

    #[test]
    fn names_match_without_port_or_case() {
        let n = names(&["PBX.office.example.", "fd00::5"]);
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "pbx.office.example",
            "Pbx.Office.Example.:443",
            "[fd00::5]:8080",
        ] {
            assert!(n.allows(ok), "{ok}");
        }
        for refused in [
            "attacker.example",
            "attacker.example:8080",
            "0.0.0.0:8080",
            "localhost.attacker.example",
            "pbx.office.example@attacker.example",
            "",
            "a b",
        ] {
            assert!(!n.allows(refused), "{refused}");
        }
    }

    #[test]
    fn the_listening_address_is_a_name_unless_unspecified() {
        let n = HostNames::new("10.0.0.5:8080".parse().unwrap(), &[]);
        assert!(n.allows("10.0.0.5:8080"));
        assert!(!n.allows("10.0.0.6:8080"));
    }

    #[test]
    fn the_setting_refuses_urls_and_ports() {
        for bad in ["http://pbx", "pbx:8080", "pbx/x", "", "a..b"] {
            assert!(HostName::parse(bad).is_err(), "{bad}");
        }
    }
}
