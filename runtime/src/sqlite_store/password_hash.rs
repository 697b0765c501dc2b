//! The web passwords' hashes, an admin's (`admins`) or a person's (`web_passwords`):
//! Argon2id, never the password.
//!
//! The hash is a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) carrying its own
//! parameters and random salt, so stronger parameters later need no migration: an old
//! hash still verifies with the parameters it was made with. Argon2 is slow on purpose
//! (tens of milliseconds and 19 MiB a guess), which is what makes a copied store costly
//! to guess from; the same cost is why the server hashes and verifies on the blocking
//! pool, never on the store thread nor a tokio worker.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;
use switchboard_core::store::StoreError;

/// The Argon2id hash (PHC string, default parameters, a fresh random salt) of
/// `password`; `whose` ("admin ana", "extension 101") names it in errors. An empty
/// password is refused: anyone could sign in.
pub fn hash_web_password(whose: &str, password: &str) -> Result<String, StoreError> {
    if password.is_empty() {
        return Err(StoreError::new(format!(
            "refusing an empty password for {whose}: anyone could sign in"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| {
        StoreError::new(format!(
            "the operating system's random source failed ({e}); the password of {whose} \
             was not changed"
        ))
    })?;
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| StoreError::new(format!("hashing the password of {whose}: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches `stored` (a PHC string from the store). With no stored
/// hash (no such admin, no such person, or one without a web password) it spends the
/// same effort on a hash of nothing and says no, so the time taken does not tell a
/// guesser which names exist. Slow by design: call it on the blocking pool.
pub fn verify_web_password(stored: Option<&str>, password: &str) -> bool {
    let Some(stored) = stored else {
        let _ = verify(stand_in_hash(), password);
        return false;
    };
    verify(stored, password)
}

fn verify(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(e) => {
            tracing::error!(
                "a stored web password hash is unreadable ({e}); set the password again \
                 with `switchboard admin set-password` or `switchboard user set-password`"
            );
            false
        }
    }
}

/// A hash of a password nobody knows, made once, for `verify_web_password` to spend its
/// effort on when there is no stored hash.
fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        hash_web_password("stand-in", "nobody has this password: stand-in").unwrap_or_default()
    })
}
