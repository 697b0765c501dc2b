//! `switchboard test` and `switchboard simulate` as an admin runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn switchboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A plan of one file in a temporary folder of its own (no prompts: names unchecked).
fn plan(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plan.dial"), text).unwrap();
    dir
}

const OFFICE: &str = r##"
extension 101 "Alice" { voicemail; pin "1234" }
extension 102 "Bruno" { voicemail }
dial "{ext:XXX}" -> extension ext
dial "999" -> flow login

flow login {
    answer
    ask "vm-enter-pin" digits 4 until "#" -> pin
    if pin_ok(caller, pin) {
        play "vm-main"
    } else {
        play "vm-bad-pin"
    }
    hangup
}
"##;

#[test]
fn the_shipped_plans_pass_their_tests() {
    let o = switchboard(&["test", "dialplans", "examples"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let summary = out.lines().last().unwrap_or_default();
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 40, "only {passed} tests: {summary}");
    assert!(summary.ends_with(", 0 failed"), "{summary}");
}

#[test]
fn a_failing_test_shows_what_happened_instead_and_the_trace() {
    let dir = plan(
        "fail",
        &format!(
            "{OFFICE}\ntest \"a good PIN opens the mailbox\" {{\n    call from 101 dial \"999\"\n    press \"1111#\"\n    expect play \"vm-main\"\n}}\n\ntest \"desk to desk\" {{\n    call from 101 dial \"102\"\n    expect extension 102\n}}\n"
        ),
    );
    let o = switchboard(&["test", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAILED  a good PIN opens the mailbox"),
        "{out}"
    );
    assert!(out.contains("ok      desk to desk"), "{out}");
    assert!(out.contains("expected play vm-main"), "{out}");
    assert!(
        out.contains("but the call did: ") && out.contains("; play vm-bad-pin; hangup"),
        "{out}"
    );
    // The trace names the file and line of the step that played the wrong prompt.
    assert!(out.contains("plan.dial:13:9 play vm-bad-pin"), "{out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
}

#[test]
fn a_plan_that_does_not_compile_fails_the_run() {
    let dir = plan("broken", "dial \"1\" -> flow nowhere\n");
    let o = switchboard(&["test", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("unknown flow `nowhere`"), "{out}");
    assert!(out.contains("does not compile"), "{out}");
}

#[test]
fn simulate_prints_each_step_with_its_place_in_order() {
    let dir = plan("simulate", OFFICE);
    let o = switchboard(&[
        "simulate",
        "--plan",
        dir.to_str().unwrap(),
        "--from",
        "101",
        "--dial",
        "999",
        "--wait",
        "1s",
        "--press",
        "1234#",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{out}"))
    };
    assert!(at("route \"999\" matches 999") < at("play vm-enter-pin"));
    assert!(at("play vm-enter-pin") < at("> wait 1s"));
    assert!(at("> wait 1s") < at("> press 1234#"));
    assert!(at("> press 1234#") < at("plan.dial:11:9 play vm-main"));
    assert!(at("plan.dial:11:9 play vm-main") < at("ended: the plan hung up"));
}

#[test]
fn simulate_says_what_a_rung_phone_does_in_order_with_the_other_actions() {
    let dir = plan("simulate-far-end", OFFICE);
    let o = switchboard(&[
        "simulate",
        "--plan",
        dir.to_str().unwrap(),
        "--from",
        "101",
        "--dial",
        "102",
        "--wait",
        "3s",
        "--far-end",
        "extension 102 is busy",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{out}"))
    };
    assert!(at("plan.dial:4:21 extension 102") < at("> wait 3s"));
    assert!(at("> wait 3s") < at("> extension 102 is busy"));
    assert!(at("> extension 102 is busy") < at("-> busy"));
    assert!(at("-> busy") < at("voicemail 102"));
}

#[test]
fn simulate_refuses_a_far_end_it_cannot_read_and_names_the_words() {
    let dir = plan("simulate-far-end-bad", OFFICE);
    let o = switchboard(&[
        "simulate",
        "--plan",
        dir.to_str().unwrap(),
        "--from",
        "101",
        "--dial",
        "102",
        "--far-end",
        "extension 102 busy",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean `is busy`?"), "{err}");
}

#[test]
fn a_test_saying_what_a_phone_does_that_the_plan_does_not_ring_fails_and_says_why() {
    let dir = plan(
        "far-end-not-ringing",
        &format!(
            "{OFFICE}\ntest \"the wrong desk is busy\" {{\n    call from 101 dial \"102\"\n    extension 101 is busy\n}}\n"
        ),
    );
    let o = switchboard(&["test", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("expected a call ringing extension 101"),
        "{out}"
    );
    assert!(
        out.contains("extension 101 is not ringing: the call rings extension 102"),
        "{out}"
    );
}
