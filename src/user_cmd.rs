//! `switchboard user set-password EXT`: store an extension's SIP password as digests.
//!
//! The password is read from standard input (one line), so it never shows in the
//! process list or the shell history.

use crate::run_cmd::{ServerFlags, load_config};
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_runtime::server::store_path;
use switchboard_runtime::sqlite_store::SqliteStore;

#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set the SIP password of an extension; the password is read from standard input.
    SetPassword {
        /// The extension, like 101, or a hot-desk phone's MAC, like 001565AABBCC.
        extension: String,
        /// A YAML settings file, as for `run`.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        flags: ServerFlags,
    },
}

pub fn run(args: UserArgs) -> ExitCode {
    let UserCommand::SetPassword {
        extension,
        config,
        flags,
    } = args.command;
    // An extension, or a hot-desk phone's MAC address (12 hex digits), which registers
    // as its own SIP user and calls as whoever is logged in on it.
    let is_extension = !extension.is_empty() && extension.bytes().all(|b| b.is_ascii_digit());
    let is_mac = extension.len() == 12 && extension.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_extension && !is_mac {
        eprintln!(
            "error: {extension:?} is neither an extension number nor a phone's MAC address (12 hex digits)"
        );
        return ExitCode::from(2);
    }
    let extension = if is_mac {
        extension.to_ascii_uppercase()
    } else {
        extension
    };
    let config = match load_config(config.as_deref(), &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("error: cannot read the password from standard input: {e}");
        return ExitCode::from(2);
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!(
            "error: the password is empty; write it on standard input, like: echo 'secret' | switchboard user set-password {extension}"
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        eprintln!(
            "error: cannot create {}: {e}; set --data-dir",
            config.data_dir.display()
        );
        return ExitCode::FAILURE;
    }
    let path = store_path(&config.data_dir);
    let result = SqliteStore::open(&path)
        .and_then(|mut s| s.set_password(&extension, &config.realm, password));
    match result {
        Ok(()) => {
            println!(
                "password of {extension} set (realm {:?}, stored as digests in {})",
                config.realm,
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
