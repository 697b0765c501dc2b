//! `switchboard user` as an admin runs it: passwords only for the extensions and
//! hot-desk phones the plan defines (a typo gets "did you mean") and only ones the
//! password policy accepts, one password for an extension's phone and web client
//! (`--web` for the web one alone), `list` shows who has which and who the plan no
//! longer defines, `remove` takes both away. Each test has a fresh folder with its own
//! small plan and store.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::PASSWORD;
use switchboard_runtime::server::store_path;
use switchboard_runtime::sip::DigestAlgorithm;
use switchboard_runtime::sip::digest::ha1;
use switchboard_runtime::sqlite_store::{SqliteStore, verify_web_password};

const PLAN: &str = "\
extension 101 \"Alice Adams\" { voicemail; pin \"1234\" }
extension 102 \"Bruno Braun\"
device \"001565AABBCC\" \"Yealink T46U\" { hot_desk }
";

/// A fresh folder holding `dialplans/office.dial` with `plan`.
fn office(name: &str, plan: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-user-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("dialplans")).unwrap();
    std::fs::write(dir.join("dialplans/office.dial"), plan).unwrap();
    dir
}

/// `switchboard user ARGS --dialplans DIR/dialplans --data-dir DIR/var`, with `stdin`.
fn user(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("user")
        .args(args)
        .arg("--dialplans")
        .arg(dir.join("dialplans"))
        .arg("--data-dir")
        .arg(dir.join("var"))
        .arg("--prompts")
        .arg(support::repo().join("prompts"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A name the plan does not define is refused before the password is read, so the
    // command may exit before taking its input: a broken pipe then is not the test's error.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("writing the password to `switchboard user`: {e}");
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// [`PASSWORD`] as standard input gives it: one line.
fn good_line() -> String {
    format!("{PASSWORD}\n")
}

#[test]
fn set_password_takes_only_the_plans_extensions_and_devices() {
    let dir = office("set", PLAN);

    let ok = user(&dir, &["set-password", "101"], &good_line());
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("password of 101 (extension Alice Adams) set"));

    // A device registers with its MAC, however the admin typed it.
    let device = user(&dir, &["set-password", "001565aabbcc"], &good_line());
    assert!(device.status.success(), "{}", text(&device.stderr));
    assert!(text(&device.stdout).contains("password of 001565AABBCC (hot-desk phone"));

    // Numbers the plan does not define are refused, so they can never place calls.
    for (given, hint) in [
        ("999", None),
        ("555", None),
        ("1011", Some("did you mean 101?")),
        ("001565AABBCD", Some("did you mean 001565AABBCC?")),
    ] {
        let refused = user(&dir, &["set-password", given], &good_line());
        assert_eq!(refused.status.code(), Some(2), "{given}");
        let err = text(&refused.stderr);
        assert!(err.contains(&format!("{given} is not")), "{err}");
        assert!(err.contains("in the plan"), "{err}");
        if let Some(hint) = hint {
            assert!(err.contains(hint), "{given}: {err}");
        }
    }
    let list = user(&dir, &["list"], "");
    let out = text(&list.stdout);
    assert!(!out.contains("999") && !out.contains("555"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_password_refuses_a_weak_password_and_stores_nothing() {
    let dir = office("weak", PLAN);
    // What a scanner tries first, and what the finding showed was accepted: each is
    // refused with the rule it breaks, and the password is not shown back.
    for (who, password, says) in [
        ("101", "1", "shorter than 12 characters"),
        ("101", "101", "shorter than 12 characters"),
        ("101", "101101101101", "contains the user name 101"),
        ("101", "alice-101-adams", "contains the user name 101"),
        (
            "102",
            "harbour-201-lamp",
            "contains the user name 102 backwards",
        ),
        (
            "001565aabbcc",
            "001565aabbcc-phone",
            "contains the user name 001565AABBCC",
        ),
        ("101", "password123", "shorter than 12 characters"),
        ("101", "password1234", "well-known passwords"),
        ("101", "QWERTY123456", "well-known passwords"),
        (
            "101",
            "Password2024!",
            "well-known one with digits or symbols added",
        ),
        (
            "101",
            "your own passphrase",
            "an example from Switchboard's docs",
        ),
        (
            "101",
            "1234567890123",
            "a run of digits, letters or keyboard keys",
        ),
        (
            "101",
            "qwertyuiopqwe",
            "a run of digits, letters or keyboard keys",
        ),
        (
            "101",
            "zzzzzzzzzzzzzzzz",
            "one character or one short piece repeated",
        ),
        ("101", "amber\tkettle harbour", "control character"),
    ] {
        let refused = user(&dir, &["set-password", who], &format!("{password}\n"));
        let err = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{who} {password:?}: {err}");
        assert!(err.contains(says), "{who} {password:?}: {err}");
        assert!(err.contains("nothing was stored"), "{err}");
        if password.len() > 3 {
            assert!(!err.contains(password), "the password is shown: {err}");
        }
        assert!(
            text(&refused.stdout).is_empty(),
            "{}",
            text(&refused.stdout)
        );
    }
    // Nothing was stored: no store was even made, so no user is listed.
    assert!(
        !dir.join("var").exists(),
        "a refused password made the store"
    );
    let list = user(&dir, &["list"], "");
    assert!(
        text(&list.stderr).contains("no SIP users yet"),
        "{}",
        text(&list.stderr)
    );

    // A good one is stored, as the digest of that password.
    let ok = user(&dir, &["set-password", "101"], &good_line());
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let list = text(&user(&dir, &["list"], "").stdout);
    assert!(list.starts_with("101"), "{list}");
    let stored = || {
        SqliteStore::open(&store_path(&dir.join("var")))
            .unwrap()
            .ha1("101", "switchboard", DigestAlgorithm::Md5)
            .unwrap()
    };
    let good = ha1(DigestAlgorithm::Md5, "101", "switchboard", PASSWORD);
    assert_eq!(stored().as_deref(), Some(good.as_str()));

    // A weak password for a user who has one leaves the old one in place.
    let refused = user(&dir, &["set-password", "101"], "101\n");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(stored().as_deref(), Some(good.as_str()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_shows_who_has_a_password_and_remove_takes_it_away() {
    let dir = office("list", PLAN);
    let empty = user(&dir, &["list"], "");
    assert!(!empty.status.success(), "no store yet");
    assert!(
        text(&empty.stderr).contains("no store"),
        "{}",
        text(&empty.stderr)
    );

    for who in ["101", "102"] {
        let set = user(&dir, &["set-password", who], &good_line());
        assert!(set.status.success(), "{}", text(&set.stderr));
    }
    let list = user(&dir, &["list"], "");
    assert!(list.status.success(), "{}", text(&list.stderr));
    let out = text(&list.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("101")
            && lines[0].contains("extension Alice Adams")
            && lines[0].ends_with("(phone and web)"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("102") && lines[1].contains("extension Bruno Braun"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD), "no password is ever shown: {out}");

    // 102 leaves the plan: the list says so, and how to remove the user.
    std::fs::write(
        dir.join("dialplans/office.dial"),
        PLAN.replace("extension 102 \"Bruno Braun\"\n", ""),
    )
    .unwrap();
    let out = text(&user(&dir, &["list"], "").stdout);
    let line = out.lines().find(|l| l.starts_with("102")).unwrap();
    assert!(line.contains("not in the plan"), "{out}");
    assert!(line.contains("switchboard user remove 102"), "{out}");

    let removed = user(&dir, &["remove", "102"], "");
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let out = text(&user(&dir, &["list"], "").stdout);
    assert!(!out.contains("102"), "{out}");
    assert!(out.contains("101"), "{out}");

    let again = user(&dir, &["remove", "102"], "");
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("102 has no SIP or web password"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_pin_stores_a_digest_that_opens_the_mailbox_and_replaces_the_plans() {
    let dir = office("pin", PLAN);
    let ok = user(&dir, &["set-pin", "101"], "86420\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("PIN of mailbox 101 set"));
    // The store holds the digest, as `mailbox set_pin` writes it, and never the PIN.
    let store = switchboard_runtime::sqlite_store::SqliteStore::open(
        &switchboard_runtime::server::store_path(&dir.join("var")),
    )
    .unwrap();
    let digest = store.pin_hash("101").unwrap().expect("a PIN is stored");
    assert!(digest.verify("86420"));
    use switchboard_core::store::{PinAttempts, Store};
    assert_eq!(store.check_pin("101", "1234").unwrap(), Some(false));
    drop(store);

    // A mailbox locked by wrong PINs: the admin's new PIN is the owner's way back in.
    let path = switchboard_runtime::server::store_path(&dir.join("var"));
    let locked = PinAttempts {
        failures: 0,
        since: 0,
        locks: 3,
        locked_until: u64::MAX / 2,
    };
    switchboard_runtime::sqlite_store::SqliteStore::open(&path)
        .unwrap()
        .set_pin_attempts("101", locked)
        .unwrap();
    let again = user(&dir, &["set-pin", "101"], "97531\n");
    assert!(again.status.success(), "{}", text(&again.stderr));
    let store = switchboard_runtime::sqlite_store::SqliteStore::open(&path).unwrap();
    assert_eq!(store.pin_attempts("101").unwrap(), PinAttempts::default());
    assert_eq!(store.check_pin("101", "97531").unwrap(), Some(true));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_pin_refuses_what_is_no_mailbox_and_what_is_no_pin() {
    let plan =
        format!("settings {{ pin_min_digits = 5 }}\n{PLAN}").replace("\"1234\"", "\"12345\"");
    let dir = office("pin-refused", &plan);
    for (args, stdin, says) in [
        (["set-pin", "1011"], "86420\n", "did you mean 101?"),
        (
            ["set-pin", "999"],
            "86420\n",
            "999 is not an extension in the plan",
        ),
        (["set-pin", "102"], "86420\n", "has no mailbox"),
        (
            ["set-pin", "001565AABBCC"],
            "86420\n",
            "a PIN belongs to an extension",
        ),
        (["set-pin", "101"], "\n", "the PIN is empty"),
        (["set-pin", "101"], "1234\n", "a PIN is 5 to 8 digits"),
        (["set-pin", "101"], "123456789\n", "a PIN is 5 to 8 digits"),
        (["set-pin", "101"], "12a45\n", "a PIN is 5 to 8 digits"),
    ] {
        let refused = user(&dir, &args, stdin);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let err = text(&refused.stderr);
        assert!(err.contains(says), "{args:?} {stdin:?}: {err}");
    }
    // Nothing was stored: the folder was not even made.
    assert!(!dir.join("var").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_pin_print_writes_a_plan_line_the_check_accepts_without_warning() {
    let dir = office("pin-print", PLAN);
    let out = user(&dir, &["set-pin", "101", "--print"], "86420\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let line = line.trim();
    assert!(line.starts_with("pin \"sha256$"), "{line}");
    assert!(!line.contains("86420"), "{line}");
    assert!(!dir.join("var").exists(), "--print stores nothing");
    // The line in the plan: no `pin-in-plan` warning, and it opens with the PIN.
    let plan = PLAN.replace("pin \"1234\"", line);
    let mut sources = switchboard_dsl::Sources::new();
    sources.add(switchboard_dsl::SourceFile::new("office.dial", plan));
    let compiled = switchboard_dsl::compile(sources, &switchboard_dsl::PromptCatalog::unchecked());
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let plan = compiled.plan.unwrap();
    let store = switchboard_core::store::MemoryStore::new();
    assert!(switchboard_core::office::pin_ok(&plan, &store, "101", "86420").unwrap());
    assert!(!switchboard_core::office::pin_ok(&plan, &store, "101", "1234").unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_trunks_inbound_user_gets_a_password_and_is_listed_as_the_trunks() {
    let plan = format!(
        "{PLAN}trunk \"main\" {{ host \"sip.carrier.example\"; inbound_user \"carrier-in\" }}\n"
    );
    let dir = office("trunk-user", &plan);
    let set = user(&dir, &["set-password", "carrier-in"], &good_line());
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        text(&set.stdout).contains("trunk main's inbound user"),
        "{}",
        text(&set.stdout)
    );
    let list = user(&dir, &["list"], "");
    let listed = text(&list.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("carrier-in") && l.contains("trunk main's inbound user")),
        "{listed}"
    );
}

/// The store in `dir`, as the server would open it.
fn store_of(dir: &Path) -> SqliteStore {
    SqliteStore::open(&store_path(&dir.join("var"))).unwrap()
}

#[test]
fn an_extensions_password_is_for_its_phone_and_the_web_and_a_phones_for_sip_only() {
    let dir = office("both", PLAN);
    let ok = user(&dir, &["set-password", "101"], &good_line());
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("set for the phone and the web client"),
        "{}",
        text(&ok.stdout)
    );
    let store = store_of(&dir);
    let digest = ha1(DigestAlgorithm::Sha256, "101", "switchboard", PASSWORD);
    assert_eq!(
        store
            .ha1("101", "switchboard", DigestAlgorithm::Sha256)
            .unwrap(),
        Some(digest)
    );
    let web = store.web_password_hash("101").unwrap();
    assert!(web.as_deref().is_some_and(|h| h.starts_with("$argon2id$")));
    assert!(verify_web_password(web.as_deref(), PASSWORD));
    drop(store);

    // A hot-desk phone is no person: SIP only, and --web is refused saying why.
    let device = user(&dir, &["set-password", "001565AABBCC"], &good_line());
    assert!(device.status.success(), "{}", text(&device.stderr));
    assert_eq!(
        store_of(&dir).web_password_hash("001565AABBCC").unwrap(),
        None
    );
    let refused = user(
        &dir,
        &["set-password", "--web", "001565AABBCC"],
        &good_line(),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("only an extension signs in to the web client"),
        "{}",
        text(&refused.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_password_web_changes_the_web_password_only() {
    let dir = office("web", PLAN);
    assert!(
        user(&dir, &["set-password", "101"], &good_line())
            .status
            .success()
    );
    let phone = || {
        store_of(&dir)
            .ha1("101", "switchboard", DigestAlgorithm::Md5)
            .unwrap()
    };
    let before = phone();
    let web = user(
        &dir,
        &["set-password", "--web", "101"],
        "harbour-violet-stone\n",
    );
    assert!(web.status.success(), "{}", text(&web.stderr));
    assert!(text(&web.stdout).contains("the phone keeps its SIP password"));
    assert_eq!(phone(), before, "the phone's digests are as they were");
    let hash = store_of(&dir).web_password_hash("101").unwrap();
    assert!(verify_web_password(hash.as_deref(), "harbour-violet-stone"));
    assert!(!verify_web_password(hash.as_deref(), PASSWORD));

    // The same policy: a weak web password is refused and nothing changes.
    let weak = user(&dir, &["set-password", "--web", "101"], "password1234\n");
    assert_eq!(weak.status.code(), Some(2));
    assert!(text(&weak.stderr).contains("nothing was stored"));
    let still = store_of(&dir).web_password_hash("101").unwrap();
    assert_eq!(still, hash);

    // 102 has a web password only: listed so, and removed all the same.
    assert!(
        user(&dir, &["set-password", "--web", "102"], &good_line())
            .status
            .success()
    );
    assert_eq!(
        store_of(&dir)
            .ha1("102", "switchboard", DigestAlgorithm::Md5)
            .unwrap(),
        None
    );
    let out = text(&user(&dir, &["list"], "").stdout);
    let line = out.lines().find(|l| l.starts_with("102")).unwrap();
    assert!(line.ends_with("(web only)"), "{out}");
    let removed = user(&dir, &["remove", "102"], "");
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    assert!(
        text(&removed.stdout).contains("can no longer sign in to the web client"),
        "{}",
        text(&removed.stdout)
    );
    assert!(!text(&removed.stdout).contains("register"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn remove_takes_away_the_phone_and_the_web_password() {
    let dir = office("remove-both", PLAN);
    assert!(
        user(&dir, &["set-password", "101"], &good_line())
            .status
            .success()
    );
    let removed = user(&dir, &["remove", "101"], "");
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let said = text(&removed.stdout);
    assert!(
        said.contains("can no longer register or call")
            && said.contains("can no longer sign in to the web client"),
        "{said}"
    );
    let store = store_of(&dir);
    assert!(!store.has_password("101").unwrap());
    assert_eq!(store.web_password_hash("101").unwrap(), None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A config file in `dir` whose chat and trunk accounts take their secrets from variables
/// that are not set and a file that does not exist, as on an admin's shell where only
/// the server's service exports them.
fn config_with_unexported_secrets(dir: &Path) -> PathBuf {
    let config = dir.join("switchboard.yaml");
    std::fs::write(
        &config,
        "chat:\n  whatsapp:\n    verify-token-env: SB_USER_CLI_UNSET_WA_VERIFY\n    \
         app-secret-env: SB_USER_CLI_UNSET_WA_SECRET\n    \
         access-token-env: SB_USER_CLI_UNSET_WA_TOKEN\n    \
         phone-number-id: \"106540352242922\"\n\
         trunks:\n  main:\n    username: \"2605550100\"\n    \
         password-file: secrets/not-there.password\n",
    )
    .unwrap();
    config
}

/// `switchboard ARGS --config CONFIG --dialplans … --data-dir …`, with `stdin`, with the
/// config's secret variables surely unset; killed if it has not ended within 20 s.
fn switchboard_with_config(dir: &Path, config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--dialplans")
        .arg(dir.join("dialplans"))
        .arg("--data-dir")
        .arg(dir.join("var"))
        .arg("--prompts")
        .arg(support::repo().join("prompts"))
        .env_remove("SB_USER_CLI_UNSET_WA_VERIFY")
        .env_remove("SB_USER_CLI_UNSET_WA_SECRET")
        .env_remove("SB_USER_CLI_UNSET_WA_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("writing to `switchboard {}`: {e}", args.join(" "));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() >= deadline {
            child.kill().unwrap();
            panic!("`switchboard {}` still running after 20 s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn user_and_admin_commands_need_no_chat_secrets_but_run_refuses_without_them() {
    let dir = office("secrets", PLAN);
    let config = config_with_unexported_secrets(&dir);

    let set = switchboard_with_config(
        &dir,
        &config,
        &["user", "set-password", "101"],
        &good_line(),
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        verify_web_password(
            store_of(&dir).web_password_hash("101").unwrap().as_deref(),
            PASSWORD
        ),
        "the web password was stored"
    );
    let list = switchboard_with_config(&dir, &config, &["user", "list"], "");
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(text(&list.stdout).contains("101"), "{}", text(&list.stdout));
    let admin = switchboard_with_config(
        &dir,
        &config,
        &["admin", "set-password", "admin"],
        &good_line(),
    );
    assert!(admin.status.success(), "{}", text(&admin.stderr));

    // The same file is still checked as strictly: a misspelt key is refused.
    let typo = dir.join("typo.yaml");
    let misspelt = std::fs::read_to_string(&config)
        .unwrap()
        .replace("access-token-env", "access-tokn-env");
    std::fs::write(&typo, misspelt).unwrap();
    let refused = switchboard_with_config(&dir, &typo, &["user", "list"], "");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("access-tokn-env"),
        "{}",
        text(&refused.stderr)
    );

    // The server itself needs them, and says which and how to give it: the trunk's
    // password file first, then, that written, the chat's variables.
    let run = || {
        switchboard_with_config(
            &dir,
            &config,
            &[
                "run",
                "--sip-addr",
                "127.0.0.1:0",
                "--http-addr",
                "127.0.0.1:0",
            ],
            "",
        )
    };
    let refused = run();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let words = text(&refused.stderr);
    assert!(
        words.contains("trunks.main") && words.contains("not-there.password"),
        "{words}"
    );
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/not-there.password"), "trunk-secret\n").unwrap();
    let refused = run();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let words = text(&refused.stderr);
    assert!(
        words.contains("chat.whatsapp.verify-token-env")
            && words.contains("SB_USER_CLI_UNSET_WA_VERIFY is not set")
            && words.contains("export it"),
        "{words}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
