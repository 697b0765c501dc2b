//! Flows that no route, queue, extension or other flow leads to.
//!
//! The warning is only true of the whole plan: when part of the text could not be read
//! (a syntax error, a file that is not UTF-8, a step or option written wrong and dropped),
//! the use of a flow may be in the part that was dropped, so no flow is called unused.

use crate::ast::visit::{entry_blocks, walk_block};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use std::collections::{HashMap, HashSet};

/// Errors after which some of the plan's text is missing from the syntax tree.
const DROPPED_TEXT: &[&str] = &[
    "syntax",
    "not-utf8",
    "file-too-large",
    "nesting-too-deep",
    "unknown-step",
    "bad-step",
    "bad-menu-key",
    "bad-chat-target",
    "unknown-option",
    "bad-option",
];

pub fn check(ast: &Ast, diags: &mut Vec<Diagnostic>) {
    if diags
        .iter()
        .any(|d| d.is_error() && DROPPED_TEXT.contains(&d.code))
    {
        return;
    }
    let by_name: HashMap<&str, &Flow> = ast
        .flows
        .iter()
        .map(|f| (f.name.name.as_str(), f))
        .collect();
    let mut reached: HashSet<&str> = HashSet::new();
    let mut todo: Vec<&str> = Vec::new();
    for b in entry_blocks(ast) {
        targets(b, &mut todo);
    }
    while let Some(name) = todo.pop() {
        if reached.insert(name)
            && let Some(f) = by_name.get(name)
        {
            targets(&f.body, &mut todo);
        }
    }
    for f in &ast.flows {
        if !reached.contains(f.name.name.as_str()) {
            diags.push(
                Diagnostic::warning(
                    "unreachable-flow",
                    f.name.span,
                    format!("flow `{}` is never used", f.name.name),
                )
                .label("no route, menu or flow leads here")
                .help(format!(
                    "route a number to it (`dial \"...\" -> flow {}`), or remove it",
                    f.name.name
                )),
            );
        }
    }
}

fn targets<'a>(b: &'a Block, out: &mut Vec<&'a str>) {
    walk_block(b, &mut |s| {
        if let StepKind::Goto { flow, .. } | StepKind::Call { flow, .. } = &s.kind {
            out.push(&flow.name);
        }
    });
}
