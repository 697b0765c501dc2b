//! A secret from the configuration (a trunk's password, a chat provider's token or app
//! secret), kept out of every rendering.
//!
//! Its `Debug` prints a placeholder and it has no `Display` or `Serialize`, so it cannot
//! slip into a log line, a trace or an API answer by accident; only the code that signs
//! or authenticates with it reads it ([`Secret::expose`]).

use std::fmt;
use std::path::Path;

/// A password, token or key kept out of every rendering.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret itself, for the digest answer, a signature or an `Authorization`
    /// header, and nothing else.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `given` is this secret, compared in constant time (a token a caller sends
    /// must not be guessable byte by byte from how long the answer takes).
    pub fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(given).into()
    }

    /// The secret a file holds alone; one trailing newline (`\n` or `\r\n`) is dropped.
    /// The error names the file, never its content.
    pub fn from_file(file: &Path) -> Result<Secret, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the secret file {}: {e}", file.display()))?;
        warn_if_readable_by_others(file);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        Ok(Secret::new(text))
    }

    /// The secret the environment variable `name` holds. The error names the variable.
    pub fn from_env(name: &str) -> Result<Secret, String> {
        match std::env::var(name) {
            Ok(v) => Ok(Secret::new(v)),
            Err(std::env::VarError::NotPresent) => Err(format!(
                "the environment variable {name} is not set; export it before starting the \
                 server, or name another one"
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "the environment variable {name} is not valid UTF-8"
            )),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// A secret file others can read is a leak waiting to happen; say so at start.
fn warn_if_readable_by_others(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %file.display(),
                "the secret file is readable by other users; `chmod 600` it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output_and_compares_whole() {
        let s = Secret::new("amber-kettle-harbour");
        assert_eq!(format!("{s:?}"), "Secret(<hidden>)");
        assert!(s.matches(b"amber-kettle-harbour"));
        assert!(!s.matches(b"amber-kettle-harbou"));
        assert!(!s.matches(b""));
    }
}
