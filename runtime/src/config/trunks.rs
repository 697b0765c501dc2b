//! The `trunks` key of the config file: each plan trunk's account at its provider.
//!
//! ```yaml
//! trunks:
//!   main:                                  # the plan's `trunk "main"`
//!     username: "2605550100"
//!     password-file: secrets/main.password # or `password: "…"` in this file
//!     registrar: sip.carrier.example       # default: the trunk's host in the plan
//!     outbound-proxy: sbc.carrier.example:5060
//!     transport: udp                       # or tcp
//!     register: true                       # false: calls out only
//!     expires: 10m                         # asked for; the provider may grant less
//! ```
//!
//! Only the file sets these (a password does not belong on a command line, where every
//! user of the machine can read it). A password file holds the password alone (one
//! trailing newline is dropped); its path, like every path in the file, is taken from
//! the config file's folder.

use crate::sip::{DEFAULT_TRUNK_EXPIRES, Secret, Transport, TrunkAccount};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_dsl::duration;

/// The keys a trunk's entry may hold, for suggestions.
pub const TRUNK_KEYS: &[&str] = &[
    "username",
    "password",
    "password-file",
    "registrar",
    "outbound-proxy",
    "transport",
    "register",
    "expires",
];

/// The shortest and longest registration a trunk may ask for.
const EXPIRES_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(86_400);

/// One trunk's entry, as the file spells it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrunkSettings {
    pub username: String,
    #[serde(default, deserialize_with = "de_secret")]
    pub password: Option<Secret>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub registrar: Option<String>,
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    #[serde(default, deserialize_with = "de_transport")]
    pub transport: Option<Transport>,
    #[serde(default)]
    pub register: Option<bool>,
    #[serde(default, deserialize_with = "de_expires")]
    pub expires: Option<Duration>,
}

impl TrunkSettings {
    /// A relative `password-file` is taken from `base`, the config file's folder.
    pub(super) fn rebase(&mut self, base: &Path) {
        if let Some(path) = &mut self.password_file
            && path.is_relative()
        {
            *path = base.join(&*path);
        }
    }

    /// The account, its password read from its file when it names one. The error names
    /// what to fix, never the password.
    pub fn account(&self, name: &str) -> Result<TrunkAccount, String> {
        if self.username.trim().is_empty() {
            return Err("`username` is empty; write the user the provider gave you".into());
        }
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err("give `password` or `password-file`, not both".into());
            }
            (None, None) => {
                return Err(
                    "no password: add `password-file: PATH` (a file holding the password) \
                     or `password: \"…\"`"
                        .into(),
                );
            }
            (Some(p), None) => p.clone(),
            (None, Some(file)) => Secret::from_file(file)?,
        };
        if password.is_empty() {
            return Err("the password is empty".into());
        }
        Ok(TrunkAccount {
            name: name.to_string(),
            username: self.username.trim().to_string(),
            password,
            registrar: self.registrar.clone(),
            outbound_proxy: self.outbound_proxy.clone(),
            transport: self.transport.unwrap_or(Transport::Udp),
            register: self.register.unwrap_or(true),
            expires: self.expires.unwrap_or(DEFAULT_TRUNK_EXPIRES),
        })
    }
}

/// Every entry's account, in name order; an error names the entry's key
/// (`trunks.main`) and what is wrong.
pub fn accounts(
    settings: &BTreeMap<String, TrunkSettings>,
) -> Result<Vec<TrunkAccount>, (String, String)> {
    settings
        .iter()
        .map(|(name, s)| s.account(name).map_err(|e| (format!("trunks.{name}"), e)))
        .collect()
}

pub fn parse_transport(text: &str) -> Result<Transport, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "udp" => Ok(Transport::Udp),
        "tcp" => Ok(Transport::Tcp),
        _ => Err(format!("`{text}` is not a transport; write udp or tcp")),
    }
}

fn parse_expires(text: &str) -> Result<Duration, String> {
    let d = duration::parse(text)?;
    if !EXPIRES_RANGE.contains(&d) {
        return Err(format!(
            "`{text}` is out of range; ask for 1s to 1d, like 10m"
        ));
    }
    Ok(d)
}

fn de_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Some(Secret::new(String::deserialize(d)?)))
}

fn de_transport<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Transport>, D::Error> {
    super::de_parsed(d, "udp or tcp", parse_transport)
}

fn de_expires<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    super::de_parsed(d, "a duration like 10m", parse_expires)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TrunkSettings {
        TrunkSettings {
            username: "2605550100".into(),
            password: Some(Secret::new("amber-kettle-harbour")),
            ..Default::default()
        }
    }

    #[test]
    fn a_password_file_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("main.password");
        std::fs::write(&file, "amber-kettle-harbour\n").unwrap();
        let s = TrunkSettings {
            password: None,
            password_file: Some(file),
            ..settings()
        };
        let a = s.account("main").unwrap();
        assert_eq!(a.password, Secret::new("amber-kettle-harbour"));
        assert_eq!(a.transport, Transport::Udp);
        assert!(a.register);
        assert_eq!(a.expires, DEFAULT_TRUNK_EXPIRES);
    }

    #[test]
    fn exactly_one_password_source_is_required() {
        let both = TrunkSettings {
            password_file: Some("x".into()),
            ..settings()
        };
        assert!(both.account("main").unwrap_err().contains("not both"));
        let none = TrunkSettings {
            password: None,
            ..settings()
        };
        assert!(none.account("main").unwrap_err().contains("no password"));
    }

    #[test]
    fn errors_never_quote_the_password() {
        let empty_user = TrunkSettings {
            username: " ".into(),
            ..settings()
        };
        let (key, e) = accounts(&BTreeMap::from([("main".to_string(), empty_user)])).unwrap_err();
        assert_eq!(key, "trunks.main");
        assert!(!e.contains("amber"), "{e}");
    }
}
