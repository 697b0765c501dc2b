//! The session cookie and what is derived from its token.
//!
//! The token is 32 random bytes, hex: the browser's only proof of a sign-in. The store
//! keeps its SHA-256 (`token_digest`), so a copy of the store signs nobody in. The CSRF
//! token is another SHA-256 of the session token, under its own label
//! (`csrf_token`): the page reads it from `/api/login` or `/api/session` and sends it
//! back in `X-CSRF-Token`, which a page of another site cannot read and so cannot send.
//! Deriving it needs no column, and it ends with its session.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// The cookie's name.
pub const COOKIE_NAME: &str = "switchboard_session";

/// A session token as the cookie carries it: 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    // A token in a log line is a sign-in handed to whoever reads the log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// A fresh token from the operating system's random source.
    pub fn fresh() -> Result<Token, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Token(hex(&bytes)))
    }

    /// The token the request's `Cookie` header carries, if any that looks like one.
    pub fn from_headers(headers: &HeaderMap) -> Option<Token> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE_NAME)
            .map(|(_, value)| value.trim_matches('"'))
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|value| Token(value.to_ascii_lowercase()))
    }

    /// What the store keeps for this token: its SHA-256, hex.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }

    /// The CSRF token of this session.
    pub fn csrf(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"switchboard csrf\0");
        hasher.update(self.0.as_bytes());
        hex(&hasher.finalize())
    }

    /// The `Set-Cookie` value that gives the browser this token for `max_age_secs`.
    /// `Secure` when the server is reached over TLS: a browser then never sends the
    /// cookie over plain HTTP.
    pub fn set_cookie(&self, max_age_secs: u64, secure: bool) -> String {
        format!(
            "{COOKIE_NAME}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{}",
            self.0,
            if secure { "; Secure" } else { "" }
        )
    }
}

/// The `Set-Cookie` value that makes the browser forget the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_token_is_read_from_among_other_cookies_and_garbage_is_not_a_token() {
        let token = Token::fresh().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {COOKIE_NAME}={}; x=1", token.0)).unwrap(),
        );
        assert_eq!(Token::from_headers(&headers), Some(token.clone()));
        headers.insert(COOKIE, HeaderValue::from_static("switchboard_session=abc"));
        assert_eq!(Token::from_headers(&headers), None);
    }

    #[test]
    fn digest_csrf_and_token_are_three_different_strings() {
        let token = Token::fresh().unwrap();
        assert_ne!(token.digest(), token.csrf());
        assert_ne!(token.digest(), token.0);
        assert_ne!(token.csrf(), token.0);
        assert_eq!(token.csrf(), token.clone().csrf());
    }
}
