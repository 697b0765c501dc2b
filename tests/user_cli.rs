//! `switchboard user` as an admin runs it: passwords only for the extensions and
//! hot-desk phones the plan defines (a typo gets "did you mean"), `list` shows who has
//! one and who the plan no longer defines, `remove` takes one away. Each test has a
//! fresh folder with its own small plan and store.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn set_password_takes_only_the_plans_extensions_and_devices() {
    let dir = office("set", PLAN);

    let ok = user(&dir, &["set-password", "101"], "secret\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("password of 101 (extension Alice Adams) set"));

    // A device registers with its MAC, however the admin typed it.
    let device = user(&dir, &["set-password", "001565aabbcc"], "secret\n");
    assert!(device.status.success(), "{}", text(&device.stderr));
    assert!(text(&device.stdout).contains("password of 001565AABBCC (hot-desk phone"));

    // Numbers the plan does not define are refused, so they can never place calls.
    for (given, hint) in [
        ("999", None),
        ("555", None),
        ("1011", Some("did you mean 101?")),
        ("001565AABBCD", Some("did you mean 001565AABBCC?")),
    ] {
        let refused = user(&dir, &["set-password", given], "secret\n");
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
        let set = user(&dir, &["set-password", who], "secret\n");
        assert!(set.status.success(), "{}", text(&set.stderr));
    }
    let list = user(&dir, &["list"], "");
    assert!(list.status.success(), "{}", text(&list.stderr));
    let out = text(&list.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("101") && lines[0].contains("extension Alice Adams"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("102") && lines[1].contains("extension Bruno Braun"),
        "{out}"
    );
    assert!(!out.contains("secret"), "no password is ever shown: {out}");

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
    assert!(text(&again.stderr).contains("102 has no SIP password"));
    let _ = std::fs::remove_dir_all(&dir);
}
