//! `switchboard admin`: who may sign in to the web editor. `set-password [NAME]` stores
//! an admin's password (read from standard input) as an Argon2id hash, `list` shows the
//! admins, `remove NAME` takes one away.
//!
//! The password rule is the SIP users' (`switchboard_runtime::password_policy`), with
//! the admin's name as the user name: an admin password opens the whole office, so it is
//! held to at least the rule a phone's is. Setting a password, or removing the admin,
//! signs that admin out everywhere.

use crate::run_cmd::Place;
use crate::user_cmd::{fail, load_store_config, open_or_create, read_secret};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::SystemTime;
use switchboard_runtime::http::time::rfc3339;
use switchboard_runtime::password_policy;
use switchboard_runtime::server::store_path;
use switchboard_runtime::sqlite_store::SqliteStore;
use switchboard_runtime::wall_clock::now_ms;

#[derive(Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the web editor password of an admin (created if new); the password is read
    /// from standard input, like:
    /// `echo 'your own passphrase' | switchboard admin set-password`.
    ///
    /// The rule is `switchboard user set-password`'s: 12 to 128 characters, not the
    /// admin's name, not a run, repetition or well-known password (exit status 2,
    /// nothing stored). The admin's sessions end.
    SetPassword {
        /// The admin's name: letters, digits, `.`, `_` or `-`, up to 64.
        #[arg(default_value = "admin")]
        name: String,
        #[command(flatten)]
        place: Place,
    },
    /// List the admins and when each password was set.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Remove an admin: they can no longer sign in, and their sessions end.
    Remove {
        name: String,
        #[command(flatten)]
        place: Place,
    },
}

pub fn run(args: AdminArgs) -> ExitCode {
    match args.command {
        AdminCommand::SetPassword { name, place } => set_password(name, place),
        AdminCommand::List { place } => list(place),
        AdminCommand::Remove { name, place } => remove(name, place),
    }
}

fn set_password(name: String, place: Place) -> ExitCode {
    if let Err(e) = check_name(&name) {
        return fail(2, e);
    }
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let example = if name == "admin" {
        "echo 'your own passphrase' | switchboard admin set-password".to_string()
    } else {
        format!("echo 'your own passphrase' | switchboard admin set-password {name}")
    };
    let password = match read_secret("password", &example) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    // Checked before the store is opened, so a refused password leaves no trace.
    if let Err(problem) = password_policy::check(&name, &password) {
        return fail(2, format!("admin {name}: {problem} (nothing was stored)"));
    }
    let (mut store, path) = match open_or_create(&config) {
        Ok(opened) => opened,
        Err(e) => return fail(1, e),
    };
    match store.set_admin_password(&name, &password, now_ms()) {
        Ok(()) => {
            println!(
                "password of admin {name} set (stored as an Argon2id hash in {}); sign in to \
                 the web editor at the server's HTTP address; any session {name} had has ended",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, e),
    }
}

fn list(place: Place) -> ExitCode {
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let admins = match open_existing(&config.data_dir)
        .and_then(|s| s.list_admins().map_err(|e| e.to_string()))
    {
        Ok(admins) => admins,
        Err(e) => return fail(1, e),
    };
    if admins.is_empty() {
        println!(
            "no admins; add one with: echo 'your own passphrase' | switchboard admin \
             set-password (a passphrase of your own, 12 characters or more)"
        );
        return ExitCode::SUCCESS;
    }
    let width = admins.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for admin in &admins {
        let set = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(admin.password_set_ms);
        println!("{:<width$}  password set {}", admin.name, rfc3339(set));
    }
    ExitCode::SUCCESS
}

fn remove(name: String, place: Place) -> ExitCode {
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let removed = open_existing(&config.data_dir)
        .and_then(|mut s| s.remove_admin(&name).map_err(|e| e.to_string()));
    match removed {
        Ok(true) => {
            println!("admin {name} removed: they can no longer sign in, and their sessions ended");
            ExitCode::SUCCESS
        }
        Ok(false) => fail(
            1,
            format!("there is no admin {name}; `switchboard admin list` shows who there is"),
        ),
        Err(e) => fail(1, e),
    }
}

/// Refuses a name that would be awkward in a log line or a shell: the name is typed at
/// the sign-in and shown in the log.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an admin name: use letters, digits, `.`, `_` or `-`, up to 64, \
             like admin or alice"
        ))
    }
}

/// The store, which must exist already: listing or removing makes no new one.
fn open_existing(data_dir: &std::path::Path) -> Result<SqliteStore, String> {
    let path = store_path(data_dir);
    if !path.exists() {
        return Err(format!(
            "no store at {}: no admins yet; set --data-dir, or add one with `switchboard \
             admin set-password`",
            path.display()
        ));
    }
    SqliteStore::open(&path).map_err(|e| e.to_string())
}
