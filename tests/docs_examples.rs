//! Every example in docs/language.md compiles: a ```dial block on its own with no errors,
//! a ```dial-error block with at least one. The manual cannot drift from the language.

use switchboard_dsl::{PromptCatalog, SourceFile, Sources, compile, render};

/// One fenced example: its tag, the line of its opening fence and its text.
struct Block {
    tag: &'static str,
    line: usize,
    text: String,
}

fn blocks(manual: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in manual.lines().enumerate() {
        let fence = line.trim_end();
        match &mut open {
            None => {
                let tag = match fence {
                    "```dial" => "dial",
                    "```dial-error" => "dial-error",
                    _ => continue,
                };
                open = Some(Block {
                    tag,
                    line: i + 1,
                    text: String::new(),
                });
            }
            Some(block) => {
                if fence == "```" {
                    out.push(open.take().expect("a block is open"));
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(
        open.is_none(),
        "docs/language.md: the block opened at line {} is never closed",
        open.map_or(0, |b| b.line)
    );
    out
}

#[test]
fn every_example_in_the_manual_compiles() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md");
    let manual = std::fs::read_to_string(path).expect("docs/language.md is readable");
    let blocks = blocks(&manual);
    assert!(
        blocks.len() >= 30,
        "expected at least 30 examples in docs/language.md, found {}",
        blocks.len()
    );
    let mut failures = Vec::new();
    for (n, block) in blocks.iter().enumerate() {
        let mut sources = Sources::new();
        sources.add(SourceFile::new(
            format!("docs/language.md#block-{}", n + 1),
            block.text.clone(),
        ));
        let c = compile(sources, &PromptCatalog::unchecked());
        // The manual's `test` blocks must also pass, so the examples show what the
        // engine really does.
        if let Some(plan) = &c.plan {
            for o in switchboard_core::test_run::run_tests(plan) {
                if let Some(f) = o.failure {
                    failures.push(format!(
                        "docs/language.md:{}: test {:?} fails at {}: expected {}, the call did: {}",
                        block.line,
                        o.name,
                        f.place,
                        f.expected,
                        f.instead.join("; ")
                    ));
                }
            }
        }
        match block.tag {
            "dial" if c.errors() > 0 => failures.push(format!(
                "docs/language.md:{}: this ```dial example has {} error(s):\n{}",
                block.line,
                c.errors(),
                render::human(&c.diagnostics, &c.sources, false)
            )),
            "dial-error" if c.errors() == 0 => failures.push(format!(
                "docs/language.md:{}: this ```dial-error example compiles without errors\n{}",
                block.line,
                render::human(&c.diagnostics, &c.sources, false)
            )),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples are wrong:\n\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n")
    );
}

/// The manual's list of what scripts can call is the sandbox's own list, no more and no
/// less: a package added to or removed from the engine shows here first.
#[test]
fn the_manual_lists_exactly_the_functions_scripts_can_call() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md");
    let manual = std::fs::read_to_string(path).expect("docs/language.md is readable");
    let start = manual
        .find("<!-- script-functions")
        .expect("docs/language.md marks the list of script functions");
    let list = &manual[start..];
    let list = &list[list.find("-->").expect("the marker is closed") + 3..];
    let list = &list[..list
        .find("<!-- /script-functions -->")
        .expect("the list ends")];
    let documented: std::collections::BTreeSet<String> = list
        .split(',')
        .map(|n| n.trim().trim_matches('`').to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let host = switchboard_dsl::script::ScriptHost::new();
    let missing: Vec<_> = host.functions().difference(&documented).collect();
    let extra: Vec<_> = documented.difference(host.functions()).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/language.md, section Scripts: not listed {missing:?}; listed but not callable {extra:?}"
    );
}
