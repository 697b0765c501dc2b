//! `chat.livechat` in the config file: the website live chat's name, the sites that
//! may embed it, and how much one network may do.
//!
//! ```yaml
//! chat:
//!   livechat:
//!     office-name: Example Dental          # shown at the top of the widget
//!     allowed-origins:                     # the pages' origins: scheme, host, port
//!       - https://www.example-dental.com
//!       - https://example-dental.com
//!     trusted-proxies: [10.0.0.2]          # reverse proxies in front of Switchboard
//!     per-network:                         # one IPv4 address or one IPv6 /64
//!       messages-per-minute: 30
//!       new-chats-per-10-minutes: 5
//!       new-visitors-per-10-minutes: 20
//! ```
//!
//! With no `allowed-origins` no page may open the chat's socket: the widget is opt-in
//! per site (`http/livechat/origin`). Behind a reverse proxy, list its address under
//! `trusted-proxies`, so a visitor's address (what limits count and Block refuses) is the
//! one it forwarded for rather than the proxy's own (`http/livechat/peer`).
//!
//! `per-network` sets the limits one network shares across all its visitors
//! (`http/livechat/limits`); the defaults are those above. Offices differ: customers
//! behind a mobile carrier's shared addresses (thousands of phones behind one IPv4
//! address) or a university's NAT are one network here, and would be refused at five
//! new chats in ten minutes, so such a site raises them; a small office keeps them tight.
//! The per-visitor limit (5 messages in 10 seconds) is not a setting: it holds one person
//! to a human typing speed, which no office's customers exceed, and a shared address does
//! not touch it (each visitor has their own).

use crate::http::livechat::limits::{
    CONVERSATIONS_PER_ADDRESS, MESSAGES_PER_ADDRESS, VISITORS_PER_ADDRESS,
};
use serde::Deserialize;
use std::net::IpAddr;

/// The name the widget shows when the config gives none.
pub const DEFAULT_OFFICE_NAME: &str = "Live chat";

/// The keys `chat.livechat` may hold, for suggestions.
pub const LIVECHAT_KEYS: &[&str] = &[
    "office-name",
    "allowed-origins",
    "trusted-proxies",
    "per-network",
];

/// The keys `chat.livechat.per-network` may hold, for suggestions.
pub const PER_NETWORK_KEYS: &[&str] = &[
    "messages-per-minute",
    "new-chats-per-10-minutes",
    "new-visitors-per-10-minutes",
];

/// The largest number a `per-network` limit takes: far above any real office's traffic
/// from one network, and small enough that a typo of many digits is caught.
pub const MAX_PER_NETWORK: u64 = 100_000;

/// `chat.livechat` as the file spells it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LivechatSettings {
    #[serde(default)]
    office_name: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default)]
    per_network: PerNetworkSettings,
}

/// `chat.livechat.per-network` as the file spells it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PerNetworkSettings {
    #[serde(default)]
    messages_per_minute: Option<WrittenNumber>,
    #[serde(default)]
    new_chats_per_10_minutes: Option<WrittenNumber>,
    #[serde(default)]
    new_visitors_per_10_minutes: Option<WrittenNumber>,
}

/// A value written where a whole number belongs: the number, or `None` for anything else
/// (`-1`, `ten`, `2.5`), so that gets words naming the key rather than a parser's type
/// error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WrittenNumber(Option<u64>);

impl<'de> Deserialize<'de> for WrittenNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WrittenNumber, D::Error> {
        Ok(WrittenNumber(serde_norway::Value::deserialize(d)?.as_u64()))
    }
}

/// How much one network (an IPv4 address, or an IPv6 /64) may do, all its visitors
/// together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerNetworkLimits {
    /// Messages stored per minute.
    pub messages_per_minute: usize,
    /// New conversations started per 10 minutes.
    pub new_chats_per_10_minutes: usize,
    /// New visitors (tokens it has not said hello with lately) per 10 minutes.
    pub new_visitors_per_10_minutes: usize,
}

impl Default for PerNetworkLimits {
    fn default() -> PerNetworkLimits {
        PerNetworkLimits {
            messages_per_minute: MESSAGES_PER_ADDRESS,
            new_chats_per_10_minutes: CONVERSATIONS_PER_ADDRESS,
            new_visitors_per_10_minutes: VISITORS_PER_ADDRESS,
        }
    }
}

/// The live chat's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivechatConfig {
    pub office_name: String,
    /// Lowercase `scheme://host[:port]`, as a browser's `Origin` header spells them.
    pub allowed_origins: Vec<String>,
    /// The reverse proxies whose `X-Forwarded-For` names the visitor.
    pub trusted_proxies: Vec<IpAddr>,
    /// The limits one network shares (`chat.livechat.per-network`).
    pub per_network: PerNetworkLimits,
}

impl Default for LivechatConfig {
    fn default() -> LivechatConfig {
        LivechatConfig {
            office_name: DEFAULT_OFFICE_NAME.to_string(),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            per_network: PerNetworkLimits::default(),
        }
    }
}

impl LivechatSettings {
    /// The checked settings; the error is the key (`chat.livechat.allowed-origins`) and
    /// what to write there.
    pub fn resolve(&self) -> Result<LivechatConfig, (String, String)> {
        let office_name = match &self.office_name {
            None => DEFAULT_OFFICE_NAME.to_string(),
            Some(name) => {
                let name = name.trim();
                if name.is_empty() || name.chars().count() > 80 {
                    return Err((
                        "chat.livechat.office-name".into(),
                        "write the name visitors see, 1 to 80 characters, like `Example Dental`"
                            .into(),
                    ));
                }
                name.to_string()
            }
        };
        let allowed_origins = self
            .allowed_origins
            .iter()
            .map(|o| origin(o))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ("chat.livechat.allowed-origins".to_string(), e))?;
        let trusted_proxies =
            self.trusted_proxies
                .iter()
                .map(|p| {
                    p.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()).map_err(|_| {
                    format!(
                        "`{p}` is not an IP address; list each proxy's address as Switchboard \
                         sees it, like 10.0.0.2, without a port"
                    )
                })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ("chat.livechat.trusted-proxies".to_string(), e))?;
        Ok(LivechatConfig {
            office_name,
            allowed_origins,
            trusted_proxies,
            per_network: self.per_network.resolve()?,
        })
    }
}

impl PerNetworkSettings {
    fn resolve(&self) -> Result<PerNetworkLimits, (String, String)> {
        let defaults = PerNetworkLimits::default();
        Ok(PerNetworkLimits {
            messages_per_minute: limit(
                "messages-per-minute",
                &self.messages_per_minute,
                defaults.messages_per_minute,
            )?,
            new_chats_per_10_minutes: limit(
                "new-chats-per-10-minutes",
                &self.new_chats_per_10_minutes,
                defaults.new_chats_per_10_minutes,
            )?,
            new_visitors_per_10_minutes: limit(
                "new-visitors-per-10-minutes",
                &self.new_visitors_per_10_minutes,
                defaults.new_visitors_per_10_minutes,
            )?,
        })
    }
}

/// The per-network limit `key` as written, or `default` when it is not; a whole number
/// from 1 to `MAX_PER_NETWORK`. Zero is refused rather than read as "no chat": an office
/// that wants no live chat leaves `allowed-origins` empty.
fn limit(
    key: &str,
    given: &Option<WrittenNumber>,
    default: usize,
) -> Result<usize, (String, String)> {
    let Some(WrittenNumber(written)) = given else {
        return Ok(default);
    };
    match *written {
        Some(n) if (1..=MAX_PER_NETWORK).contains(&n) => Ok(n as usize),
        _ => Err((
            format!("chat.livechat.per-network.{key}"),
            format!(
                "write a whole number from 1 to {MAX_PER_NETWORK}, like `{default}` (the \
                 default); it counts one IPv4 address or one IPv6 /64, all its visitors \
                 together"
            ),
        )),
    }
}

/// A web page's origin as a browser names it: `https://host` or `http://host:port`, no
/// path; kept lowercase and without a trailing `/`.
fn origin(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match host {
        Some(h)
            if !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)) =>
        {
            Ok(lower)
        }
        _ => Err(format!(
            "`{text}` is not a web page's origin; write the scheme and host (and port when \
             it is not the usual one), no path, like https://www.example.com"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> LivechatSettings {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn origins_are_kept_as_browsers_spell_them() {
        let config = yaml(
            "office-name: Example Dental\nallowed-origins: [https://WWW.Example.com/, \
             'http://localhost:8081']\n",
        )
        .resolve()
        .unwrap();
        assert_eq!(config.office_name, "Example Dental");
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(
            config.allowed_origins,
            ["https://www.example.com", "http://localhost:8081"]
        );
        assert_eq!(
            LivechatSettings::default().resolve().unwrap(),
            LivechatConfig::default()
        );
    }

    #[test]
    fn a_path_or_another_scheme_is_not_an_origin() {
        for bad in [
            "www.example.com",
            "https://www.example.com/chat",
            "ftp://x",
            "https://",
        ] {
            let (key, e) = yaml(&format!("allowed-origins: ['{bad}']\n"))
                .resolve()
                .unwrap_err();
            assert_eq!(key, "chat.livechat.allowed-origins");
            assert!(e.contains("https://www.example.com"), "{bad}: {e}");
        }
        let (key, _) = yaml("office-name: '  '\n").resolve().unwrap_err();
        assert_eq!(key, "chat.livechat.office-name");
        let (key, e) = yaml("trusted-proxies: ['10.0.0.2:443']\n")
            .resolve()
            .unwrap_err();
        assert_eq!(key, "chat.livechat.trusted-proxies");
        assert!(e.contains("without a port"), "{e}");
    }

    #[test]
    fn per_network_limits_default_to_the_limits_constants_and_take_a_value() {
        let defaults = LivechatSettings::default().resolve().unwrap().per_network;
        assert_eq!(
            defaults,
            PerNetworkLimits {
                messages_per_minute: 30,
                new_chats_per_10_minutes: 5,
                new_visitors_per_10_minutes: 20,
            }
        );
        let config = yaml("per-network:\n  new-chats-per-10-minutes: 400\n")
            .resolve()
            .unwrap();
        assert_eq!(
            config.per_network,
            PerNetworkLimits {
                new_chats_per_10_minutes: 400,
                ..defaults
            }
        );
        let config = yaml(
            "per-network:\n  messages-per-minute: 100000\n  new-chats-per-10-minutes: 1\n  \
             new-visitors-per-10-minutes: 2000\n",
        )
        .resolve()
        .unwrap();
        assert_eq!(
            config.per_network,
            PerNetworkLimits {
                messages_per_minute: 100_000,
                new_chats_per_10_minutes: 1,
                new_visitors_per_10_minutes: 2000,
            }
        );
    }

    #[test]
    fn a_per_network_limit_is_a_whole_number_from_one_to_a_hundred_thousand() {
        for (key, bad) in [
            ("new-chats-per-10-minutes", "0"),
            ("messages-per-minute", "-1"),
            ("new-visitors-per-10-minutes", "2.5"),
            ("new-chats-per-10-minutes", "ten"),
            ("messages-per-minute", "100001"),
        ] {
            let (named, e) = yaml(&format!("per-network:\n  {key}: {bad}\n"))
                .resolve()
                .unwrap_err();
            assert_eq!(named, format!("chat.livechat.per-network.{key}"), "{bad}");
            assert!(
                e.contains("a whole number from 1 to 100000") && e.contains("IPv6 /64"),
                "{key}: {bad}: {e}"
            );
        }
    }

    #[test]
    fn an_unknown_key_under_per_network_is_refused_with_the_likely_one() {
        use crate::config::{ConfigOverrides, ServerConfig};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("switchboard.yaml");
        std::fs::write(
            &file,
            "chat:\n  livechat:\n    per-network:\n      new-chats-per-minute: 50\n",
        )
        .unwrap();
        let e = ServerConfig::load(Some(&file), &ConfigOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown key `chat.livechat.per-network.new-chats-per-minute`"),
            "{e}"
        );
        assert!(
            e.contains("did you mean `chat.livechat.per-network.new-chats-per-10-minutes`?"),
            "{e}"
        );
        std::fs::write(&file, "chat:\n  livechat:\n    per-netwrk: {}\n").unwrap();
        let e = ServerConfig::load(Some(&file), &ConfigOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("did you mean `chat.livechat.per-network`?"),
            "{e}"
        );
        std::fs::write(
            &file,
            "chat:\n  livechat:\n    per-network:\n      new-chats-per-10-minutes: 0\n",
        )
        .unwrap();
        let e = ServerConfig::load(Some(&file), &ConfigOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`chat.livechat.per-network.new-chats-per-10-minutes`")
                && e.contains("a whole number from 1 to 100000"),
            "{e}"
        );
    }
}
