//! Architecture invariant: the engines run the lowered program, never the syntax tree.
//! Calls and chats work out values and conditions through one evaluator
//! (`core/src/evaluate.rs`); a second one walking the AST's values or conditions would
//! drift from it, as the chat router's once did.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("core/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn no_engine_evaluates_the_syntax_tree() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "core/src should hold the engines");
    let mut offenders = Vec::new();
    for (path, text) in &files {
        // `test` blocks are read as written: their values are literals a test compares
        // with what the call did, never worked out.
        if path.ends_with("test_run.rs") {
            continue;
        }
        for word in ["ValueKind", "Condition::", "ast::Condition", "ChatTarget::"] {
            if text.contains(word) {
                offenders.push(format!("{path} uses `{word}`"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "values and conditions must be lowered (dsl/src/lower.rs) and worked out by \
         core/src/evaluate.rs:\n{}",
        offenders.join("\n")
    );
    let evaluators: Vec<&String> = files
        .iter()
        .filter(|(_, text)| text.contains("Cond::Compare {") && text.contains("fn condition("))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        evaluators.len(),
        1,
        "one evaluator of conditions: {evaluators:?}"
    );
}
