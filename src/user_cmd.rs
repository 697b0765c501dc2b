//! `switchboard user`: the SIP users, who may register and call, and the office's
//! people, who sign in to the web client as their extension. `set-password EXT` stores a
//! user's password as digests for the phone and, for an extension, as an Argon2id hash
//! for the web (one password for both, in one transaction; `--web` sets the web one
//! alone), `list` shows the users with one, `remove EXT` takes both away; `set-pin EXT`
//! sets the voicemail PIN of an extension's mailbox, so that a first PIN need not be
//! written in the plan.
//!
//! A SIP user is an extension or a hot-desk phone's MAC address that the plan defines:
//! a password for anything else would be a way in that the plan does not know about
//! (a user 999 could place calls as "999"). Passwords and PINs are read from standard
//! input (one line), so they never show in the process list or the shell history.
//!
//! A password must pass `switchboard_runtime::password_policy` (12 characters or more,
//! not the user name, not a run, repetition or well-known password), the rule a person
//! changing their web password in the client meets too. There is no flag to store a weak one: a password that passes costs
//! nothing to choose, since a phone keeps it, while such a flag would travel from a lab's
//! script to an office whose SIP port the internet's scanners find within the hour.

use crate::run_cmd::Place;
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_core::store::{PinAttempts, Store};
use switchboard_dsl::Plan;
use switchboard_runtime::config::ServerConfig;
use switchboard_runtime::password_policy;
use switchboard_runtime::plan_files::{compile_plan, find_plans};
use switchboard_runtime::plan_users::{PlanUser, UserKind, plan_user, stored_name};
use switchboard_runtime::server::store_path;
use switchboard_runtime::sqlite_store::{SqliteStore, pin_digest};
use switchboard_runtime::wall_clock::now_ms;

#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set the password of an extension or hot-desk phone the plan defines; the
    /// password is read from standard input, like:
    /// `echo 'your own passphrase' | switchboard user set-password 101`.
    ///
    /// An extension's password is for its phone (SIP) and for the web client (where the
    /// person signs in as their extension); a phone's MAC or a trunk's user gets the SIP
    /// password only. Setting it signs the person out of the web client everywhere.
    ///
    /// A password is refused (exit status 2, nothing stored) when it has fewer than 12
    /// characters or more than 128, contains the user name or the name backwards, is one
    /// character or piece repeated, a run like 1234567890 or qwertyuiop, a well-known
    /// password (also with digits or symbols added), or has control characters. No
    /// option stores a weak password, not even for a lab: three or four unrelated words
    /// pass.
    SetPassword {
        /// The extension, like 101, or a hot-desk phone's MAC, like 001565AABBCC.
        extension: String,
        /// Set only the web client's password of the extension; its phone keeps its
        /// SIP password.
        #[arg(long)]
        web: bool,
        #[command(flatten)]
        place: Place,
    },
    /// List the users with a password, which (phone, web), and whether the plan still
    /// defines each.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Remove the passwords of a user: its phone can no longer register or call, and
    /// the person can no longer sign in to the web client.
    Remove {
        /// The extension or MAC, as `list` shows it.
        extension: String,
        #[command(flatten)]
        place: Place,
    },
    /// Set the voicemail PIN of an extension with a mailbox; the PIN (digits, as long
    /// as the plan's `pin_min_digits` asks, at most 8) is read from standard input.
    /// It replaces the plan's `pin` and lifts a lock from wrong PINs.
    SetPin {
        /// The extension, like 101.
        extension: String,
        /// Print the plan line `pin "sha256$…"` (a salted digest) instead of storing
        /// the PIN, for a plan that must carry its first PINs.
        #[arg(long)]
        print: bool,
        #[command(flatten)]
        place: Place,
    },
}

pub fn run(args: UserArgs) -> ExitCode {
    match args.command {
        UserCommand::SetPassword {
            extension,
            web,
            place,
        } => set_password(extension, web, place),
        UserCommand::List { place } => list(place),
        UserCommand::Remove { extension, place } => remove(extension, place),
        UserCommand::SetPin {
            extension,
            print,
            place,
        } => set_pin(extension, print, place),
    }
}

/// What `set-password` sets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    /// The phone's digests only: a device or a trunk's user, who never signs in to the web.
    Phone,
    /// The web client's password only (`--web`).
    Web,
    /// Both, from the one password: an extension.
    Both,
}

fn set_password(extension: String, web: bool, place: Place) -> ExitCode {
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let plan = match load_plan(&config) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    let user = match plan_user(&plan, &extension) {
        Ok(user) => user,
        Err(e) => return fail(2, e),
    };
    let which = match (web, user.kind) {
        (false, UserKind::Extension) => Which::Both,
        (false, _) => Which::Phone,
        (true, UserKind::Extension) => Which::Web,
        (true, _) => {
            return fail(
                2,
                format!(
                    "{} is a {}, not a person: only an extension signs in to the web \
                     client; leave out --web to set its SIP password",
                    user.name, user.what
                ),
            );
        }
    };
    let example = format!(
        "echo 'your own passphrase' | switchboard user set-password {}{}",
        if web { "--web " } else { "" },
        user.name
    );
    let password = match read_secret("password", &example) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    // Checked before the store is opened, so a refused password leaves no trace.
    if let Err(problem) = password_policy::check(&user.name, &password) {
        return fail(2, format!("{}: {problem} (nothing was stored)", user.name));
    }
    let (mut store, path) = match open_or_create(&config) {
        Ok(opened) => opened,
        Err(e) => return fail(1, e),
    };
    let now = now_ms();
    // Only a password that replaces one can leave phones registered with the old one.
    let replaced = which != Which::Web && store.has_password(&user.name).unwrap_or(false);
    let result = match which {
        Which::Phone => store.set_password(&user.name, &config.realm, &password),
        Which::Web => store.set_web_password(&user.name, &password, now),
        Which::Both => store.set_phone_and_web_password(&user.name, &config.realm, &password, now),
    };
    match result {
        Ok(()) => {
            println!(
                "{}",
                set_message(&user, which, replaced, &config.realm, &path)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, e.to_string()),
    }
}

/// What `set-password` says it did.
/// `replaced`: the SIP password replaced an earlier one, so phones registered with that
/// one are forgotten by a running server.
fn set_message(
    user: &PlanUser,
    which: Which,
    replaced: bool,
    realm: &str,
    path: &std::path::Path,
) -> String {
    let (who, what, path) = (&user.name, &user.what, path.display());
    let phones = if replaced {
        format!("; phones registered as {who} with the old password are no longer rung")
    } else {
        String::new()
    };
    match which {
        Which::Phone => format!(
            "password of {who} ({what}) set (realm {realm:?}, stored as digests in {path}){phones}"
        ),
        Which::Web => format!(
            "web password of {who} ({what}) set (stored as an Argon2id hash in {path}); the \
             phone keeps its SIP password, and {who} was signed out of the web client"
        ),
        Which::Both => format!(
            "password of {who} ({what}) set for the phone and the web client (realm \
             {realm:?}; stored as digests and an Argon2id hash in {path}){phones}; {who} was \
             signed out of the web client"
        ),
    }
}

fn set_pin(extension: String, print: bool, place: Place) -> ExitCode {
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let plan = match load_plan(&config) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    let mailbox = match plan_mailbox(&plan, &extension) {
        Ok(m) => m,
        Err(e) => return fail(2, e),
    };
    let example = format!("echo 4321 | switchboard user set-pin {mailbox}");
    let pin = match read_secret("PIN", &example) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    // The rule a caller changing their PIN at the phone meets (`mailbox set_pin`).
    let min = plan.settings.pin_min_digits.max(4);
    if !(min..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return fail(
            2,
            format!("a PIN is {min} to 8 digits (the plan's `pin_min_digits` is {min})"),
        );
    }
    if print {
        return match pin_digest(&pin) {
            Ok(digest) => {
                println!("pin \"{digest}\"");
                ExitCode::SUCCESS
            }
            Err(e) => fail(1, e),
        };
    }
    let (mut store, path) = match open_or_create(&config) {
        Ok(opened) => opened,
        Err(e) => return fail(1, e),
    };
    // A new PIN from the admin is the way back in for an owner locked out by guesses.
    let result = store
        .set_pin(&mailbox, &pin)
        .and_then(|()| store.set_pin_attempts(&mailbox, PinAttempts::default()));
    match result {
        Ok(()) => {
            println!(
                "PIN of mailbox {mailbox} set (stored as a salted digest in {}); it replaces \
                 the plan's `pin`, and the owner can change it at the phone",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, e),
    }
}

/// The extension `given` names if it has a mailbox, or why not.
fn plan_mailbox(plan: &Plan, given: &str) -> Result<String, String> {
    let user = plan_user(plan, given)?;
    match plan.extension(&user.name) {
        Some(e) if e.options.voicemail => Ok(user.name),
        Some(_) => Err(format!(
            "extension {} has no mailbox (no `voicemail` option in the plan), so it has no PIN",
            user.name
        )),
        None => Err(format!(
            "{} is a hot-desk phone; a PIN belongs to an extension's mailbox",
            user.name
        )),
    }
}

/// One line of standard input, without its line end; `what` names it in errors, and
/// `example` shows how to give it.
pub(crate) fn read_secret(what: &str, example: &str) -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the {what} from standard input: {e}"))?;
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(format!(
            "the {what} is empty; write it on standard input, like: {example}"
        ));
    }
    Ok(secret.to_string())
}

/// The configuration a command on the store needs, from `run`'s file and flags: the
/// trunks' and chat providers' accounts are not read, so their secrets need not be in
/// the environment (`switchboard run` still reads and checks every one).
pub(crate) fn load_store_config(
    file: Option<&std::path::Path>,
    flags: &switchboard_runtime::config::ConfigOverrides,
) -> Result<ServerConfig, String> {
    ServerConfig::load_for_store(file, flags).map_err(|e| e.to_string())
}

/// The store in the data folder, both made if missing, and its path.
pub(crate) fn open_or_create(config: &ServerConfig) -> Result<(SqliteStore, PathBuf), String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create {}: {e}; set --data-dir",
            config.data_dir.display()
        )
    })?;
    let path = store_path(&config.data_dir);
    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
    Ok((store, path))
}

fn list(place: Place) -> ExitCode {
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let stored = open_existing(&config).and_then(|s| {
        let phones = s.list_passwords().map_err(|e| e.to_string())?;
        let webs = s.list_web_passwords().map_err(|e| e.to_string())?;
        Ok((phones, webs))
    });
    let (phones, webs) = match stored {
        Ok(stored) => stored,
        Err(e) => return fail(1, e),
    };
    // The users are listed even when the plan cannot be read: that is when an admin
    // most needs to see them.
    let plan = load_plan(&config);
    if let Err(e) = &plan {
        eprintln!("warning: {e}; cannot tell which users the plan defines");
    }
    // Everyone with either password, by name, with the realm of their phone's.
    let mut users: Vec<(String, Option<String>, bool)> = phones
        .into_iter()
        .map(|(name, realm)| {
            let web = webs.contains(&name);
            (name, Some(realm), web)
        })
        .collect();
    for name in webs {
        if !users.iter().any(|(user, _, _)| *user == name) {
            users.push((name, None, true));
        }
    }
    users.sort_by(|a, b| a.0.cmp(&b.0));
    if users.is_empty() {
        println!(
            "no SIP users; add one with: echo 'your own passphrase' | switchboard user \
             set-password 101 (a passphrase of your own, 12 characters or more)"
        );
        return ExitCode::SUCCESS;
    }
    let width = users.iter().map(|(u, _, _)| u.len()).max().unwrap_or(0);
    for (name, realm, web) in &users {
        let status = match &plan {
            Err(_) => "plan unknown".to_string(),
            Ok(plan) => match plan_user(plan, name) {
                Ok(user) => user.what,
                Err(_) => format!("not in the plan (switchboard user remove {name})"),
            },
        };
        let passwords = match (realm, web) {
            (Some(_), true) => "phone and web",
            (Some(_), false) => "phone",
            (None, _) => "web only",
        };
        let realm_note = match realm {
            Some(realm) if *realm != config.realm => format!(
                " [realm {realm:?}, not the server's {:?}: set the password again]",
                config.realm
            ),
            _ => String::new(),
        };
        println!("{name:<width$}  {status}  ({passwords}){realm_note}");
    }
    ExitCode::SUCCESS
}

fn remove(extension: String, place: Place) -> ExitCode {
    let config = match load_store_config(place.config.as_deref(), &place.flags) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    // The name as stored: MACs are kept in capitals.
    let name = stored_name(&extension);
    let removed = open_existing(&config).and_then(|mut s| {
        s.remove_phone_and_web_password(&name)
            .map_err(|e| e.to_string())
    });
    match removed {
        Ok(removed) if removed.phone || removed.web => {
            let mut what = Vec::new();
            if removed.phone {
                what.push(
                    "it can no longer register or call (a phone registered now keeps its \
                     registration until it expires)",
                );
            }
            if removed.web {
                what.push("it can no longer sign in to the web client, and was signed out");
            }
            println!("{name} removed: {}", what.join("; "));
            ExitCode::SUCCESS
        }
        Ok(_) => fail(
            1,
            format!("{name} has no SIP or web password; `switchboard user list` shows who has"),
        ),
        Err(e) => fail(1, e),
    }
}

/// The plan in the configured `dialplans` folder, compiled as the server would.
fn load_plan(config: &ServerConfig) -> Result<std::sync::Arc<Plan>, String> {
    let dir = &config.dialplans;
    let plans = find_plans(std::slice::from_ref(dir)).map_err(|e| {
        format!(
            "cannot read the plan in {}: {e}; set --dialplans",
            dir.display()
        )
    })?;
    let [plan] = &plans[..] else {
        return Err(format!(
            "{} does not hold one plan; set --dialplans to the folder `switchboard run` uses",
            dir.display()
        ));
    };
    let prompts = config.prompts.is_dir().then_some(config.prompts.as_path());
    let loaded = compile_plan(plan, prompts)?;
    loaded.compiled.plan.clone().ok_or_else(|| {
        format!(
            "the plan in {} has errors (see `switchboard check {}`)",
            dir.display(),
            dir.display()
        )
    })
}

/// The store, which must exist already: listing or removing makes no new one.
fn open_existing(config: &ServerConfig) -> Result<SqliteStore, String> {
    let path = store_path(&config.data_dir);
    if !path.exists() {
        return Err(format!(
            "no store at {}: no SIP users yet; set --data-dir",
            path.display()
        ));
    }
    SqliteStore::open(&path).map_err(|e| e.to_string())
}

pub(crate) fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
