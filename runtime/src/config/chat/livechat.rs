//! `chat.livechat` in the config file: the website live chat's name and the sites that
//! may embed it.
//!
//! ```yaml
//! chat:
//!   livechat:
//!     office-name: Example Dental          # shown at the top of the widget
//!     allowed-origins:                     # the pages' origins: scheme, host, port
//!       - https://www.example-dental.com
//!       - https://example-dental.com
//!     trusted-proxies: [10.0.0.2]          # reverse proxies in front of Switchboard
//! ```
//!
//! With no `allowed-origins` no page may open the chat's socket: the widget is opt-in
//! per site (`http/livechat/origin`). Behind a reverse proxy, list its address under
//! `trusted-proxies`, so a visitor's address (what limits count and Block refuses) is the
//! one it forwarded for rather than the proxy's own (`http/livechat/peer`).

use serde::Deserialize;
use std::net::IpAddr;

/// The name the widget shows when the config gives none.
pub const DEFAULT_OFFICE_NAME: &str = "Live chat";

/// The keys `chat.livechat` may hold, for suggestions.
pub const LIVECHAT_KEYS: &[&str] = &["office-name", "allowed-origins", "trusted-proxies"];

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
}

/// The live chat's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivechatConfig {
    pub office_name: String,
    /// Lowercase `scheme://host[:port]`, as a browser's `Origin` header spells them.
    pub allowed_origins: Vec<String>,
    /// The reverse proxies whose `X-Forwarded-For` names the visitor.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for LivechatConfig {
    fn default() -> LivechatConfig {
        LivechatConfig {
            office_name: DEFAULT_OFFICE_NAME.to_string(),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
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
        })
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
}
