//! The challenge at the door, sans-IO: a REGISTER or an INVITE that starts something
//! new and carries no credentials the server could check — none, malformed,
//! for another realm or algorithm, or with a nonce that is not ours or is too old — is
//! answered here with a challenge, statelessly, before the stack makes a transaction
//! for it (as Kamailio does). Only a request answering a challenge we issued reaches
//! the stack and [`auth`](super::auth).
//!
//! SUBSCRIBE is not challenged here: the subscription handler first refuses what it
//! would refuse anyway (another event package, a mailbox that is not the caller's, too
//! short an expiry, too many from one address) so a phone is not invited to retry
//! with credentials; the per-address rate and the bound on transactions hold it.
//!
//! So an unauthenticated flood leaves nothing behind: no transaction waiting 32 s for
//! its timer, no challenge retransmitted ten times to a forged source. A client that
//! missed our answer retransmits its request and gets the same kind of answer again.
//! The ACK of a challenged INVITE is recognised by the To tag we gave (a MAC of the
//! Call-ID, so nothing is remembered) and dropped.

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use rsipstack::sip::{Header, HeadersExt, Method, Request, Response, StatusCode};
use sha2::Sha256;

use super::auth::find_credentials;
use super::digest::{self, DigestAlgorithm, to_hex};
use super::nonce::{NonceCheck, NonceKey};
use super::stateless;

/// The credentials headers an INVITE may answer with, in the order they are read.
pub const INVITE_CREDENTIALS: [&str; 2] = ["Proxy-Authorization", "Authorization"];
/// The credentials header of REGISTER.
pub const SIGN_IN_CREDENTIALS: [&str; 1] = ["Authorization"];

/// Salts of the door's nonces have this bit set, so they never equal one the stack's
/// authenticator issues in the same second.
const DOOR_SALT: u64 = 1 << 63;

/// What to do with a request at the door.
#[derive(Debug)]
pub enum DoorVerdict {
    /// Let the stack have it.
    Pass,
    /// Send this answer; the stack never sees the request.
    Answer(Box<Response>),
    /// Drop it without a word.
    Drop,
}

/// Issues the door's challenges, under the server's nonce secret.
pub struct Door {
    realm: String,
    algorithms: Vec<DigestAlgorithm>,
    nonces: NonceKey,
    secret: [u8; 32],
    salt: AtomicU64,
}

impl Door {
    /// A door for `realm` challenging with `algorithms` (all of them when empty), whose
    /// nonces the authenticator made with the same `secret` accepts.
    pub fn new(realm: String, algorithms: &[DigestAlgorithm], secret: [u8; 32]) -> Door {
        let algorithms = if algorithms.is_empty() {
            DigestAlgorithm::ALL.to_vec()
        } else {
            algorithms.to_vec()
        };
        Door {
            realm,
            algorithms,
            nonces: NonceKey::new(secret),
            secret,
            salt: AtomicU64::new(0),
        }
    }

    /// Decides on `request`, received at `now` (seconds on the authenticator's clock);
    /// `from_trunk` when it came from a trunk's address, whose INVITEs carry no
    /// credentials.
    pub fn decide(&self, request: &Request, from_trunk: bool, now: u64) -> DoorVerdict {
        let Ok(call_id) = request.call_id_header().map(|c| c.value().to_string()) else {
            return DoorVerdict::Pass;
        };
        let to_tag = request
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten());
        if let Some(tag) = &to_tag {
            if request.method == Method::Ack && tag.value() == self.tag_for(&call_id) {
                return DoorVerdict::Drop;
            }
            return DoorVerdict::Pass; // in a dialog: the stack and its handlers decide
        }
        let (names, status, header): (&[&str], _, fn(String) -> Header) = match request.method {
            Method::Register => (&SIGN_IN_CREDENTIALS, StatusCode::Unauthorized, |c| {
                Header::WwwAuthenticate(c.into())
            }),
            Method::Invite if !from_trunk => (
                &INVITE_CREDENTIALS,
                StatusCode::ProxyAuthenticationRequired,
                |c| Header::ProxyAuthenticate(c.into()),
            ),
            _ => return DoorVerdict::Pass,
        };
        let stale = match self.answerable(request, names, now) {
            Answerable::Yes => return DoorVerdict::Pass,
            Answerable::Stale => true,
            Answerable::No => false,
        };
        let nonce = self
            .nonces
            .issue(now, DOOR_SALT | self.salt.fetch_add(1, Ordering::Relaxed));
        let challenges = self
            .algorithms
            .iter()
            .map(|&a| header(digest::challenge(&self.realm, &nonce, a, stale)))
            .collect();
        match stateless::response(request, status, &self.tag_for(&call_id), challenges) {
            Some(response) => DoorVerdict::Answer(Box::new(response)),
            None => DoorVerdict::Drop,
        }
    }

    /// Whether the request's credentials answer a live challenge of ours, so checking
    /// them means something.
    fn answerable(&self, request: &Request, names: &[&str], now: u64) -> Answerable {
        let Ok(Some(credentials)) = find_credentials(&self.realm, &header_values(request, names))
        else {
            return Answerable::No;
        };
        if !self.algorithms.contains(&credentials.algorithm) {
            return Answerable::No;
        }
        match self.nonces.check(&credentials.nonce, now) {
            NonceCheck::Fresh { .. } => Answerable::Yes,
            NonceCheck::Stale => Answerable::Stale,
            NonceCheck::Invalid => Answerable::No,
        }
    }

    /// The To tag of our stateless answers in the dialog `call_id`.
    fn tag_for(&self, call_id: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(b"door-tag:");
        mac.update(call_id.as_bytes());
        format!("sb{}", &to_hex(&mac.finalize().into_bytes())[..16])
    }
}

enum Answerable {
    Yes,
    Stale,
    No,
}

/// The values of the first of the headers `names` that `request` has.
pub fn header_values(request: &Request, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            request
                .headers
                .iter()
                .filter(|h| h.name().eq_ignore_ascii_case(name))
                .map(|h| h.value().to_string())
                .collect::<Vec<_>>()
        })
        .find(|found| !found.is_empty())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsipstack::sip::SipMessage;

    const SECRET: [u8; 32] = [7; 32];

    fn door() -> Door {
        Door::new("office".into(), &[DigestAlgorithm::Md5], SECRET)
    }

    fn request(method: &str, to_tag: &str, extra: &str) -> Request {
        let text = format!(
            "{method} sip:200@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n\
             From: <sip:101@127.0.0.1>;tag=a\r\n\
             To: <sip:200@127.0.0.1>{to_tag}\r\n\
             Call-ID: c1\r\n\
             CSeq: 1 {method}\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        );
        match SipMessage::try_from(text.as_str()).unwrap() {
            SipMessage::Request(r) => r,
            other => panic!("{other:?}"),
        }
    }

    fn answer(verdict: DoorVerdict) -> Response {
        match verdict {
            DoorVerdict::Answer(r) => *r,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    fn credentials(header: &str, nonce: &str) -> String {
        format!(
            "{header}: Digest username=\"101\", realm=\"office\", nonce=\"{nonce}\", \
             uri=\"sip:200@127.0.0.1\", response=\"00000000000000000000000000000000\"\r\n"
        )
    }

    #[test]
    fn requests_without_usable_credentials_are_challenged_statelessly() {
        let door = door();
        let r = answer(door.decide(&request("INVITE", "", ""), false, 10));
        assert_eq!(r.status_code, StatusCode::ProxyAuthenticationRequired);
        let text = r.to_string();
        assert!(
            text.contains("Proxy-Authenticate: Digest realm=\"office\""),
            "{text}"
        );
        assert!(text.contains("To: <sip:200@127.0.0.1>;tag=sb"), "{text}");
        let r = answer(door.decide(&request("REGISTER", "", ""), false, 10));
        assert_eq!(r.status_code, StatusCode::Unauthorized);
        assert!(r.to_string().contains("WWW-Authenticate: Digest"));
        // Malformed, or a nonce we never issued: still only a challenge.
        let malformed = "Authorization: Digest username=\"101\", realm=\"office\"\r\n";
        let r = answer(door.decide(&request("REGISTER", "", malformed), false, 10));
        assert_eq!(r.status_code, StatusCode::Unauthorized);
        let forged = credentials("Authorization", "00112233");
        let r = answer(door.decide(&request("REGISTER", "", &forged), false, 10));
        assert_eq!(r.status_code, StatusCode::Unauthorized);
    }

    #[test]
    fn answers_to_our_challenges_and_other_requests_pass() {
        let door = door();
        let nonce = NonceKey::new(SECRET).issue(10, 1);
        for (method, header) in [
            ("REGISTER", "Authorization"),
            ("INVITE", "Proxy-Authorization"),
        ] {
            let extra = credentials(header, &nonce);
            let verdict = door.decide(&request(method, "", &extra), false, 11);
            assert!(
                matches!(verdict, DoorVerdict::Pass),
                "{method}: {verdict:?}"
            );
        }
        // A stale nonce gets a challenge saying so.
        let extra = credentials("Authorization", &nonce);
        let r = answer(door.decide(&request("REGISTER", "", &extra), false, 10_000));
        assert!(r.to_string().contains("stale=true"), "{r}");
        // A trunk's INVITE, requests in a dialog, SUBSCRIBE and OPTIONS are not the
        // door's to judge.
        assert!(matches!(
            door.decide(&request("SUBSCRIBE", "", ""), false, 10),
            DoorVerdict::Pass
        ));
        assert!(matches!(
            door.decide(&request("INVITE", "", ""), true, 10),
            DoorVerdict::Pass
        ));
        assert!(matches!(
            door.decide(&request("BYE", ";tag=x", ""), false, 10),
            DoorVerdict::Pass
        ));
        assert!(matches!(
            door.decide(&request("OPTIONS", "", ""), false, 10),
            DoorVerdict::Pass
        ));
    }

    #[test]
    fn the_ack_of_a_challenge_is_dropped_and_other_acks_pass() {
        let door = door();
        let challenge = answer(door.decide(&request("INVITE", "", ""), false, 10));
        let tag = challenge
            .to_header()
            .unwrap()
            .tag()
            .unwrap()
            .unwrap()
            .value()
            .to_string();
        let ack = request("ACK", &format!(";tag={tag}"), "");
        assert!(matches!(door.decide(&ack, false, 10), DoorVerdict::Drop));
        let other = request("ACK", ";tag=phone-dialog", "");
        assert!(matches!(door.decide(&other, false, 10), DoorVerdict::Pass));
    }
}
