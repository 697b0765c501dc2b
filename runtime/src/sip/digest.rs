//! HTTP Digest for SIP (RFC 2617, RFC 7616, RFC 8760), sans-IO: the hashes, the
//! `Authorization` / `Proxy-Authorization` parameters and the challenge text.
//!
//! Only `qop=auth` (and the old no-qop form) is answered; `-sess` algorithms and
//! `auth-int` are not offered, so credentials using them are refused.

use md5::Md5;
use sha2::{Digest, Sha256};

/// The digest algorithms the server offers, in the order it offers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

impl DigestAlgorithm {
    /// Every supported algorithm, in challenge order. MD5 comes first because
    /// many phones (and sipp 3.6) answer only the first challenge they see and
    /// know nothing but MD5.
    pub const ALL: [DigestAlgorithm; 2] = [DigestAlgorithm::Md5, DigestAlgorithm::Sha256];

    /// The `algorithm=` token.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// The algorithm named by an `algorithm=` token; none for `-sess` and
    /// unknown ones.
    pub fn from_name(name: &str) -> Option<DigestAlgorithm> {
        DigestAlgorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The lowercase hex hash of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            DigestAlgorithm::Md5 => to_hex(&Md5::digest(data)),
            DigestAlgorithm::Sha256 => to_hex(&Sha256::digest(data)),
        }
    }
}

/// `H(user:realm:password)`: what a credential store keeps instead of the password.
pub fn ha1(algorithm: DigestAlgorithm, user: &str, realm: &str, password: &str) -> String {
    algorithm.hex(format!("{user}:{realm}:{password}").as_bytes())
}

/// The `qop=auth` part of a response: nonce count and client nonce.
#[derive(Clone, Copy, Debug)]
pub struct QopAuth<'a> {
    pub nc: &'a str,
    pub cnonce: &'a str,
}

/// The `response=` value for a request, from the stored HA1.
pub fn response(
    algorithm: DigestAlgorithm,
    ha1: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<QopAuth<'_>>,
) -> String {
    let ha2 = algorithm.hex(format!("{method}:{uri}").as_bytes());
    let input = match qop {
        Some(QopAuth { nc, cnonce }) => format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"),
        None => format!("{ha1}:{nonce}:{ha2}"),
    };
    algorithm.hex(input.as_bytes())
}

/// The parameters of one `Digest` credentials header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestCredentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: DigestAlgorithm,
    /// `Some("auth")` when the client used `qop=auth`.
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
}

/// Why a credentials header could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialsError {
    /// Not the `Digest` scheme.
    NotDigest,
    /// A required parameter is missing.
    Missing(&'static str),
    /// An algorithm or qop this server does not offer.
    Unsupported,
}

/// Parses the value of an `Authorization` or `Proxy-Authorization` header.
pub fn parse_credentials(value: &str) -> Result<DigestCredentials, CredentialsError> {
    let value = value.trim_start();
    let (scheme, rest) = value.split_at(value.find([' ', '\t']).unwrap_or(value.len()));
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(CredentialsError::NotDigest);
    }
    let params = parse_params(rest);
    let get = |name: &'static str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let need = |name: &'static str| get(name).ok_or(CredentialsError::Missing(name));
    let algorithm = match get("algorithm") {
        None => DigestAlgorithm::Md5,
        Some(name) => DigestAlgorithm::from_name(&name).ok_or(CredentialsError::Unsupported)?,
    };
    let qop = get("qop");
    let (nc, cnonce) = match qop.as_deref() {
        None => (None, None),
        Some(q) if q.eq_ignore_ascii_case("auth") => (Some(need("nc")?), Some(need("cnonce")?)),
        Some(_) => return Err(CredentialsError::Unsupported),
    };
    Ok(DigestCredentials {
        username: need("username")?,
        realm: need("realm")?,
        nonce: need("nonce")?,
        uri: need("uri")?,
        response: need("response")?,
        algorithm,
        qop,
        nc,
        cnonce,
    })
}

/// Whether `credentials` prove knowledge of the password behind `ha1` for a
/// request with this method. The comparison takes the same time wherever the
/// strings differ.
pub fn verify(credentials: &DigestCredentials, ha1: &str, method: &str) -> bool {
    let qop = match (&credentials.nc, &credentials.cnonce) {
        (Some(nc), Some(cnonce)) => Some(QopAuth { nc, cnonce }),
        _ => None,
    };
    let expected = response(
        credentials.algorithm,
        ha1,
        method,
        &credentials.uri,
        &credentials.nonce,
        qop,
    );
    constant_time_eq(
        expected.as_bytes(),
        credentials.response.to_ascii_lowercase().as_bytes(),
    )
}

/// A `WWW-Authenticate` / `Proxy-Authenticate` value offering `qop=auth`.
pub fn challenge(realm: &str, nonce: &str, algorithm: DigestAlgorithm, stale: bool) -> String {
    let stale = if stale { ", stale=true" } else { "" };
    format!(
        "Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"{}",
        escape(realm),
        escape(nonce),
        algorithm.name(),
        stale
    )
}

/// Splits `k=v, k="quoted, \"v\""` into pairs. Keys keep their case; quoted
/// values lose their quotes and escapes. Junk between pairs is skipped.
pub fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ',') {
            key.push(c);
        }
        if chars.peek().is_none() && key.trim().is_empty() {
            return out;
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            while chars.next_if(|c| *c != ',').is_some() {}
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// Byte equality whose running time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example_response() {
        // RFC 2617 section 3.5 (HTTP, but the same arithmetic).
        let ha1 = ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
        );
        let r = response(
            DigestAlgorithm::Md5,
            &ha1,
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(QopAuth {
                nc: "00000001",
                cnonce: "0a4f113b",
            }),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc_7616_sha256_example_response() {
        // RFC 7616 section 3.9.1.
        let ha1 = ha1(
            DigestAlgorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        let r = response(
            DigestAlgorithm::Sha256,
            &ha1,
            "GET",
            "/dir/index.html",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            Some(QopAuth {
                nc: "00000001",
                cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            }),
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn credentials_are_parsed_with_quotes_escapes_and_any_case() {
        let c = parse_credentials(
            "Digest username=\"101\",realm=\"switch\\\"board\", NONCE=\"n, 1\", \
             uri=\"sip:127.0.0.1\", response=\"ABC\", algorithm=SHA-256, qop=auth, \
             nc=00000001, cnonce=\"xyz\"",
        )
        .unwrap();
        assert_eq!(c.username, "101");
        assert_eq!(c.realm, "switch\"board");
        assert_eq!(c.nonce, "n, 1");
        assert_eq!(c.uri, "sip:127.0.0.1");
        assert_eq!(c.algorithm, DigestAlgorithm::Sha256);
        assert_eq!(c.nc.as_deref(), Some("00000001"));
        assert_eq!(c.cnonce.as_deref(), Some("xyz"));
    }

    #[test]
    fn unsupported_or_broken_credentials_are_refused() {
        assert_eq!(
            parse_credentials("Basic dXNlcjpwYXNz"),
            Err(CredentialsError::NotDigest)
        );
        assert_eq!(
            parse_credentials("Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\""),
            Err(CredentialsError::Missing("response"))
        );
        let sess = "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", \
                    response=\"x\", algorithm=MD5-sess";
        assert_eq!(parse_credentials(sess), Err(CredentialsError::Unsupported));
        let int = "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", \
                   response=\"x\", qop=auth-int, nc=1, cnonce=c";
        assert_eq!(parse_credentials(int), Err(CredentialsError::Unsupported));
        // Garbage never panics.
        for s in ["", "Digest", "Digest ,,,===\"", "Digest a=\"unterminated"] {
            let _ = parse_credentials(s);
        }
    }

    #[test]
    fn verify_accepts_the_right_password_only() {
        for algorithm in DigestAlgorithm::ALL {
            let stored = ha1(algorithm, "101", "switchboard", "secret");
            let wrong = ha1(algorithm, "101", "switchboard", "guess");
            let resp = response(
                algorithm,
                &stored,
                "REGISTER",
                "sip:pbx",
                "abc",
                Some(QopAuth {
                    nc: "00000001",
                    cnonce: "c",
                }),
            );
            let header = format!(
                "Digest username=\"101\", realm=\"switchboard\", nonce=\"abc\", \
                 uri=\"sip:pbx\", response=\"{resp}\", algorithm={}, qop=auth, \
                 nc=00000001, cnonce=\"c\"",
                algorithm.name()
            );
            let c = parse_credentials(&header).unwrap();
            assert!(verify(&c, &stored, "REGISTER"));
            assert!(!verify(&c, &wrong, "REGISTER"));
            assert!(!verify(&c, &stored, "INVITE"));
        }
    }

    #[test]
    fn challenge_offers_qop_auth_and_marks_stale() {
        assert_eq!(
            challenge("switchboard", "n1", DigestAlgorithm::Sha256, true),
            "Digest realm=\"switchboard\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\", stale=true"
        );
    }
}
