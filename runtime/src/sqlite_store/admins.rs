//! The web editor's admins: a name and an Argon2id hash of the password, never the
//! password.
//!
//! The hash is a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) carrying its own
//! parameters and random salt, so stronger parameters later need no migration: an old
//! hash still verifies with the parameters it was made with. Argon2 is slow on purpose
//! (tens of milliseconds and 19 MiB a guess), which is what makes a copied store costly
//! to guess from; the same cost is why the server verifies on the blocking pool, never
//! on the store thread nor a tokio worker.
//!
//! Setting a password ends that admin's sessions, as removing the admin does: a password
//! is changed because someone else may know it.

use super::SqliteStore;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{OptionalExtension, params};
use std::sync::OnceLock;
use switchboard_core::store::StoreError;

/// An admin as `switchboard admin list` shows one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub name: String,
    /// When the password was last set, milliseconds since the Unix epoch.
    pub password_set_ms: u64,
}

impl SqliteStore {
    /// Sets the web password of admin `name` (creating the admin), stored as an Argon2id
    /// hash, and ends the admin's sessions. The caller checks the password against the
    /// policy first (`password_policy::check`); an empty one is refused here as well.
    pub fn set_admin_password(
        &mut self,
        name: &str,
        password: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let hash = hash_admin_password(name, password)?;
        self.write(&format!("set the password of admin {name}"), |tx| {
            tx.execute(
                "INSERT INTO admins (name, password_hash, password_set) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET
                     password_hash = excluded.password_hash,
                     password_set = excluded.password_set",
                params![name, hash, now_ms],
            )?;
            tx.execute("DELETE FROM sessions WHERE admin = ?1", [name])?;
            Ok(())
        })
    }

    /// The stored hash of admin `name`'s password (a PHC string); `None` for no such admin.
    pub fn admin_password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.read(&format!("read admin {name}"), |conn| {
            conn.query_row(
                "SELECT password_hash FROM admins WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()
        })
    }

    /// Every admin, by name.
    pub fn list_admins(&self) -> Result<Vec<Admin>, StoreError> {
        self.read("list the admins", |conn| {
            let mut statement =
                conn.prepare("SELECT name, password_set FROM admins ORDER BY name")?;
            let rows = statement.query_map([], |row| {
                Ok(Admin {
                    name: row.get(0)?,
                    password_set_ms: row.get(1)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Removes admin `name` and ends their sessions; false when there was no such admin.
    pub fn remove_admin(&mut self, name: &str) -> Result<bool, StoreError> {
        self.write(&format!("remove admin {name}"), |tx| {
            tx.execute("DELETE FROM sessions WHERE admin = ?1", [name])?;
            Ok(tx.execute("DELETE FROM admins WHERE name = ?1", [name])? > 0)
        })
    }
}

/// The Argon2id hash (PHC string, default parameters, a fresh random salt) of `password`.
fn hash_admin_password(name: &str, password: &str) -> Result<String, StoreError> {
    if password.is_empty() {
        return Err(StoreError::new(format!(
            "refusing an empty password for admin {name}: anyone could sign in"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| {
        StoreError::new(format!(
            "the operating system's random source failed ({e}); the password of admin \
             {name} was not changed"
        ))
    })?;
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| StoreError::new(format!("hashing the password of admin {name}: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches `stored` (a PHC string from `admin_password_hash`). With no
/// stored hash (no such admin) it spends the same effort on a hash of nothing and says
/// no, so the time taken does not tell a guesser which admin names exist. Slow by design:
/// call it on the blocking pool.
pub fn verify_admin_password(stored: Option<&str>, password: &str) -> bool {
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
                "a stored admin password hash is unreadable ({e}); set the password again \
                 with `switchboard admin set-password`"
            );
            false
        }
    }
}

/// A hash of a password nobody knows, made once, for `verify_admin_password` to spend
/// its effort on when the admin does not exist.
fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        hash_admin_password("stand-in", "no admin has this password: stand-in").unwrap_or_default()
    })
}
