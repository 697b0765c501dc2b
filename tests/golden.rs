//! Golden tests: each `tests/golden/NAME.dial` is compiled as a plan of its own and its
//! rendered diagnostics must equal `tests/golden/NAME.out` exactly.
//!
//! To accept new output after a deliberate change: `UPDATE_GOLDEN=1 cargo test --test golden`,
//! then read the diff before committing it.

use std::path::Path;
use switchboard_dsl::{PromptCatalog, SourceFile, Sources, compile, render};

/// The prompts the golden plans may use; anything else is reported missing.
fn catalog() -> PromptCatalog {
    let mut c = PromptCatalog::default();
    for p in [
        "main-greeting",
        "invalid-option",
        "goodbye",
        "vm-enter-pin",
        "vm-bad-pin",
        "vm-main",
        "beep",
        "vm-review",
        "vm-saved",
        "vm-unavailable",
        "vm-is-unavailable",
        "queue-full",
        "not-allowed",
        "queue-logged-in",
        "queue-logged-out",
        "hotdesk-logged-in",
        "hotdesk-logged-out",
        "hotdesk-not-allowed",
        "dir-intro",
        "dir-no-match",
        "dir-confirm",
        "park-parked",
        "park-empty",
        "vm-locked",
        "vm-pin-was-locked",
        "hold-music",
    ] {
        c.add("en", p);
    }
    for d in switchboard_dsl::prompts::DIGITS {
        c.add("en", d);
    }
    // A second language with only part of the prompts, for the cases about languages.
    for p in ["main-greeting", "goodbye", "beep", "vm-saved"] {
        c.add("de", p);
    }
    c
}

fn render_case(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let name = format!(
        "tests/golden/{}",
        path.file_name().unwrap().to_string_lossy()
    );
    let mut sources = Sources::new();
    sources.add(SourceFile::from_bytes(name, bytes));
    let compiled = compile(sources, &catalog());
    let mut out = render::human(&compiled.diagnostics, &compiled.sources, false);
    out.push_str(&format!(
        "errors: {}, warnings: {}\n",
        compiled.errors(),
        compiled.warnings()
    ));
    out
}

#[test]
fn every_golden_case_renders_as_recorded() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dial"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 25,
        "expected a golden case per diagnostic kind, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let actual = render_case(case);
        let expected_path = case.with_extension("out");
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "--- {} (expected)\n{expected}\n+++ actual\n{actual}",
                expected_path.display()
            ));
        }
        // Every case exists to show at least one diagnostic.
        assert!(
            !actual.starts_with("errors: 0, warnings: 0"),
            "{} reports nothing",
            case.display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
