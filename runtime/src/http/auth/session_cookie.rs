//! The session cookie and what is derived from its token.
//!
//! The token is 32 random bytes, hex: the browser's only proof of a sign-in. The store
//! keeps its SHA-256 (`token_digest`), so a copy of the store signs nobody in. The CSRF
//! token is another SHA-256 of the session token, under its own label
//! (`csrf_token`): the page reads it from `/api/login` or `/api/session` and sends it
//! back in `X-CSRF-Token`, which a page of another site cannot read and so cannot send.
//! Deriving it needs no column, and it ends with its session.

use crate::hex::encode as hex;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use sha2::{Digest, Sha256};

/// The cookie's name over plain HTTP (loopback only).
pub const COOKIE_NAME: &str = "switchboard_session";

/// The cookie's name over TLS. A browser accepts a `__Host-` cookie only when it is
/// `Secure`, has `Path=/` and no `Domain`, from this very host over HTTPS — so a sibling
/// subdomain, or anyone on the network speaking plain HTTP, cannot plant one that the
/// server would then read as the session (session fixation).
pub const SECURE_COOKIE_NAME: &str = "__Host-switchboard_session";

/// The cookie's name when the server is reached over TLS (`secure`) or not.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

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

    /// The token the request's `Cookie` header carries under the name this server
    /// gives it (`cookie_name(secure)`), if any that looks like one.
    pub fn from_headers(headers: &HeaderMap, secure: bool) -> Option<Token> {
        let wanted = cookie_name(secure);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == wanted)
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
            "{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{}",
            cookie_name(secure),
            self.0,
            if secure { "; Secure" } else { "" }
        )
    }
}

/// The `Set-Cookie` value that makes the browser forget the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
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
        assert_eq!(Token::from_headers(&headers, false), Some(token.clone()));
        // Over TLS only the `__Host-` cookie counts: a plain one may have been planted.
        assert_eq!(Token::from_headers(&headers, true), None);
        headers.insert(COOKIE, HeaderValue::from_static("switchboard_session=abc"));
        assert_eq!(Token::from_headers(&headers, false), None);
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
