//! `switchboard admin` as an admin runs it: a password for the web editor from standard
//! input, held to the SIP users' policy and stored as an Argon2id hash; `list` and
//! `remove`. Each test has a fresh data folder.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::PASSWORD;
use switchboard_runtime::server::store_path;

/// A fresh folder for one test.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-admin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `switchboard admin ARGS --data-dir DIR/var`, with `stdin`.
fn admin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("var"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A bad name is refused before the password is read, so the command may exit before
    // taking its input: a broken pipe then is the command's choice, not the test's error.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("writing the password to `switchboard admin`: {e}");
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The stored hash of `name`, read from the store file.
fn stored_hash(dir: &Path, name: &str) -> Option<String> {
    let store = switchboard_runtime::sqlite_store::SqliteStore::open(&store_path(&dir.join("var")))
        .unwrap();
    store.admin_password_hash(name).unwrap()
}

#[test]
fn set_password_stores_an_argon2id_hash_for_admin_by_default() {
    let dir = folder("set");
    let ok = admin(&dir, &["set-password"], &format!("{PASSWORD}\n"));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("password of admin admin set (stored as an Argon2id hash"),
        "{}",
        text(&ok.stdout)
    );
    let hash = stored_hash(&dir, "admin").expect("admin exists");
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains(PASSWORD),
        "{hash}"
    );
    let bytes = std::fs::read(store_path(&dir.join("var"))).unwrap();
    assert!(
        !bytes
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes()),
        "the password is in the store file"
    );

    let listed = admin(&dir, &["list"], "");
    assert!(listed.status.success());
    assert!(
        text(&listed.stdout).starts_with("admin  password set 20"),
        "{}",
        text(&listed.stdout)
    );
}

#[test]
fn a_weak_password_or_a_bad_name_is_refused_and_nothing_is_stored() {
    let dir = folder("weak");
    for (args, stdin, says) in [
        (
            &["set-password"][..],
            "Tiny-7\n",
            "shorter than 12 characters",
        ),
        (&["set-password"][..], "password1234!\n", "well-known"),
        (
            &["set-password"][..],
            "admin-amber-kettle\n",
            "contains the user name admin",
        ),
        (&["set-password"][..], "\n", "the password is empty"),
        (
            &["set-password", "al ice"][..],
            "amber-kettle-harbour\n",
            "is not an admin name",
        ),
    ] {
        let refused = admin(&dir, args, stdin);
        assert_eq!(refused.status.code(), Some(2), "{args:?} {stdin:?}");
        let stderr = text(&refused.stderr);
        assert!(stderr.contains(says), "{stdin:?}: {stderr}");
        let password = stdin.trim();
        if args.len() == 1 && !password.is_empty() {
            assert!(
                !stderr.contains(password),
                "the error shows the password: {stderr}"
            );
        }
    }
    assert!(
        !store_path(&dir.join("var")).exists(),
        "a refused password leaves no store behind"
    );
}

#[test]
fn remove_takes_an_admin_away_and_says_when_there_is_none() {
    let dir = folder("remove");
    let none = admin(&dir, &["list"], "");
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("no admins yet"));
    assert!(
        admin(&dir, &["set-password", "alice"], &format!("{PASSWORD}\n"))
            .status
            .success()
    );
    let missing = admin(&dir, &["remove", "bob"], "");
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("there is no admin bob"));
    let removed = admin(&dir, &["remove", "alice"], "");
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    assert_eq!(stored_hash(&dir, "alice"), None);
    assert!(text(&admin(&dir, &["list"], "").stdout).starts_with("no admins"));
}
