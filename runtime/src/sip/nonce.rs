//! Server nonces, sans-IO: a nonce carries the second it was issued and a salt,
//! sealed with an HMAC-SHA-256 under a secret drawn when the server starts. So the
//! server keeps no table of issued nonces, a forged or altered one is refused,
//! and one older than [`NONCE_LIFETIME_SECS`] is stale.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::digest::to_hex;

/// How long a nonce may be used, in seconds.
pub const NONCE_LIFETIME_SECS: u64 = 300;

/// Bytes of the HMAC kept in a nonce.
const TAG_LEN: usize = 16;

/// What a presented nonce turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this server less than [`NONCE_LIFETIME_SECS`] ago.
    Fresh { issued: u64 },
    /// Issued by this server, but too long ago.
    Stale,
    /// Not one of ours: malformed, altered, from another run, or from the future.
    Invalid,
}

/// Issues and checks nonces under one secret.
pub struct NonceKey {
    secret: [u8; 32],
}

impl NonceKey {
    pub fn new(secret: [u8; 32]) -> NonceKey {
        NonceKey { secret }
    }

    /// A nonce issued at `now` (seconds on the caller's clock); `salt` makes
    /// nonces issued in the same second differ.
    pub fn issue(&self, now: u64, salt: u64) -> String {
        let mut body = [0u8; 16];
        body[..8].copy_from_slice(&now.to_be_bytes());
        body[8..].copy_from_slice(&salt.to_be_bytes());
        let tag = self.tag(&body);
        format!("{}{}", to_hex(&body), to_hex(&tag[..TAG_LEN]))
    }

    /// Checks a nonce presented at `now`.
    pub fn check(&self, nonce: &str, now: u64) -> NonceCheck {
        let Some(bytes) = from_hex(nonce) else {
            return NonceCheck::Invalid;
        };
        if bytes.len() != 16 + TAG_LEN {
            return NonceCheck::Invalid;
        }
        let (body, tag) = bytes.split_at(16);
        let mut mac = self.mac();
        mac.update(body);
        if mac.verify_truncated_left(tag).is_err() {
            return NonceCheck::Invalid;
        }
        let issued = u64::from_be_bytes(body[..8].try_into().expect("eight bytes"));
        if issued > now {
            NonceCheck::Invalid
        } else if now - issued >= NONCE_LIFETIME_SECS {
            NonceCheck::Stale
        } else {
            NonceCheck::Fresh { issued }
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes a key of any length")
    }

    fn tag(&self, body: &[u8]) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NonceKey {
        NonceKey::new([7; 32])
    }

    #[test]
    fn a_fresh_nonce_is_accepted_until_its_lifetime_ends() {
        let nonce = key().issue(1_000, 42);
        assert_eq!(
            key().check(&nonce, 1_000),
            NonceCheck::Fresh { issued: 1_000 }
        );
        assert_eq!(
            key().check(&nonce, 1_000 + NONCE_LIFETIME_SECS - 1),
            NonceCheck::Fresh { issued: 1_000 }
        );
        assert_eq!(
            key().check(&nonce, 1_000 + NONCE_LIFETIME_SECS),
            NonceCheck::Stale
        );
    }

    #[test]
    fn salts_make_nonces_of_one_second_differ() {
        assert_ne!(key().issue(5, 1), key().issue(5, 2));
    }

    #[test]
    fn forged_altered_foreign_and_future_nonces_are_invalid() {
        let nonce = key().issue(1_000, 1);
        let other = NonceKey::new([8; 32]);
        assert_eq!(other.check(&nonce, 1_000), NonceCheck::Invalid);
        let mut altered = nonce.clone().into_bytes();
        altered[3] = if altered[3] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(key().check(&altered, 1_000), NonceCheck::Invalid);
        assert_eq!(key().check(&nonce, 999), NonceCheck::Invalid);
        for junk in ["", "zz", "abc", "é", &nonce[..nonce.len() - 2]] {
            assert_eq!(key().check(junk, 1_000), NonceCheck::Invalid, "{junk:?}");
        }
    }
}
