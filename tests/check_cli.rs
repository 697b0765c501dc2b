//! `switchboard check` as an admin runs it: a broken copy of the shipped plan reports
//! every mistake, in every file, at the right line and column, and exits 1.

use std::path::{Path, PathBuf};
use std::process::Command;

fn switchboard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh copy of `dialplans/` and `prompts/` in a temporary folder of its own.
fn copy_of_office(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&repo().join("dialplans"), &dir.join("dialplans"));
    copy_dir(&repo().join("prompts"), &dir.join("prompts"));
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn replace(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Line and 1-based column of the first occurrence of `needle` in a file.
fn place_of(file: &Path, needle: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(file).unwrap();
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()));
    let line = text[..at].matches('\n').count() as u64 + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col as u64)
}

#[test]
fn the_shipped_plan_and_examples_are_clean() {
    let out = switchboard()
        .current_dir(repo())
        .args(["check", "--deny-warnings", "dialplans", "examples"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches(": ok (").count(), 4, "{stdout}");
}

#[test]
fn a_broken_copy_reports_every_error_at_its_place() {
    let dir = copy_of_office("broken");
    let d = dir.join("dialplans");
    replace(
        &d.join("ivr.dial"),
        "\"2\"     -> queue 801",
        "\"2\"     -> queue 802",
    );
    replace(
        &d.join("routes.dial"),
        "-> flow voicemail_login",
        "-> flow voicemail_logn",
    );
    replace(
        &d.join("office.dial"),
        "extension 105 \"Lobby Phone\"",
        "extension 104 \"Lobby Phone\"",
    );
    replace(
        &d.join("office.dial"),
        "\"805EC0112233\"",
        "\"80:5E:C0:11:22:33\"",
    );
    replace(
        &d.join("voicemail.dial"),
        "play \"vm-bad-pin\"",
        "play \"vm-bad-pn\"",
    );
    replace(
        &d.join("features.dial"),
        "hot_desk_logout\n    hangup",
        "hot_desk_logout\n    hangup now",
    );
    replace(
        &d.join("chat.dial"),
        "-> queue 800 poll top 3",
        "-> queue 800 poll top",
    );
    let expected = [
        ("ivr.dial", "802", "unknown-queue"),
        ("routes.dial", "voicemail_logn", "unknown-flow"),
        ("office.dial", "104 \"Lobby", "duplicate"),
        ("office.dial", "\"80:5E", "bad-mac"),
        ("voicemail.dial", "\"vm-bad-pn\"", "missing-prompt"),
        ("features.dial", "now", "bad-step"),
        ("chat.dial", "queue 800 poll top\n", "bad-chat-target"),
    ];
    let out = switchboard()
        .current_dir(&dir)
        .args(["check", "--format", "json", "dialplans"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = report["plans"][0]["diagnostics"].as_array().unwrap();
    for (file, needle, code) in expected {
        let path = d.join(file);
        let (line, column) = place_of(&path, needle);
        let found = diags.iter().any(|x| {
            x["file"].as_str().unwrap().ends_with(file)
                && x["line"] == line
                && x["column"] == column
                && x["code"] == code
        });
        assert!(found, "no {code} at {file}:{line}:{column} in {diags:#?}");
    }
    for x in diags {
        for key in [
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "severity",
            "code",
            "message",
        ] {
            assert!(!x[key].is_null(), "{key} missing in {x}");
        }
    }
    // The human form shows the same errors with a caret under each.
    let human = switchboard()
        .current_dir(&dir)
        .args(["check", "dialplans"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("--> dialplans/ivr.dial:"), "{text}");
    assert!(
        text.contains("help: did you mean `voicemail_login`?"),
        "{text}"
    );
    // Each finding shows its code, to look up in the manual.
    assert!(
        text.contains("error: unknown flow `voicemail_logn` [unknown-flow]"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The codes `switchboard check --format json` reports for a plan folder, in order.
fn codes_of(dir: &Path) -> Vec<String> {
    let out = switchboard()
        .current_dir(dir)
        .args(["check", "--format", "json", "dialplans"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["plans"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_file_that_is_not_utf8_is_one_error_not_a_flood() {
    let dir = copy_of_office("not-utf8");
    let d = dir.join("dialplans");
    // voicemail.dial defines the flows routes.dial leads to; saved in Latin-1 it cannot be
    // read, and those routes must not each be blamed for an unknown flow.
    let path = d.join("voicemail.dial");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.iter().position(|&b| b == b'#').unwrap() + 2;
    bytes[at] = 0xE9;
    std::fs::write(&path, bytes).unwrap();
    // A mistake that has nothing to do with the unreadable file is still reported.
    replace(
        &d.join("office.dial"),
        "\"805EC0112233\"",
        "\"80:5E:C0:11:22:33\"",
    );
    assert_eq!(codes_of(&dir), ["bad-mac", "not-utf8"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_language_without_prompts_is_one_error_not_a_flood() {
    let dir = copy_of_office("language");
    let d = dir.join("dialplans");
    replace(
        &d.join("office.dial"),
        "language         = \"en\"",
        "language         = \"fr\"",
    );
    assert_eq!(codes_of(&dir), ["unknown-language"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_syntax_error_does_not_make_flows_look_unused() {
    let dir = copy_of_office("unused");
    let d = dir.join("dialplans");
    // The only route to the voicemail flows loses its arrow.
    replace(
        &d.join("routes.dial"),
        "-> flow voicemail_login",
        "flow voicemail_login",
    );
    assert_eq!(codes_of(&dir), ["syntax"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = copy_of_office("warn");
    std::fs::write(
        dir.join("dialplans/extra.dial"),
        "flow forgotten {\n    hangup\n}\n",
    )
    .unwrap();
    let ok = switchboard()
        .current_dir(&dir)
        .args(["check", "dialplans"])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("warning: flow `forgotten` is never used")
    );
    let denied = switchboard()
        .current_dir(&dir)
        .args(["check", "--deny-warnings", "dialplans"])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = switchboard()
        .args(["check", "/no/such/plan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/plan"));
}
