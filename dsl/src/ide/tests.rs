//! The editor's questions asked of a small plan; `|` marks the cursor.

use super::*;
use crate::source::SourceFile;

const PLAN: &str = r#"extension 100 "Front Desk"
queue 800 "Sales" {
    agents 100
}
trunk "main" {
    host "sip.example.net"
}

flow main_menu {
    answer
    ask "enter-code" digits 4 -> code
    goto after_hours
}

flow after_hours {
    play "goodbye"
    hangup
}

test "the menu answers" {
    call from 100 dial "800"
}
"#;

/// The analysis of `PLAN` with `line` (holding one `|`) added at the end, and the cursor.
fn analysis(line: &str) -> (Analysis, usize) {
    let text = format!("{PLAN}{line}");
    let cursor = text.find('|').expect("a | marks the cursor");
    let text = text.replacen('|', "", 1);
    let mut sources = Sources::new();
    sources.add(SourceFile::new("plan.dial", text));
    let mut prompts = PromptCatalog::unchecked();
    prompts.add("en", "goodbye");
    prompts.add("en", "enter-code");
    (Analysis::new(Arc::new(sources), &prompts), cursor)
}

fn labels(line: &str) -> Vec<String> {
    let (a, at) = analysis(line);
    a.completions(FileId(0), at)
        .into_iter()
        .map(|c| c.label)
        .collect()
}

fn defined_at(line: &str) -> Option<String> {
    let (a, at) = analysis(line);
    a.definition(FileId(0), at)
        .map(|s| a.sources().get(FileId(0)).text[s.range()].to_string())
}

#[test]
fn completes_the_kind_of_name_the_word_before_asks_for() {
    assert_eq!(
        labels("flow x {\n    goto |\n}\n"),
        ["after_hours", "main_menu", "x"]
    );
    assert_eq!(labels("flow x {\n    goto ma|\n}\n"), ["main_menu"]);
    assert_eq!(labels("flow x {\n    queue |\n}\n"), ["800"]);
    assert_eq!(labels("flow x {\n    extension |\n}\n"), ["100"]);
    assert_eq!(labels("flow x {\n    trunk \"|\n}\n"), ["main"]);
    assert_eq!(labels("flow x {\n    play \"go|\n}\n"), ["goodbye"]);
}

#[test]
fn completes_step_words_with_their_usage_and_variables() {
    let (a, at) = analysis("flow x {\n    ha|\n}\n");
    let got = a.completions(FileId(0), at);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].label, "hangup");
    assert_eq!(got[0].detail.as_deref(), Some("hangup"));
    assert_eq!(
        labels("flow x {\n    q|\n}\n"),
        ["queue", "queue_login", "queue_logout"]
    );
    // `code` is stored by `ask ... -> code`; `caller` is built in.
    assert!(labels("flow x {\n    set y = c|\n}\n").contains(&"code".to_string()));
    assert!(labels("flow x {\n    set y = c|\n}\n").contains(&"caller".to_string()));
    // In a test the verbs are the test's.
    assert!(labels("test \"t\" {\n    pr|\n}\n").contains(&"press".to_string()));
}

#[test]
fn goes_to_the_definition_of_the_name_at_the_cursor() {
    assert_eq!(
        defined_at("flow x {\n    goto after_h|ours\n}\n").as_deref(),
        Some("after_hours")
    );
    assert_eq!(
        defined_at("flow x {\n    queue 8|00\n}\n").as_deref(),
        Some("800")
    );
    assert_eq!(
        defined_at("flow x {\n    extension 100|\n}\n").as_deref(),
        Some("100")
    );
    assert_eq!(
        defined_at("flow x {\n    trunk \"ma|in\" to \"1\"\n}\n").as_deref(),
        Some("\"main\"")
    );
    assert_eq!(defined_at("flow x {\n    goto nowhere|\n}\n"), None);
    // The cursor in a test: `from 100` is the extension.
    assert_eq!(
        defined_at("test \"u\" {\n    call from 10|0\n}\n").as_deref(),
        Some("100")
    );
}

#[test]
fn hovers_show_usage_lines_and_what_names_are() {
    let (a, at) = analysis("flow x {\n    qu|eue 800\n}\n");
    let h = a.hover(FileId(0), at).unwrap();
    assert_eq!(h.text, "`queue` step: queue NUMBER");
    let (a, at) = analysis("flow x {\n    queue 80|0\n}\n");
    let h = a.hover(FileId(0), at).unwrap();
    assert_eq!(h.text, "queue 800 \"Sales\", defined at plan.dial:2:7");
    assert_eq!(&a.sources().get(FileId(0)).text[h.span.range()], "800");
}

#[test]
fn names_stay_known_while_a_line_is_broken() {
    assert_eq!(
        labels("flow x {\n    goto a|\n    menu {{{\n}\n"),
        ["after_hours"]
    );
}

#[test]
fn lists_the_symbols_of_a_file_in_source_order() {
    let (a, _) = analysis("|");
    let got: Vec<(SymbolKind, String)> = a
        .symbols(FileId(0))
        .into_iter()
        .map(|s| (s.kind, s.name))
        .collect();
    assert_eq!(
        got,
        [
            (SymbolKind::Extension, "100 Front Desk".to_string()),
            (SymbolKind::Queue, "800 Sales".to_string()),
            (SymbolKind::Trunk, "main".to_string()),
            (SymbolKind::Flow, "main_menu".to_string()),
            (SymbolKind::Flow, "after_hours".to_string()),
            (SymbolKind::Test, "the menu answers".to_string()),
        ]
    );
}

#[test]
fn completion_starts_where_the_typed_word_starts_after_any_quote() {
    let start = |line: &str| {
        let (a, at) = analysis(line);
        let text = a.sources().get(FileId(0)).text.clone();
        text[a.completion_start(FileId(0), at)..at].to_string()
    };
    assert_eq!(start("flow x {\n    goto main_m|\n}\n"), "main_m");
    assert_eq!(start("flow x {\n    play \"goo|\n}\n"), "goo");
    assert_eq!(start("flow x {\n    goto |\n}\n"), "");
}
