//! Flows that can go round without ever waiting for the caller.
//!
//! `flow retry { set n = 1  goto retry }` never plays, asks or rings: the engine would
//! spin until its step limit ends the call. Every path from a flow's start to a `goto` or
//! `call` is followed; a step that plays, asks, rings, records or waits breaks it. When
//! flows lead to each other along paths that never wait and come back to where they
//! started, the plan is refused at the step that closes the circle.
//!
//! When unsure whether a step waits, it is taken to wait: a plan this check refuses must
//! really loop, while a loop it misses is still stopped by the engine's step limit.

use crate::ast::{Ast, Block, Flow, Ident, MailboxOp, StepKind};
use crate::diagnostic::Diagnostic;
use std::collections::HashMap;

pub fn check(ast: &Ast, diags: &mut Vec<Diagnostic>) {
    let index: HashMap<&str, usize> = ast
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.name.as_str(), i))
        .collect();
    // Whether calling a flow always waits before it returns, to a fixed point: a flow
    // that calls itself counts as not waiting until shown otherwise.
    let mut always_waits = vec![false; ast.flows.len()];
    loop {
        let next: Vec<bool> = ast
            .flows
            .iter()
            .map(|f| {
                let mut scan = Scan::new(&index, &always_waits);
                scan.block(&f.body, false) == Reach::Waited
            })
            .collect();
        if next == always_waits {
            break;
        }
        always_waits = next;
    }
    // The edges a flow has to flows it reaches without waiting.
    let edges: Vec<Vec<(usize, &Ident)>> = ast
        .flows
        .iter()
        .map(|f| {
            let mut scan = Scan::new(&index, &always_waits);
            scan.block(&f.body, false);
            scan.edges
        })
        .collect();
    let mut in_a_reported_circle = vec![false; ast.flows.len()];
    for (start, flow) in ast.flows.iter().enumerate() {
        if in_a_reported_circle[start] {
            continue;
        }
        if let Some(path) = circle(start, &edges) {
            for (i, _) in &path {
                in_a_reported_circle[*i] = true;
            }
            let closing = path.last().map_or(&flow.name, |(_, at)| *at);
            diags.push(report(ast, flow, &path, closing));
        }
    }
}

/// How a path through a block ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Every path waited for the caller at least once.
    Waited,
    /// Some path got through without waiting.
    NotWaited,
    /// Every path left (goto, hangup, back): nothing after this runs.
    Left,
}

struct Scan<'a> {
    index: &'a HashMap<&'a str, usize>,
    always_waits: &'a [bool],
    edges: Vec<(usize, &'a Ident)>,
}

impl<'a> Scan<'a> {
    fn new(index: &'a HashMap<&'a str, usize>, always_waits: &'a [bool]) -> Scan<'a> {
        Scan {
            index,
            always_waits,
            edges: Vec::new(),
        }
    }

    /// Scans `block` entered with `waited` already true or not; records a `goto`/`call`
    /// reached without waiting as an edge.
    fn block(&mut self, block: &'a Block, mut waited: bool) -> Reach {
        for step in &block.steps {
            match &step.kind {
                StepKind::Goto { flow, .. } => {
                    if !waited && let Some(&to) = self.index.get(flow.name.as_str()) {
                        self.edges.push((to, flow));
                    }
                    return Reach::Left;
                }
                StepKind::Call { flow, .. } => {
                    if let Some(&to) = self.index.get(flow.name.as_str()) {
                        if !waited {
                            self.edges.push((to, flow));
                        }
                        waited |= self.always_waits[to];
                    }
                }
                StepKind::Hangup | StepKind::Back => return Reach::Left,
                StepKind::If {
                    branches,
                    otherwise,
                } => {
                    let mut all = branches
                        .iter()
                        .map(|(_, b)| self.block(b, waited))
                        .collect::<Vec<_>>();
                    all.push(match otherwise {
                        Some(b) => self.block(b, waited),
                        None if waited => Reach::Waited,
                        None => Reach::NotWaited,
                    });
                    if all.iter().all(|r| *r == Reach::Left) {
                        return Reach::Left;
                    }
                    waited = all.iter().all(|r| *r != Reach::NotWaited);
                }
                StepKind::Loop { times, body } => {
                    let r = self.block(body, waited);
                    if r == Reach::Left && *times > 0 {
                        return Reach::Left;
                    }
                    waited |= r == Reach::Waited && *times > 0;
                }
                StepKind::Menu(menu) => {
                    // The menu waits for a key before any branch runs.
                    for key in &menu.keys {
                        self.block(&key.action, true);
                    }
                    for b in [
                        &menu.on_timeout,
                        &menu.on_invalid,
                        &menu.on_retries_exhausted,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        self.block(b, true);
                    }
                    waited = true;
                }
                kind => waited |= waits(kind),
            }
        }
        if waited {
            Reach::Waited
        } else {
            Reach::NotWaited
        }
    }
}

/// Whether a simple step waits for the caller, the network or the clock.
fn waits(kind: &StepKind) -> bool {
    !matches!(
        kind,
        StepKind::Answer
            | StepKind::Set { .. }
            | StepKind::Language(_)
            | StepKind::Mailbox(MailboxOp::Open(_) | MailboxOp::Select { .. })
    )
}

/// A path of edges from `start` back to `start`, if there is one.
fn circle<'a>(start: usize, edges: &[Vec<(usize, &'a Ident)>]) -> Option<Vec<(usize, &'a Ident)>> {
    let mut seen = vec![false; edges.len()];
    let mut stack: Vec<(usize, Vec<(usize, &Ident)>)> = vec![(start, Vec::new())];
    while let Some((at, path)) = stack.pop() {
        for &(to, ident) in &edges[at] {
            let mut next = path.clone();
            next.push((to, ident));
            if to == start {
                return Some(next);
            }
            if !seen[to] {
                seen[to] = true;
                stack.push((to, next));
            }
        }
    }
    None
}

fn report(ast: &Ast, flow: &Flow, path: &[(usize, &Ident)], closing: &Ident) -> Diagnostic {
    let names: Vec<&str> = std::iter::once(flow.name.name.as_str())
        .chain(path.iter().map(|(i, _)| ast.flows[*i].name.name.as_str()))
        .collect();
    let circle = names.join(" → ");
    Diagnostic::error(
        "busy-loop",
        closing.span,
        format!(
            "flow `{}` can go round without waiting for the caller: {circle}",
            flow.name.name
        ),
    )
    .label("back to the start, and nothing on the way waits")
    .related(flow.name.span, "the circle starts here")
    .help("play, ask, menu or `wait 1s` somewhere on the way, or end the call")
}
