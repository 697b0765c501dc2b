//! The web editor's admins: a name and an Argon2id hash of the password, never the
//! password.
//!
//! The hash (`password_hash`, shared with the people's web passwords) is a PHC string
//! carrying its own parameters and salt; the server verifies it on the blocking pool
//! (`verify_web_password`).
//!
//! Setting a password ends that admin's sessions, as removing the admin does: a password
//! is changed because someone else may know it.

use super::SqliteStore;
use super::password_hash::hash_web_password;
use rusqlite::{OptionalExtension, params};
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
        let hash = hash_web_password(&format!("admin {name}"), password)?;
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
