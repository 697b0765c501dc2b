//! Signed, expiring public links to chat files: `/chat/files/{id}?exp=<unix s>&sig=<hex>`,
//! where `sig` is HMAC-SHA256 under the server's link key of `"{id}.{exp}"`.
//!
//! Who holds such a link may read the file without a session until `exp`: a live-chat
//! visitor's widget (7 days, signed afresh each time the conversation is shown) and the
//! providers that fetch a file an agent sent to a WhatsApp, Facebook or SMS customer
//! (24 hours, signed when the reply is sent, so a retry a day later still carries a
//! fresh link). The id alone reads nothing, and a link cannot be stretched to another
//! file or a later time without the key.
//!
//! Sans-IO: the key comes in as bytes (its file is `chat/files.rs`'s), the time as
//! seconds since the Unix epoch.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Where a file link's path starts; the id follows.
pub const LINK_PREFIX: &str = "/chat/files/";

/// How long a link shown to a live-chat visitor works.
pub const VISITOR_LINK_SECS: u64 = 7 * 24 * 3600;

/// How long a link handed to a provider works (they fetch it within seconds; a day
/// leaves room for a slow or retried fetch).
pub const PROVIDER_LINK_SECS: u64 = 24 * 3600;

/// The length of the key, in bytes.
pub const KEY_BYTES: usize = 32;

/// The server's secret for file links. Its `Debug` does not show it.
#[derive(Clone)]
pub struct LinkKey([u8; KEY_BYTES]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(…)")
    }
}

impl LinkKey {
    /// The key held in `bytes`: exactly `KEY_BYTES` of them.
    pub fn from_bytes(bytes: &[u8]) -> Option<LinkKey> {
        Some(LinkKey(bytes.try_into().ok()?))
    }

    /// The hex signature of file `id`'s link expiring at `exp`.
    pub fn sign(&self, id: i64, exp: u64) -> String {
        crate::hex::encode(&self.mac(id, exp).finalize().into_bytes())
    }

    /// The path and query of file `id`'s link, expiring at `exp` (seconds since the epoch).
    pub fn link(&self, id: i64, exp: u64) -> String {
        format!("{LINK_PREFIX}{id}?exp={exp}&sig={}", self.sign(id, exp))
    }

    /// Whether `sig` signs file `id` until `exp`, and `exp` is not past at `now`. The
    /// signature is compared in constant time, so a refusal's timing tells nothing of
    /// how near a guess was.
    pub fn verify(&self, id: i64, exp: u64, sig: &str, now: u64) -> bool {
        let Some(tag) = decode_hex(sig) else {
            return false;
        };
        // Checked after the MAC, so an expired link costs the same as a forged one.
        let signed = self.mac(id, exp).verify_slice(&tag).is_ok();
        signed && now < exp
    }

    fn mac(&self, id: i64, exp: u64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(format!("{id}.{exp}").as_bytes());
        mac
    }
}

/// A file an agent sent, as a provider's request names it: a link the provider fetches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileLink {
    /// The whole URL: `chat.public-url` and the signed path.
    pub url: String,
    /// The file's name, as the agent sent it.
    pub name: String,
    /// Its type, like `image/png`.
    pub content_type: String,
}

impl FileLink {
    /// Whether the file is an image of type `types` lists (each provider shows only some
    /// types as a picture; the rest go as a document).
    pub fn is_image_of(&self, types: &[&str]) -> bool {
        types.contains(&self.content_type.as_str())
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    hex.chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fill: u8) -> LinkKey {
        LinkKey::from_bytes(&[fill; KEY_BYTES]).unwrap()
    }

    #[test]
    fn a_link_verifies_until_it_expires() {
        let k = key(7);
        let sig = k.sign(42, 1_000);
        assert_eq!(sig.len(), 64);
        assert!(k.verify(42, 1_000, &sig, 999));
        assert!(!k.verify(42, 1_000, &sig, 1_000), "expired at exp");
        assert_eq!(
            k.link(42, 1_000),
            format!("/chat/files/42?exp=1000&sig={sig}")
        );
    }

    #[test]
    fn a_link_cannot_be_moved_to_another_file_time_or_key() {
        let k = key(7);
        let sig = k.sign(42, 1_000);
        assert!(!k.verify(43, 1_000, &sig, 0), "another file");
        assert!(!k.verify(42, 2_000, &sig, 0), "a later expiry");
        assert!(!key(8).verify(42, 1_000, &sig, 0), "another server's key");
        let mut tampered = sig.clone().into_bytes();
        tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(!k.verify(42, 1_000, &tampered, 0));
        for junk in ["", "zz", &sig[..62], &format!("{sig}00")] {
            assert!(!k.verify(42, 1_000, junk, 0), "{junk:?}");
        }
        // Upper-case hex is the same signature.
        assert!(k.verify(42, 1_000, &sig.to_uppercase(), 0));
    }

    #[test]
    fn a_key_is_exactly_32_bytes_and_never_printed() {
        assert!(LinkKey::from_bytes(&[0; 31]).is_none());
        assert!(LinkKey::from_bytes(&[0; 33]).is_none());
        assert_eq!(format!("{:?}", key(1)), "LinkKey(…)");
    }
}
