//! Digest authentication of requests, sans-IO: which challenges to send, and
//! whether the credentials on a request are good. Time comes in as seconds on
//! the caller's clock, and the stored HA1 digest from the caller, who looks it up
//! outside any lock.
//!
//! A nonce count may not be used twice with one nonce (and a nonce without
//! `qop` only once), so a captured request cannot be replayed.

use std::collections::HashMap;

use super::digest::{self, CredentialsError, DigestAlgorithm, DigestCredentials};
use super::nonce::{NONCE_LIFETIME_SECS, NonceCheck, NonceKey};

/// At most this many nonces have their counts remembered; past it the expired
/// ones are forgotten, and if that is not enough, all of them.
const MAX_TRACKED_NONCES: usize = 65_536;

/// The outcome of checking a request's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthVerdict {
    /// Good credentials for this user.
    Authenticated { user: String },
    /// No usable credentials for this realm (none, or a nonce that is not
    /// ours): send a fresh challenge.
    Challenge,
    /// Credentials for an expired or already used nonce: challenge again with
    /// `stale=true`, so the phone retries without asking anyone.
    Stale,
    /// A well-formed answer to a live challenge of ours, with a wrong password or an
    /// unknown user: a failure, counted against the source and the account. Nothing
    /// else is: malformed credentials or someone else's nonce prove nothing, and counting
    /// them would let anyone lock an account out with requests nobody could answer.
    Rejected,
    /// Not checked: the source address or the account is refused for now. Counts
    /// nothing more.
    Refused,
}

/// Checks credentials for one realm.
pub struct Authenticator {
    realm: String,
    /// Offered in challenges, in order; answers with any other algorithm are refused.
    algorithms: Vec<DigestAlgorithm>,
    nonces: NonceKey,
    /// Highest nonce count seen per nonce, with the second the nonce was issued.
    counts: HashMap<String, (u64, u32)>,
}

impl Authenticator {
    pub fn new(realm: impl Into<String>, secret: [u8; 32]) -> Authenticator {
        Authenticator {
            realm: realm.into(),
            algorithms: DigestAlgorithm::ALL.to_vec(),
            nonces: NonceKey::new(secret),
            counts: HashMap::new(),
        }
    }

    /// Challenges with only these algorithms, in this order (at least one).
    pub fn with_algorithms(mut self, algorithms: &[DigestAlgorithm]) -> Authenticator {
        if !algorithms.is_empty() {
            self.algorithms = algorithms.to_vec();
        }
        self
    }

    /// One challenge header value per offered algorithm, sharing a new nonce.
    pub fn challenges(&self, now: u64, salt: u64, stale: bool) -> Vec<String> {
        let nonce = self.nonces.issue(now, salt);
        self.algorithms
            .iter()
            .copied()
            .map(|a| digest::challenge(&self.realm, &nonce, a, stale))
            .collect()
    }

    /// Checks credentials found by [`find_credentials`] on a request with
    /// `method`; `stored` is the HA1 the credential store holds for their user
    /// and algorithm, if any.
    pub fn check(
        &mut self,
        method: &str,
        found: Result<Option<DigestCredentials>, CredentialsError>,
        stored: Option<&str>,
        now: u64,
    ) -> AuthVerdict {
        let credentials = match found {
            Ok(Some(credentials)) => credentials,
            Ok(None) => return AuthVerdict::Challenge,
            // Malformed: not an answer to anything we asked, so not a failed guess.
            Err(_) => return AuthVerdict::Challenge,
        };
        if !self.algorithms.contains(&credentials.algorithm) {
            // An algorithm this server does not offer gets a fresh challenge with the
            // ones it does.
            return AuthVerdict::Challenge;
        }
        let issued = match self.nonces.check(&credentials.nonce, now) {
            NonceCheck::Fresh { issued } => issued,
            NonceCheck::Stale => return AuthVerdict::Stale,
            NonceCheck::Invalid => return AuthVerdict::Challenge,
        };
        let Some(count) = nonce_count(&credentials) else {
            return AuthVerdict::Challenge;
        };
        if self
            .counts
            .get(&credentials.nonce)
            .is_some_and(|&(_, seen)| count <= seen)
        {
            return AuthVerdict::Stale;
        }
        let Some(stored) = stored else {
            return AuthVerdict::Rejected;
        };
        if !digest::verify(&credentials, stored, method) {
            return AuthVerdict::Rejected;
        }
        self.remember(credentials.nonce, issued, count, now);
        AuthVerdict::Authenticated {
            user: credentials.username,
        }
    }

    fn remember(&mut self, nonce: String, issued: u64, count: u32, now: u64) {
        if self.counts.len() >= MAX_TRACKED_NONCES {
            self.counts
                .retain(|_, (issued, _)| now.saturating_sub(*issued) < NONCE_LIFETIME_SECS);
            if self.counts.len() >= MAX_TRACKED_NONCES {
                self.counts.clear();
            }
        }
        self.counts.insert(nonce, (issued, count));
    }
}

/// The Digest credentials for `realm` among the values of a request's
/// credentials headers: none when there are none for this realm, an error when
/// they cannot be used.
pub fn find_credentials(
    realm: &str,
    headers: &[String],
) -> Result<Option<DigestCredentials>, CredentialsError> {
    for header in headers {
        match digest::parse_credentials(header) {
            Ok(c) if c.realm == realm => return Ok(Some(c)),
            Ok(_) | Err(CredentialsError::NotDigest) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// The nonce count as a number; a request without `qop` counts as 1, so its
/// nonce serves once.
fn nonce_count(c: &DigestCredentials) -> Option<u32> {
    match &c.nc {
        None => Some(1),
        Some(nc) => u32::from_str_radix(nc, 16).ok().filter(|n| *n > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::digest::{QopAuth, ha1, response};

    const REALM: &str = "switchboard";

    fn store(user: &str, algorithm: DigestAlgorithm) -> Option<String> {
        (user == "101").then(|| ha1(algorithm, "101", REALM, "secret"))
    }

    fn nonce_of(challenge: &str) -> String {
        digest::parse_params(challenge.trim_start_matches("Digest"))
            .into_iter()
            .find(|(k, _)| k == "nonce")
            .unwrap()
            .1
    }

    fn answer(
        nonce: &str,
        algorithm: DigestAlgorithm,
        user: &str,
        password: &str,
        nc: &str,
    ) -> String {
        let h = ha1(algorithm, user, REALM, password);
        let r = response(
            algorithm,
            &h,
            "REGISTER",
            "sip:pbx",
            nonce,
            Some(QopAuth { nc, cnonce: "cn" }),
        );
        format!(
            "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"sip:pbx\", \
             response=\"{r}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"cn\"",
            algorithm.name()
        )
    }

    fn verify(auth: &mut Authenticator, headers: &[String], now: u64) -> AuthVerdict {
        let found = find_credentials(REALM, headers);
        let stored = match &found {
            Ok(Some(c)) => store(&c.username, c.algorithm),
            _ => None,
        };
        auth.check("REGISTER", found, stored.as_deref(), now)
    }

    fn check(auth: &mut Authenticator, header: String, now: u64) -> AuthVerdict {
        verify(auth, &[header], now)
    }

    #[test]
    fn challenges_offer_md5_then_sha256_with_one_nonce() {
        let auth = Authenticator::new(REALM, [1; 32]);
        let c = auth.challenges(10, 1, false);
        assert_eq!(c.len(), 2);
        assert!(c[0].contains("algorithm=MD5"));
        assert!(c[1].contains("algorithm=SHA-256"));
        assert_eq!(nonce_of(&c[0]), nonce_of(&c[1]));
        assert!(auth.challenges(10, 2, true)[0].ends_with("stale=true"));
    }

    #[test]
    fn both_algorithms_authenticate_and_a_wrong_password_is_rejected() {
        let mut auth = Authenticator::new(REALM, [1; 32]);
        for (salt, algorithm) in (1..).zip(DigestAlgorithm::ALL) {
            let nonce = nonce_of(&auth.challenges(10, salt, false)[0]);
            let good = answer(&nonce, algorithm, "101", "secret", "00000001");
            assert_eq!(
                check(&mut auth, good, 11),
                AuthVerdict::Authenticated { user: "101".into() }
            );
            let bad = answer(&nonce, algorithm, "101", "wrong", "00000002");
            assert_eq!(check(&mut auth, bad, 11), AuthVerdict::Rejected);
            let unknown = answer(&nonce, algorithm, "999", "secret", "00000003");
            assert_eq!(check(&mut auth, unknown, 11), AuthVerdict::Rejected);
        }
    }

    #[test]
    fn a_replayed_count_or_an_old_nonce_is_stale() {
        let mut auth = Authenticator::new(REALM, [1; 32]);
        let nonce = nonce_of(&auth.challenges(10, 1, false)[0]);
        let first = answer(&nonce, DigestAlgorithm::Md5, "101", "secret", "00000001");
        assert!(matches!(
            check(&mut auth, first.clone(), 11),
            AuthVerdict::Authenticated { .. }
        ));
        assert_eq!(check(&mut auth, first, 12), AuthVerdict::Stale);
        let next = answer(&nonce, DigestAlgorithm::Md5, "101", "secret", "00000002");
        assert!(matches!(
            check(&mut auth, next, 12),
            AuthVerdict::Authenticated { .. }
        ));
        let late = answer(&nonce, DigestAlgorithm::Md5, "101", "secret", "00000003");
        assert_eq!(
            check(&mut auth, late, 10 + NONCE_LIFETIME_SECS),
            AuthVerdict::Stale
        );
    }

    #[test]
    fn missing_foreign_realm_or_foreign_nonce_credentials_get_a_challenge() {
        let mut auth = Authenticator::new(REALM, [1; 32]);
        assert_eq!(verify(&mut auth, &[], 1), AuthVerdict::Challenge);
        let other_realm = answer("x", DigestAlgorithm::Md5, "101", "secret", "00000001")
            .replace("realm=\"switchboard\"", "realm=\"elsewhere\"");
        assert_eq!(check(&mut auth, other_realm, 1), AuthVerdict::Challenge);
        let foreign = Authenticator::new(REALM, [2; 32]).challenges(1, 1, false);
        let header = answer(
            &nonce_of(&foreign[0]),
            DigestAlgorithm::Md5,
            "101",
            "secret",
            "00000001",
        );
        assert_eq!(check(&mut auth, header, 1), AuthVerdict::Challenge);
    }

    #[test]
    fn malformed_credentials_get_a_challenge_not_a_failure() {
        let mut auth = Authenticator::new(REALM, [1; 32]);
        let nonce = nonce_of(&auth.challenges(10, 1, false)[0]);
        let no_response =
            format!("Digest username=\"101\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"sip:x\"");
        assert_eq!(check(&mut auth, no_response, 11), AuthVerdict::Challenge);
        let bad_count = answer(&nonce, DigestAlgorithm::Md5, "101", "secret", "zz");
        assert_eq!(check(&mut auth, bad_count, 11), AuthVerdict::Challenge);
    }

    #[test]
    fn only_the_configured_algorithms_are_offered() {
        let auth = Authenticator::new(REALM, [1; 32]).with_algorithms(&[DigestAlgorithm::Md5]);
        let challenges = auth.challenges(1, 1, false);
        assert_eq!(challenges.len(), 1);
        assert!(challenges[0].contains("algorithm=MD5"), "{challenges:?}");
        let both = Authenticator::new(REALM, [1; 32]).challenges(1, 1, false);
        assert_eq!(both.len(), 2);
    }
}
