//! What a route's captures can turn into.
//!
//! Each capture of a fixed length is expanded to the texts it can take (a thousand at
//! most) and followed into the route's steps and, through arguments, into the flows the
//! route goes to.
//!
//! - A park orbit named from a capture must exist for every number the pattern lets
//!   through: `dial "SP{slot:[1-3]}" -> park_toggle "SP{slot}"` with only SP1 and SP2
//!   declared would park a caller in an orbit nobody sees or picks up.
//! - An extension or queue named from a capture must exist for at least one of them.
//!   `*4{ext:XXX}` and `{q:7XXX}` are meant to reach whichever number is dialled, and
//!   the engine answers a number that is none "no such extension" by design; but a
//!   pattern none of whose numbers names one (`{q:9XX}` when the queues are 7xx) is a
//!   mistake.

use super::Symbols;
use crate::ast::visit::walk_block;
use crate::ast::{Ast, Block, Flow, Route, StepKind, TextPart, Value, ValueKind};
use crate::diagnostic::Diagnostic;
use crate::pattern::Pattern;
use std::collections::HashMap;

/// The most texts a capture or a formed name is expanded to; beyond it, no finding. A
/// thousand covers every orbit range and a three-digit extension capture, and keeps the
/// check a small part of `compile` on a 10,000-extension plan.
const MAX_VALUES: usize = 1_000;

/// How deep flows reached through `goto`/`call` arguments are followed.
const MAX_FLOW_DEPTH: usize = 4;

pub fn check(ast: &Ast, symbols: &Symbols, diags: &mut Vec<Diagnostic>) {
    let flows: HashMap<&str, &Flow> = ast
        .flows
        .iter()
        .map(|f| (f.name.name.as_str(), f))
        .collect();
    for route in &ast.routes {
        let Ok(pattern) = Pattern::parse(&route.pattern) else {
            continue;
        };
        let env: Env = pattern
            .captures
            .iter()
            .filter_map(|c| {
                let values = pattern.capture_values(&c.name, MAX_VALUES)?;
                Some((c.name.clone(), values))
            })
            .collect();
        if env.is_empty() {
            continue;
        }
        let mut cx = Cx {
            route,
            symbols,
            flows: &flows,
            diags,
        };
        cx.block(&route.action, &env, 0);
    }
}

/// Variable name to every text it can hold on this route.
type Env = HashMap<String, Vec<String>>;

struct Cx<'a> {
    route: &'a Route,
    symbols: &'a Symbols,
    flows: &'a HashMap<&'a str, &'a Flow>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    fn block(&mut self, block: &Block, env: &Env, depth: usize) {
        let mut steps = Vec::new();
        walk_block(block, &mut |s| steps.push(s));
        for step in steps {
            match &step.kind {
                StepKind::Park(v) | StepKind::Unpark(v) | StepKind::ParkToggle(v) => {
                    self.target(v, env, "park orbit", "unknown-orbit")
                }
                StepKind::Queue(v) => self.target(v, env, "queue", "unknown-queue"),
                StepKind::Extension { number, .. } => {
                    self.target(number, env, "extension", "unknown-extension")
                }
                StepKind::Voicemail(v) => self.target(v, env, "mailbox", "unknown-extension"),
                StepKind::Goto { flow, args } | StepKind::Call { flow, args }
                    if depth < MAX_FLOW_DEPTH =>
                {
                    let Some(f) = self.flows.get(flow.name.as_str()) else {
                        continue;
                    };
                    let inner: Env = f
                        .params
                        .iter()
                        .zip(args)
                        .filter_map(|(p, a)| Some((p.name.clone(), values(a, env)?)))
                        .collect();
                    if !inner.is_empty() {
                        self.block(&f.body, &inner, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    /// Reports the first text `v` can form on this route that names no `kind` (for an
    /// orbit), or that none names one (for the open-ended extensions and queues).
    fn target(&mut self, v: &Value, env: &Env, kind: &str, code: &'static str) {
        if v.literal().is_some() {
            return; // A fixed name is checked with every other reference.
        }
        let Some(formed) = values(v, env) else {
            return;
        };
        let known = |name: &str| match code {
            "unknown-orbit" => self.symbols.orbits.contains(name),
            "unknown-queue" => self.symbols.queues.contains(name),
            _ => self.symbols.is_dialable(name),
        };
        if code != "unknown-orbit" && formed.iter().any(|n| known(n)) {
            return;
        }
        let missing: Vec<&String> = formed.iter().filter(|n| !known(n)).collect();
        let Some(first) = missing.first() else {
            return;
        };
        let written = &self.route.pattern;
        let (message, help) = if code == "unknown-orbit" {
            let also = match missing.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            (
                format!("this can name the {kind} `{first}`{also}, which the plan does not define"),
                format!(
                    "define every {kind} the pattern allows, or narrow the pattern to the ones that exist"
                ),
            )
        } else {
            (
                format!(
                    "no number this route lets through names a {kind} (`{first}` is one of them)"
                ),
                format!("make the pattern match the numbers of your {kind}s, or define the {kind}"),
            )
        };
        self.diags.push(
            Diagnostic::error(code, v.span, message)
                .label(format!("`{first}` when the caller dials it"))
                .related(
                    self.route.pattern_span,
                    format!("the pattern \"{written}\" lets `{first}` through"),
                )
                .help(help),
        );
    }
}

/// Every text `v` can be, given what its variables can hold; `None` when a part is not
/// known here (a variable set elsewhere) or there are too many.
fn values(v: &Value, env: &Env) -> Option<Vec<String>> {
    let parts: Vec<TextPart> = match &v.kind {
        ValueKind::Text(parts) => parts.clone(),
        ValueKind::Var(path) if path.len() == 1 => vec![TextPart::Var(path[0].clone())],
        ValueKind::Number(n) => vec![TextPart::Lit(n.clone())],
        _ => return None,
    };
    let mut out = vec![String::new()];
    for part in &parts {
        out = match part {
            TextPart::Lit(s) => out.into_iter().map(|o| o + s.as_str()).collect(),
            TextPart::Var(name) => {
                let vals = env.get(name)?;
                if out.len().checked_mul(vals.len())? > MAX_VALUES {
                    return None;
                }
                out.iter()
                    .flat_map(|o| vals.iter().map(move |x| format!("{o}{x}")))
                    .collect()
            }
        };
    }
    Some(out)
}
