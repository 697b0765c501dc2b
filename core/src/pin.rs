//! Voicemail PINs as the store keeps them: a salted SHA-256 digest, never the PIN itself.
//!
//! One round of SHA-256 is deliberate. A PIN is 4 to 8 digits, at most 10^8 candidates, so
//! no hash, however slow, protects a stolen digest against offline guessing: a stretched
//! hash would only cost the attacker minutes instead of seconds. What protects PINs is that
//! the digest never leaves the store and that tries are limited across calls, per mailbox
//! (`office::try_pin`). A digest written in a plan (`pin "sha256$…"`) only keeps the PIN
//! from a glance; the plan folder must stay private all the same.
//! A slow hash would instead spend the voicemail session budget of 50 µs on every check.
//! The salt keeps equal PINs from having equal digests, so a leaked table reveals nothing
//! about which mailboxes share a PIN.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The name of the scheme in the text form, so a future scheme can be told apart.
const SCHEME: &str = "sha256";

/// A salted SHA-256 digest of a PIN.
///
/// Its text form is `sha256$<salt hex>$<hash hex>`, so a database can keep it as text.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash {
    salt: [u8; 16],
    hash: [u8; 32],
}

impl PinHash {
    /// Hashes `pin` with `salt`; the caller supplies the salt so that `core` needs no
    /// random source of its own.
    pub fn new(pin: &str, salt: [u8; 16]) -> PinHash {
        PinHash {
            salt,
            hash: digest(&salt, pin),
        }
    }

    /// Whether `pin` is the PIN this hash was made from.
    ///
    /// The digests are compared in constant time, so the time taken does not tell an
    /// attacker how many leading bytes of a guess's digest were right.
    pub fn verify(&self, pin: &str) -> bool {
        let candidate = digest(&self.salt, pin);
        let difference = candidate
            .iter()
            .zip(self.hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // `black_box` keeps the optimiser from turning the fold into an early exit.
        std::hint::black_box(difference) == 0
    }
}

fn digest(salt: &[u8; 16], pin: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(pin.as_bytes());
    hasher.finalize().into()
}

/// The digest is left out, so that logging a store's state cannot leak it.
impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinHash { .. }")
    }
}

impl fmt::Display for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}${}${}", hex(&self.salt), hex(&self.hash))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a stored text is not a PIN hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePinHashError {
    reason: String,
}

impl fmt::Display for ParsePinHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a stored PIN hash ({}); expected `sha256$<32 hex digits>$<64 hex digits>`",
            self.reason
        )
    }
}

impl std::error::Error for ParsePinHashError {}

fn parse_error(reason: impl Into<String>) -> ParsePinHashError {
    ParsePinHashError {
        reason: reason.into(),
    }
}

impl FromStr for PinHash {
    type Err = ParsePinHashError;

    fn from_str(s: &str) -> Result<PinHash, ParsePinHashError> {
        let mut parts = s.split('$');
        let (Some(scheme), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(parse_error(
                "it must have exactly three `$`-separated parts",
            ));
        };
        if scheme != SCHEME {
            return Err(parse_error(format!("unknown scheme `{scheme}`")));
        }
        Ok(PinHash {
            salt: unhex(salt, "salt")?,
            hash: unhex(hash, "hash")?,
        })
    }
}

/// Decodes exactly `N` bytes of hex (either case); `what` names the part for the error.
fn unhex<const N: usize>(text: &str, what: &str) -> Result<[u8; N], ParsePinHashError> {
    if text.len() != 2 * N {
        return Err(parse_error(format!(
            "the {what} has {} characters, not {}",
            text.len(),
            2 * N
        )));
    }
    let mut out = [0u8; N];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        match (digit(pair[0]), digit(pair[1])) {
            (Some(high), Some(low)) => out[i] = (high * 16 + low) as u8,
            _ => return Err(parse_error(format!("the {what} is not hex"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: [u8; 16] = [7; 16];

    #[test]
    fn verifies_the_right_pin_only() {
        let h = PinHash::new("1234", SALT);
        assert!(h.verify("1234"));
        assert!(!h.verify("1235"));
        assert!(!h.verify("123"));
        assert!(!h.verify("12345"));
        assert!(!h.verify(""));
    }

    #[test]
    fn the_salt_changes_the_digest() {
        let a = PinHash::new("1234", SALT);
        let b = PinHash::new("1234", [8; 16]);
        assert_ne!(a, b);
        assert_ne!(a.to_string(), b.to_string());
        assert!(b.verify("1234"));
    }

    #[test]
    fn digest_is_sha256_of_salt_then_pin() {
        // SHA-256 of the 16 zero bytes followed by "1234", computed independently with
        // `(head -c 16 /dev/zero; printf 1234) | sha256sum`.
        let h = PinHash::new("1234", [0; 16]);
        assert_eq!(
            h.to_string(),
            "sha256$00000000000000000000000000000000$\
             e4ae0c82639990744974cc3495a82432d8c5366e5e5f1796b2f9a36ad12664b5"
        );
    }

    #[test]
    fn text_form_round_trips() {
        let salt: [u8; 16] = core::array::from_fn(|i| (i * 17) as u8);
        let h = PinHash::new("87654321", salt);
        let text = h.to_string();
        assert!(text.starts_with("sha256$00112233445566778899aabbccddeeff$"));
        assert_eq!(text.len(), "sha256$".len() + 32 + 1 + 64);
        let back: PinHash = text.parse().unwrap();
        assert_eq!(back, h);
        assert!(back.verify("87654321"));
        // Upper-case hex is the same hash, as a hand-edited database might hold it.
        let upper: PinHash = text
            .to_uppercase()
            .replace("SHA256", "sha256")
            .parse()
            .unwrap();
        assert_eq!(upper, h);
    }

    #[test]
    fn rejects_malformed_text_with_a_reason() {
        let good = PinHash::new("1234", SALT).to_string();
        let cases = [
            ("", "three `$`-separated parts"),
            ("sha256$00", "three `$`-separated parts"),
            (&format!("{good}$extra"), "three `$`-separated parts"),
            (&good.replace("sha256", "md5"), "unknown scheme `md5`"),
            (
                &good.replacen("07", "", 1),
                "the salt has 30 characters, not 32",
            ),
            (&good.replacen("07", "zz", 1), "the salt is not hex"),
            (&format!("{good}0"), "the hash has 65 characters, not 64"),
        ];
        for (text, reason) in cases {
            let err = text.parse::<PinHash>().unwrap_err();
            let message = err.to_string();
            assert!(message.contains(reason), "{text:?}: {message}");
            assert!(message.contains("expected `sha256$"), "{message}");
        }
    }

    #[test]
    fn debug_does_not_show_the_digest() {
        let h = PinHash::new("1234", SALT);
        let shown = format!("{h:?}");
        assert!(!shown.contains(&hex(&h.hash)));
        assert!(!shown.contains("1234"));
    }
}
