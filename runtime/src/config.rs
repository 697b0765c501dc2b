//! The server's configuration: embedded defaults, then a YAML file, then flags.
//!
//! With no file and no flags the server runs on the defaults the issue names: SIP on UDP
//! and TCP port 5060, RTP on 10000–20000, HTTP on 127.0.0.1:8080, data in `./var/`, plans
//! from `./dialplans`, prompts from `./prompts`. A YAML file (`--config`) sets any of
//! them with keys spelt like the flags (`sip-addr`, `rtp-ports: 10000-20000`, …), and a
//! flag wins over the file. An unknown or invalid key stops start-up with a message naming
//! the key, where it is, and what to write instead.

mod chat;
mod trunks;

pub use chat::{ChatConfig, ChatSettings, LivechatConfig, PerNetworkLimits};
pub use trunks::{TRUNK_KEYS, TrunkSettings};

use crate::http::HostName;
use crate::sip::{DigestAlgorithm, TrunkAccount};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_dsl::duration;
use switchboard_dsl::suggest::did_you_mean;

/// Everything `switchboard run` needs to know before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where SIP listens, on UDP and on TCP alike.
    pub sip_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// Names the HTTP API answers to besides its own address and the loopback names
    /// (`localhost`, `127.0.0.1`, `[::1]`): a request with any other `Host` is refused, so
    /// a web page cannot reach the API through DNS rebinding.
    pub http_names: Vec<HostName>,
    /// The HTTPS certificate chain and private key, PEM files; both or neither. Without
    /// them HTTP listens on loopback only (`http::tls`).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The UDP ports RTP may use: an even port for RTP and the odd one after it for RTCP.
    pub rtp_ports: RangeInclusive<u16>,
    /// The SQLite file and the recordings.
    pub data_dir: PathBuf,
    /// The plan folder the server runs and watches.
    pub dialplans: PathBuf,
    /// `prompts/<language>/**.wav`.
    pub prompts: PathBuf,
    /// The SIP digest realm phones authenticate in.
    pub realm: String,
    /// The digest algorithms the registrar challenges with, in order. MD5 alone by
    /// default, as Asterisk and FreeSWITCH do: every phone answers it, while some refuse a
    /// whole 401 that also offers SHA-256 (Debian 12's baresip, libre 1.1.0). `sha-256,
    /// md5` opts in for phones that use the stronger hash.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    /// The address written into SDP and Contact headers. `None` (the default) writes the
    /// local address of the interface each phone's request arrived on; set it when the
    /// server sits behind NAT from its phones.
    pub public_ip: Option<IpAddr>,
    /// How long calls in progress get to finish after a shutdown signal.
    pub shutdown_deadline: Duration,
    /// A call whose far end sends no RTP for this long is hung up (a phone that lost its
    /// network sends no BYE); zero never hangs up for silence.
    pub media_timeout: Duration,
    /// SIP messages a second one address may send, averaged over two seconds; an address
    /// over it is ignored for 30 s (a flood). Trunks' addresses are not limited.
    pub sip_messages_per_source: u32,
    /// The trunks' accounts at their providers (the file's `trunks` key; never a flag).
    /// None by default: a plan trunk without one is trusted by address and calls out
    /// unauthenticated to its host.
    pub trunks: Vec<TrunkAccount>,
    /// The chat providers' accounts (the file's `chat` key; never a flag). None by
    /// default: every provider's webhook answers 404 naming the key to add.
    pub chat: ChatConfig,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            sip_addr: SocketAddr::from(([0, 0, 0, 0], 5060)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            http_names: Vec::new(),
            tls_cert: None,
            tls_key: None,
            rtp_ports: 10000..=20000,
            data_dir: PathBuf::from("var"),
            dialplans: PathBuf::from("dialplans"),
            prompts: PathBuf::from("prompts"),
            realm: "switchboard".to_string(),
            digest_algorithms: vec![DigestAlgorithm::Md5],
            public_ip: None,
            shutdown_deadline: Duration::from_secs(10),
            // A minute, as PBXs commonly allow (Asterisk's `rtptimeout`): long enough for
            // any phone that suppresses silence to send comfort noise.
            media_timeout: Duration::from_secs(60),
            sip_messages_per_source: crate::sip::DEFAULT_MESSAGES_PER_SECOND,
            trunks: Vec::new(),
            chat: ChatConfig::default(),
        }
    }
}

/// Every setting of `switchboard run`, defined once: each field is a flag (its doc comment
/// is the `--help` line) and a key of the YAML file (spelt like the flag), read by the
/// same parser either way. A `Some` wins over the defaults; the flags win over the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigOverrides {
    /// SIP on UDP and TCP [default: 0.0.0.0:5060].
    #[arg(long, value_parser = parse_addr)]
    #[serde(default, deserialize_with = "de_addr")]
    pub sip_addr: Option<SocketAddr>,
    /// The HTTP API [default: 127.0.0.1:8080].
    #[arg(long, value_parser = parse_addr)]
    #[serde(default, deserialize_with = "de_addr")]
    pub http_addr: Option<SocketAddr>,
    /// More names the HTTP API answers to, like pbx.office.example,10.0.0.5 [default: its
    /// own address, localhost, 127.0.0.1, [::1]].
    #[arg(long, value_parser = parse_http_names)]
    #[serde(default, deserialize_with = "de_http_names")]
    pub http_names: Option<HttpNames>,
    /// The HTTPS certificate (PEM, the server's first, then its chain); with --tls-key,
    /// the API is served over TLS [default: none: HTTP on loopback only].
    #[arg(long)]
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM) [default: none].
    #[arg(long)]
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// RTP ports, like 10000-20000 [default: 10000-20000].
    #[arg(long, value_parser = parse_port_range)]
    #[serde(default, deserialize_with = "de_ports")]
    pub rtp_ports: Option<RangeInclusive<u16>>,
    /// The SQLite store and recordings [default: var].
    #[arg(long)]
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// The plan folder [default: dialplans].
    #[arg(long)]
    #[serde(default)]
    pub dialplans: Option<PathBuf>,
    /// The prompts folder [default: prompts].
    #[arg(long)]
    #[serde(default)]
    pub prompts: Option<PathBuf>,
    /// The SIP digest realm [default: switchboard].
    #[arg(long, value_parser = parse_realm)]
    #[serde(default, deserialize_with = "de_realm")]
    pub realm: Option<String>,
    /// Digest algorithms to challenge with, like sha-256,md5 [default: md5].
    #[arg(long, value_parser = parse_digest_algorithms)]
    #[serde(default, deserialize_with = "de_algorithms")]
    pub digest_algorithms: Option<DigestAlgorithms>,
    /// The address phones reach the server at, written into SDP and Contact [default: the
    /// address each phone's request arrived on].
    #[arg(long, value_parser = parse_ip)]
    #[serde(default, deserialize_with = "de_ip")]
    pub public_ip: Option<IpAddr>,
    /// How long calls in progress may take to end when stopping [default: 10s].
    #[arg(long, value_parser = duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub shutdown_deadline: Option<Duration>,
    /// Hang up a call whose far end sends no audio for this long; 0s never [default: 60s].
    #[arg(long, value_parser = duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub media_timeout: Option<Duration>,
    /// SIP messages a second one address may send before it is ignored for 30 s; raise it
    /// for many phones behind one NAT address [default: 100].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    #[serde(default)]
    pub sip_messages_per_source: Option<u32>,
    /// The trunks' accounts by the plan's trunk name: the config file only, never a flag
    /// (see `config/trunks.rs` and docs/configuration).
    #[arg(skip)]
    #[serde(default)]
    pub trunks: Option<BTreeMap<String, TrunkSettings>>,
    /// The chat providers' accounts: the config file only (see `config/chat.rs`).
    #[arg(skip)]
    #[serde(default)]
    pub chat: Option<ChatSettings>,
}

/// The digest algorithms as one value: clap would read a `Vec` field as a repeated flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestAlgorithms(pub Vec<DigestAlgorithm>);

/// The HTTP API's extra names as one value, for the same reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpNames(pub Vec<HostName>);

/// Why the configuration was refused; `Display` is the message for the admin.
#[derive(Debug)]
pub enum ConfigError {
    /// The file named by `--config` could not be read.
    Read {
        file: PathBuf,
        error: std::io::Error,
    },
    /// A key the server does not know, with the closest known key when one is close.
    UnknownKey {
        file: PathBuf,
        key: String,
        line: Option<usize>,
        column: Option<usize>,
        suggestion: Option<String>,
    },
    /// A value that is not valid (or YAML that is not a mapping of keys to values).
    Invalid {
        file: PathBuf,
        /// The key the value belongs to, when the YAML parser could tell.
        key: Option<String>,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// Settings that are each valid but clash, wherever they came from.
    Conflict(String),
}

/// Every key the file may hold (and every flag), in the order `--help` lists them, taken
/// from the one definition above.
pub fn keys() -> Vec<String> {
    use clap::Args;
    ConfigOverrides::augment_args(clap::Command::new("switchboard"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .chain(["trunks".to_string(), "chat".to_string()]) // the file's keys that are not flags
        .collect()
}

/// Whether loading the configuration reads the trunks' and chat providers' accounts,
/// secrets and all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accounts {
    Read,
    Skip,
}

impl ServerConfig {
    /// The defaults, then `file` when given, then the flags in `overrides`.
    ///
    /// Relative paths in the file are taken from the file's folder, so a config file
    /// means the same wherever the server is started from; relative paths in flags are
    /// taken from the working directory, as a shell user expects.
    pub fn load(
        file: Option<&Path>,
        overrides: &ConfigOverrides,
    ) -> Result<ServerConfig, ConfigError> {
        ServerConfig::load_reading(file, overrides, Accounts::Read)
    }

    /// `load` for a command that opens only the store (`switchboard user`, `admin`):
    /// the same file and flags, checked as strictly, but the trunks' and chat providers'
    /// accounts are left out, so their secrets (`*-env` variables, `*-file`s) need not
    /// be there: an admin setting a password does not export the WhatsApp token first.
    pub fn load_for_store(
        file: Option<&Path>,
        overrides: &ConfigOverrides,
    ) -> Result<ServerConfig, ConfigError> {
        ServerConfig::load_reading(file, overrides, Accounts::Skip)
    }

    fn load_reading(
        file: Option<&Path>,
        overrides: &ConfigOverrides,
        accounts: Accounts,
    ) -> Result<ServerConfig, ConfigError> {
        let mut config = ServerConfig::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                file: path.to_path_buf(),
                error,
            })?;
            let mut values = parse_file(&text, path)?;
            values.rebase(path.parent().unwrap_or(Path::new("")));
            values.apply(&mut config);
            if accounts == Accounts::Skip {
                values.trunks = None;
                values.chat = None;
            }
            if let Some(trunks) = &values.trunks {
                config.trunks =
                    trunks::accounts(trunks).map_err(|(key, message)| ConfigError::Invalid {
                        file: path.to_path_buf(),
                        key: Some(key),
                        line: None,
                        column: None,
                        message,
                    })?;
            }
            if let Some(chat) = &values.chat {
                config.chat = chat
                    .resolve()
                    .map_err(|(key, message)| ConfigError::Invalid {
                        file: path.to_path_buf(),
                        key: Some(key),
                        line: None,
                        column: None,
                        message,
                    })?;
            }
        }
        overrides.apply(&mut config);
        config.validate()?;
        Ok(config)
    }

    /// The HTTPS certificate and key, when both are set.
    pub fn tls(&self) -> Option<crate::http::tls::TlsFiles> {
        Some(crate::http::tls::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
        })
    }

    /// Checks what no single key can: the RTP ports must not take the SIP port, and a
    /// TLS certificate needs its key.
    fn validate(&self) -> Result<(), ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => {
                return Err(ConfigError::Conflict(
                    "tls-cert is set but tls-key is not; HTTPS needs both: set --tls-key to \
                     the certificate's private key (PEM)"
                        .to_string(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Conflict(
                    "tls-key is set but tls-cert is not; HTTPS needs both: set --tls-cert to \
                     the certificate (PEM)"
                        .to_string(),
                ));
            }
            _ => {}
        }
        if self.rtp_ports.contains(&self.sip_addr.port()) {
            return Err(ConfigError::Conflict(format!(
                "rtp-ports {}-{} include the SIP port {}; move one of them \
                 (for example --rtp-ports 10000-20000 with --sip-addr 0.0.0.0:5060)",
                self.rtp_ports.start(),
                self.rtp_ports.end(),
                self.sip_addr.port()
            )));
        }
        Ok(())
    }
}

/// Reads `A-B` (`10000-20000`), as the `--rtp-ports` flag and the `rtp-ports` key take it.
///
/// RTP uses an even port and RTCP the odd one after it, so the range must hold at least
/// one such pair.
pub fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let text = text.trim();
    let Some((a, b)) = text.split_once('-') else {
        return Err(format!(
            "`{text}` is not a port range; write the first and last port, like 10000-20000"
        ));
    };
    let port = |s: &str| -> Result<u16, String> {
        match s.trim().parse::<u16>() {
            Ok(0) | Err(_) => Err(format!(
                "`{text}` is not a port range: `{}` is not a port (1-65535); \
                 write it like 10000-20000",
                s.trim()
            )),
            Ok(p) => Ok(p),
        }
    };
    let (start, end) = (port(a)?, port(b)?);
    if start > end {
        return Err(format!(
            "`{text}` runs backwards; write the lower port first: {end}-{start}"
        ));
    }
    let first_even = u32::from(start) + u32::from(start % 2);
    if first_even >= u32::from(end) {
        return Err(format!(
            "`{text}` holds no RTP port pair: RTP needs an even port and the odd one after \
             it (RTCP), so give at least two ports starting at an even one, like 10000-20000"
        ));
    }
    Ok(start..=end)
}

/// `md5, sha-256` (or `MD5`, `SHA-256`): the algorithms to challenge with, in order.
pub fn parse_digest_algorithms(text: &str) -> Result<DigestAlgorithms, String> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let Some(a) = DigestAlgorithm::from_name(word) else {
            return Err(format!(
                "`{word}` is not a digest algorithm; write md5, sha-256 or both"
            ));
        };
        if !out.contains(&a) {
            out.push(a);
        }
    }
    if out.is_empty() {
        return Err("name at least one digest algorithm: md5, sha-256".into());
    }
    Ok(DigestAlgorithms(out))
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { file, error } => {
                write!(f, "cannot read the config file {}: {error}", file.display())
            }
            ConfigError::UnknownKey {
                file,
                key,
                line,
                column,
                suggestion,
            } => {
                write!(f, "unknown key `{key}` in {}", file.display())?;
                write_place(f, *line, *column)?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => write!(f, "; the keys are {}", keys().join(", ")),
                }
            }
            ConfigError::Invalid {
                file,
                key,
                line,
                column,
                message,
            } => {
                match key {
                    Some(k) => write!(f, "invalid `{k}` in {}", file.display())?,
                    None => write!(f, "invalid config file {}", file.display())?,
                }
                write_place(f, *line, *column)?;
                write!(f, ": {message}")
            }
            ConfigError::Conflict(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ConfigError {}

fn write_place(
    f: &mut fmt::Formatter<'_>,
    line: Option<usize>,
    column: Option<usize>,
) -> fmt::Result {
    match (line, column) {
        (Some(l), Some(c)) => write!(f, " (line {l}, column {c})"),
        (Some(l), None) => write!(f, " (line {l})"),
        _ => Ok(()),
    }
}

impl ConfigOverrides {
    /// Paths in a config file are taken from the file's folder.
    fn rebase(&mut self, base: &Path) {
        for path in [
            &mut self.data_dir,
            &mut self.dialplans,
            &mut self.prompts,
            &mut self.tls_cert,
            &mut self.tls_key,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        for trunk in self.trunks.iter_mut().flat_map(|t| t.values_mut()) {
            trunk.rebase(base);
        }
        if let Some(chat) = &mut self.chat {
            chat.rebase(base);
        }
    }

    /// Writes every value that is set over `config`.
    fn apply(&self, config: &mut ServerConfig) {
        set(&mut config.sip_addr, self.sip_addr);
        set(&mut config.http_addr, self.http_addr);
        set(&mut config.http_names, self.http_names.clone().map(|n| n.0));
        if self.tls_cert.is_some() {
            config.tls_cert = self.tls_cert.clone();
        }
        if self.tls_key.is_some() {
            config.tls_key = self.tls_key.clone();
        }
        set(&mut config.rtp_ports, self.rtp_ports.clone());
        set(&mut config.data_dir, self.data_dir.clone());
        set(&mut config.dialplans, self.dialplans.clone());
        set(&mut config.prompts, self.prompts.clone());
        set(&mut config.realm, self.realm.clone());
        set(
            &mut config.digest_algorithms,
            self.digest_algorithms.clone().map(|a| a.0),
        );
        if self.public_ip.is_some() {
            config.public_ip = self.public_ip;
        }
        set(&mut config.shutdown_deadline, self.shutdown_deadline);
        set(&mut config.media_timeout, self.media_timeout);
        set(
            &mut config.sip_messages_per_source,
            self.sip_messages_per_source,
        );
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn parse_file(text: &str, file: &Path) -> Result<ConfigOverrides, ConfigError> {
    // An empty file (or one of comments only) is a file that sets nothing.
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Ok(ConfigOverrides::default());
    }
    serde_norway::from_str(text).map_err(|e| yaml_error(&e, file))
}

/// Turns the YAML crate's error into one naming the key, the place and the fix.
fn yaml_error(e: &serde_norway::Error, file: &Path) -> ConfigError {
    let (mut line, mut column) = match e.location() {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    };
    let mut message = e.to_string();
    // The place is reported on its own, so drop the parser's " at line L column C"; a
    // syntax error that names places of its own keeps them and gets no second one.
    if let (Some(l), Some(c)) = (line, column)
        && let Some(m) = message.strip_suffix(&format!(" at line {l} column {c}"))
    {
        message = m.to_string();
    }
    if message.contains(" at line ") {
        (line, column) = (None, None);
    }
    // Inside a trunk's entry the error starts with its path: "trunks.main.x: ...".
    if let Some(trunk_error) = trunk_entry_error(&message, file, line, column) {
        return trunk_error;
    }
    if let Some(chat_error) = chat::entry_error(&message, file, line, column) {
        return chat_error;
    }
    // serde's own wording for `deny_unknown_fields`: "unknown field `x`, expected ...".
    if let Some(rest) = message.split("unknown field `").nth(1)
        && let Some(key) = rest.split('`').next()
    {
        return ConfigError::UnknownKey {
            file: file.to_path_buf(),
            key: key.to_string(),
            line,
            column,
            suggestion: {
                let keys = keys();
                did_you_mean(key, keys.iter().map(String::as_str)).map(str::to_string)
            },
        };
    }
    // A value's error starts with the key's path: "sip-addr: `x` is not ...".
    let key = keys().into_iter().find(|k| {
        message
            .strip_prefix(k.as_str())
            .is_some_and(|r| r.starts_with(": "))
    });
    if let Some(k) = &key {
        message = message[k.len() + 2..].to_string();
    } else if message.starts_with("invalid type: ")
        && message.ends_with("expected struct ConfigOverrides")
    {
        message = "the file must be a list of `key: value` lines, like `sip-addr: 0.0.0.0:5060`"
            .to_string();
    }
    ConfigError::Invalid {
        file: file.to_path_buf(),
        key,
        line,
        column,
        message,
    }
}

/// An error inside `trunks:`, named by its path (`trunks.main.password-file`), with
/// suggestions from a trunk's own keys.
fn trunk_entry_error(
    message: &str,
    file: &Path,
    line: Option<usize>,
    column: Option<usize>,
) -> Option<ConfigError> {
    let rest = message.strip_prefix("trunks.")?;
    let (path, what) = rest.split_once(": ")?;
    if let Some(unknown) = what
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        return Some(ConfigError::UnknownKey {
            file: file.to_path_buf(),
            key: format!("trunks.{path}.{unknown}"),
            line,
            column,
            suggestion: did_you_mean(unknown, TRUNK_KEYS.iter().copied())
                .map(|s| format!("trunks.{path}.{s}")),
        });
    }
    Some(ConfigError::Invalid {
        file: file.to_path_buf(),
        key: Some(format!("trunks.{path}")),
        line,
        column,
        message: what.to_string(),
    })
}

/// Parses a scalar inside the YAML deserializer, so an error carries the value's key and
/// place.
fn de_parsed<'de, D, T>(
    d: D,
    expecting: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Parse<F>(F, &'static str);
    impl<'de, T, F: FnOnce(&str) -> Result<T, String>> serde::de::Visitor<'de> for Parse<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.1)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(Parse(parse, expecting)).map(Some)
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse().map_err(|_| {
        format!("`{s}` is not an IP address and port; write it like 0.0.0.0:5060 or [::]:5060")
    })
}

/// `pbx.office.example, 10.0.0.5`: names (or addresses) without a scheme or port.
pub fn parse_http_names(text: &str) -> Result<HttpNames, String> {
    let names = text
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(HostName::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        return Err("name at least one host name, like pbx.office.example".into());
    }
    Ok(HttpNames(names))
}

fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.trim().parse().map_err(|_| {
        format!("`{s}` is not an IP address; write it like 203.0.113.10, without a port")
    })
}

fn parse_realm(s: &str) -> Result<String, String> {
    if s.trim().is_empty() || s.contains('"') {
        Err("the realm must be a non-empty name without quotes, like `switchboard`".into())
    } else {
        Ok(s.to_string())
    }
}

// serde's `deserialize_with` names one function per type; each hands the same parser the
// flag uses to `de_parsed`.

fn de_addr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    de_parsed(d, "an IP address and port", parse_addr)
}

fn de_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    de_parsed(d, "an IP address", parse_ip)
}

fn de_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RangeInclusive<u16>>, D::Error> {
    de_parsed(d, "a port range like 10000-20000", parse_port_range)
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_parsed(d, "a duration like 10s", duration::parse)
}

fn de_algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DigestAlgorithms>, D::Error> {
    de_parsed(
        d,
        "digest algorithms like `md5, sha-256`",
        parse_digest_algorithms,
    )
}

/// `http-names` is a list: a YAML sequence (`[pbx.office.example, 10.0.0.5]`, or one
/// name a line) or the flag's comma-separated text.
fn de_http_names<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpNames>, D::Error> {
    struct Names;
    impl<'de> serde::de::Visitor<'de> for Names {
        type Value = HttpNames;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("host names like `pbx.office.example, 10.0.0.5`")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<HttpNames, E> {
            parse_http_names(v).map_err(E::custom)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<HttpNames, A::Error> {
            let mut names = Vec::new();
            while let Some(name) = seq.next_element::<String>()? {
                names.extend(parse_http_names(&name).map_err(serde::de::Error::custom)?.0);
            }
            Ok(HttpNames(names))
        }
    }
    d.deserialize_any(Names).map(Some)
}

fn de_realm<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_parsed(d, "a realm name", parse_realm)
}
