//! Walking the syntax tree: every block of a plan and every step in it, nested ones
//! included, for the checks that look at steps one by one.

use super::{Ast, Block, Step, StepKind};

/// Calls `f` on every step of every block in the plan, nested ones included.
pub fn for_each_step(ast: &Ast, f: &mut impl FnMut(&Step)) {
    for b in blocks(ast) {
        walk_block(b, f);
    }
}

/// Every top-level block of the plan: flows, the entry blocks and tests.
pub fn blocks(ast: &Ast) -> impl Iterator<Item = &Block> {
    ast.flows
        .iter()
        .map(|f| &f.body)
        .chain(entry_blocks(ast))
        .chain(ast.tests.iter().map(|t| &t.body))
}

/// The blocks a call can start in: route and inbound actions, queue `then` and extension
/// `no_answer`. Flows are reached from these.
pub fn entry_blocks(ast: &Ast) -> impl Iterator<Item = &Block> {
    ast.routes
        .iter()
        .map(|r| &r.action)
        .chain(ast.inbound.iter().map(|r| &r.action))
        .chain(ast.queues.iter().filter_map(|q| q.then.as_ref()))
        .chain(
            ast.extensions
                .iter()
                .filter_map(|e| e.options.no_answer.as_ref()),
        )
}

/// Calls `f` on every step of a block, nested ones included.
pub fn walk_block<'a>(b: &'a Block, f: &mut impl FnMut(&'a Step)) {
    for s in &b.steps {
        walk_step(s, f);
    }
}

fn walk_step<'a>(s: &'a Step, f: &mut impl FnMut(&'a Step)) {
    f(s);
    match &s.kind {
        StepKind::Menu(m) => {
            for k in &m.keys {
                walk_block(&k.action, f);
            }
            for b in [&m.on_timeout, &m.on_invalid, &m.on_retries_exhausted]
                .into_iter()
                .flatten()
            {
                walk_block(b, f);
            }
        }
        StepKind::If {
            branches,
            otherwise,
        } => {
            for (_, b) in branches {
                walk_block(b, f);
            }
            if let Some(b) = otherwise {
                walk_block(b, f);
            }
        }
        StepKind::Loop { body, .. } => walk_block(body, f),
        StepKind::Expect(inner) => walk_step(inner, f),
        _ => {}
    }
}
