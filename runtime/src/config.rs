//! The server's configuration: embedded defaults, then a YAML file, then flags.
//!
//! With no file and no flags the server runs on the defaults the issue names: SIP on UDP
//! and TCP port 5060, RTP on 10000–20000, HTTP on 127.0.0.1:8080, data in `./var/`, plans
//! from `./dialplans`, prompts from `./prompts`. A YAML file (`--config`) sets any of
//! them with keys spelt like the flags (`sip-addr`, `rtp-ports: 10000-20000`, …), and a
//! flag wins over the file. An unknown or invalid key stops start-up with a message naming
//! the key, where it is, and what to write instead.

use crate::sip::DigestAlgorithm;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_dsl::suggest::did_you_mean;

/// Everything `switchboard run` needs to know before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where SIP listens, on UDP and on TCP alike.
    pub sip_addr: SocketAddr,
    pub http_addr: SocketAddr,
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
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            sip_addr: SocketAddr::from(([0, 0, 0, 0], 5060)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            rtp_ports: 10000..=20000,
            data_dir: PathBuf::from("var"),
            dialplans: PathBuf::from("dialplans"),
            prompts: PathBuf::from("prompts"),
            realm: "switchboard".to_string(),
            digest_algorithms: vec![DigestAlgorithm::Md5],
            public_ip: None,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// What the command line set; each `Some` wins over the file and the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    pub sip_addr: Option<SocketAddr>,
    pub http_addr: Option<SocketAddr>,
    pub rtp_ports: Option<RangeInclusive<u16>>,
    pub data_dir: Option<PathBuf>,
    pub dialplans: Option<PathBuf>,
    pub prompts: Option<PathBuf>,
    pub realm: Option<String>,
    pub digest_algorithms: Option<Vec<DigestAlgorithm>>,
    pub public_ip: Option<IpAddr>,
    pub shutdown_deadline: Option<Duration>,
}

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
        suggestion: Option<&'static str>,
    },
    /// A value that is not valid (or YAML that is not a mapping of keys to values).
    Invalid {
        file: PathBuf,
        /// The key the value belongs to, when the YAML parser could tell.
        key: Option<&'static str>,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// Settings that are each valid but clash, wherever they came from.
    Conflict(String),
}

/// Every key the file may hold, in the order `--help` lists the flags.
pub const KEYS: &[&str] = &[
    "sip-addr",
    "http-addr",
    "rtp-ports",
    "data-dir",
    "dialplans",
    "prompts",
    "realm",
    "digest-algorithms",
    "public-ip",
    "shutdown-deadline",
];

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
        let mut config = ServerConfig::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                file: path.to_path_buf(),
                error,
            })?;
            let values = parse_file(&text, path)?;
            let base = path.parent().unwrap_or(Path::new(""));
            values.apply(&mut config, base);
        }
        overrides.apply(&mut config);
        config.validate()?;
        Ok(config)
    }

    /// Checks what no single key can: the RTP ports must not take the SIP port.
    fn validate(&self) -> Result<(), ConfigError> {
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

/// Reads `10s`, `500ms`, `2m`, or a bare number of seconds.
/// `md5, sha-256` (or `MD5`, `SHA-256`): the algorithms to challenge with, in order.
pub fn parse_digest_algorithms(text: &str) -> Result<Vec<DigestAlgorithm>, String> {
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
    Ok(out)
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write it like 10s, 500ms or 2m"))?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!(
            "`{text}` is not a duration; write it like 10s, 500ms or 2m"
        )),
    }
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
                    None => write!(f, "; the keys are {}", KEYS.join(", ")),
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

/// The file as written: every key optional, each value already checked by its parser.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileValues {
    #[serde(default, deserialize_with = "de_addr")]
    sip_addr: Option<SocketAddr>,
    #[serde(default, deserialize_with = "de_addr")]
    http_addr: Option<SocketAddr>,
    #[serde(default, deserialize_with = "de_ports")]
    rtp_ports: Option<RangeInclusive<u16>>,
    data_dir: Option<PathBuf>,
    dialplans: Option<PathBuf>,
    prompts: Option<PathBuf>,
    #[serde(default, deserialize_with = "de_realm")]
    realm: Option<String>,
    #[serde(default, deserialize_with = "de_algorithms")]
    digest_algorithms: Option<Vec<DigestAlgorithm>>,
    #[serde(default, deserialize_with = "de_ip")]
    public_ip: Option<IpAddr>,
    #[serde(default, deserialize_with = "de_duration")]
    shutdown_deadline: Option<Duration>,
}

impl FileValues {
    fn apply(self, config: &mut ServerConfig, base: &Path) {
        let path = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        set(&mut config.sip_addr, self.sip_addr);
        set(&mut config.http_addr, self.http_addr);
        set(&mut config.rtp_ports, self.rtp_ports);
        set(&mut config.data_dir, self.data_dir.map(path));
        set(&mut config.dialplans, self.dialplans.map(path));
        set(&mut config.prompts, self.prompts.map(path));
        set(&mut config.realm, self.realm);
        set(&mut config.digest_algorithms, self.digest_algorithms);
        if self.public_ip.is_some() {
            config.public_ip = self.public_ip;
        }
        set(&mut config.shutdown_deadline, self.shutdown_deadline);
    }
}

impl ConfigOverrides {
    fn apply(&self, config: &mut ServerConfig) {
        set(&mut config.sip_addr, self.sip_addr);
        set(&mut config.http_addr, self.http_addr);
        set(&mut config.rtp_ports, self.rtp_ports.clone());
        set(&mut config.data_dir, self.data_dir.clone());
        set(&mut config.dialplans, self.dialplans.clone());
        set(&mut config.prompts, self.prompts.clone());
        set(&mut config.realm, self.realm.clone());
        set(
            &mut config.digest_algorithms,
            self.digest_algorithms.clone(),
        );
        if self.public_ip.is_some() {
            config.public_ip = self.public_ip;
        }
        set(&mut config.shutdown_deadline, self.shutdown_deadline);
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn parse_file(text: &str, file: &Path) -> Result<FileValues, ConfigError> {
    // An empty file (or one of comments only) is a file that sets nothing.
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Ok(FileValues::default());
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
    // serde's own wording for `deny_unknown_fields`: "unknown field `x`, expected ...".
    if let Some(rest) = message.split("unknown field `").nth(1)
        && let Some(key) = rest.split('`').next()
    {
        return ConfigError::UnknownKey {
            file: file.to_path_buf(),
            key: key.to_string(),
            line,
            column,
            suggestion: did_you_mean(key, KEYS.iter().copied()),
        };
    }
    // A value's error starts with the key's path: "sip-addr: `x` is not ...".
    let key = KEYS
        .iter()
        .copied()
        .find(|k| message.strip_prefix(k).is_some_and(|r| r.starts_with(": ")));
    if let Some(k) = key {
        message = message[k.len() + 2..].to_string();
    } else if message.starts_with("invalid type: ")
        && message.ends_with("expected struct FileValues")
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

fn de_addr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    de_parsed(d, "an IP address and port", |s| {
        s.trim().parse().map_err(|_| {
            format!("`{s}` is not an IP address and port; write it like 0.0.0.0:5060 or [::]:5060")
        })
    })
}

fn de_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    de_parsed(d, "an IP address", |s| {
        s.trim().parse().map_err(|_| {
            format!("`{s}` is not an IP address; write it like 203.0.113.10, without a port")
        })
    })
}

fn de_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RangeInclusive<u16>>, D::Error> {
    de_parsed(d, "a port range like 10000-20000", parse_port_range)
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_parsed(d, "a duration like 10s", parse_duration)
}

fn de_algorithms<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<DigestAlgorithm>>, D::Error> {
    de_parsed(
        d,
        "digest algorithms like `md5, sha-256`",
        parse_digest_algorithms,
    )
}

fn de_realm<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_parsed(d, "a realm name", |s| {
        if s.trim().is_empty() || s.contains('"') {
            Err("the realm must be a non-empty name without quotes, like `switchboard`".into())
        } else {
            Ok(s.to_string())
        }
    })
}
