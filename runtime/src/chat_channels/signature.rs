//! The webhooks' signatures, checked over the raw bytes before anything is parsed.
//!
//! Meta (WhatsApp Cloud API, Messenger) sends `X-Hub-Signature-256: sha256=<hex>`, the
//! HMAC-SHA256 of the raw body keyed with the app secret. Twilio sends
//! `X-Twilio-Signature`, the base64 HMAC-SHA1 keyed with the auth token of the URL it
//! called followed by every POST parameter, sorted by name, as name and value with no
//! separators. Both are compared in constant time (`Mac::verify_slice`), so an attacker
//! cannot learn a valid signature byte by byte from how long a refusal takes.

use crate::secret::Secret;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// Why a signature was refused (401); the words are the answer's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing: this webhook only takes requests the provider signed")]
    Missing(&'static str),
    #[error("the {0} header is not a signature of this request")]
    Wrong(&'static str),
}

pub const META_HEADER: &str = "x-hub-signature-256";
pub const TWILIO_HEADER: &str = "x-twilio-signature";

/// Checks Meta's `X-Hub-Signature-256` (`header`, as sent) of `body` with `app_secret`.
pub fn check_meta(
    app_secret: &Secret,
    body: &[u8],
    header: Option<&[u8]>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing("X-Hub-Signature-256"))?;
    let wrong = SignatureError::Wrong("X-Hub-Signature-256");
    let hex = header.strip_prefix(b"sha256=").ok_or(wrong.clone())?;
    let tag = decode_hex(hex).ok_or(wrong.clone())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&tag).map_err(|_| wrong)
}

/// The `X-Hub-Signature-256` header Meta would send for `body`: for tests and the bench.
pub fn sign_meta(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for b in tag.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Checks Twilio's `X-Twilio-Signature` of a form POST to `url` (exactly as Twilio
/// called it: the configured public URL, the path and any query) carrying `params`.
pub fn check_twilio(
    auth_token: &Secret,
    url: &str,
    params: &[(String, String)],
    header: Option<&[u8]>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing("X-Twilio-Signature"))?;
    let wrong = SignatureError::Wrong("X-Twilio-Signature");
    let tag = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|_| wrong.clone())?;
    twilio_mac(auth_token.expose(), url, params)
        .verify_slice(&tag)
        .map_err(|_| wrong)
}

/// The `X-Twilio-Signature` Twilio would send: for tests and the bench.
pub fn sign_twilio(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let tag = twilio_mac(auth_token, url, params).finalize().into_bytes();
    base64::engine::general_purpose::STANDARD.encode(tag)
}

fn twilio_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name; a name sent twice keeps its values in the order sent (a stable sort).
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    hex.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meta_signature_is_the_hmac_sha256_of_the_raw_body() {
        let secret = Secret::new("app-secret");
        let body = br#"{"object":"page","entry":[]}"#;
        let header = sign_meta("app-secret", body);
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert_eq!(check_meta(&secret, body, Some(header.as_bytes())), Ok(()));
        // Upper-case hex is the same signature.
        let upper = format!("sha256={}", header[7..].to_uppercase());
        assert_eq!(check_meta(&secret, body, Some(upper.as_bytes())), Ok(()));
        // One byte of the body changed, another secret, a missing or garbled header.
        let wrong = Err(SignatureError::Wrong("X-Hub-Signature-256"));
        assert_eq!(
            check_meta(
                &secret,
                b"{\"object\":\"page\",\"entry\":[ ]}",
                Some(header.as_bytes())
            ),
            wrong
        );
        assert_eq!(
            check_meta(&Secret::new("other"), body, Some(header.as_bytes())),
            wrong
        );
        assert_eq!(check_meta(&secret, body, Some(b"sha256=zz")), wrong);
        assert_eq!(
            check_meta(&secret, body, Some(&header.as_bytes()[7..])),
            wrong
        );
        assert_eq!(
            check_meta(&secret, body, None),
            Err(SignatureError::Missing("X-Hub-Signature-256"))
        );
    }

    /// The example of Twilio's security page: a voice request to a URL with a query.
    #[test]
    fn the_twilio_signature_matches_the_providers_published_example() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .rev() // the order sent does not matter: the names are sorted
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign_twilio("12345", url, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        let token = Secret::new("12345");
        let header = b"0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        assert_eq!(check_twilio(&token, url, &params, Some(header)), Ok(()));
        let other_url = "https://mycompany.com/myapp.php?foo=1&bar=3";
        assert!(check_twilio(&token, other_url, &params, Some(header)).is_err());
        assert!(check_twilio(&token, url, &params, Some(b"not base64!")).is_err());
        assert_eq!(
            check_twilio(&token, url, &params, None),
            Err(SignatureError::Missing("X-Twilio-Signature"))
        );
    }
}
