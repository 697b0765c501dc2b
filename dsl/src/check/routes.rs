//! Routes: pattern syntax, ambiguous and shadowed routes, feature codes that hide an
//! extension, and inbound or chat routes written twice.

use super::names::Symbols;
use crate::ast::Ast;
use crate::diagnostic::Diagnostic;
use crate::pattern::Pattern;
use crate::plan::Route;
use crate::source::Span;
use std::collections::HashMap;

pub fn check(ast: &Ast, symbols: &Symbols, diags: &mut Vec<Diagnostic>) -> Vec<Route> {
    let mut routes = Vec::with_capacity(ast.routes.len());
    for r in &ast.routes {
        match Pattern::parse(&r.pattern) {
            Ok(pattern) => {
                let mut names = std::collections::HashSet::new();
                for c in &pattern.captures {
                    if !names.insert(c.name.as_str()) {
                        diags.push(
                            Diagnostic::error(
                                "bad-pattern",
                                r.pattern_span,
                                format!("capture `{}` is named twice", c.name),
                            )
                            .label("repeated capture name")
                            .help("give each capture its own name"),
                        );
                    }
                }
                routes.push(Route {
                    pattern,
                    route: r.clone(),
                });
            }
            Err(e) => {
                // The pattern text starts one byte after the opening quote.
                let start = r.pattern_span.start as usize + 1 + e.at;
                diags.push(
                    Diagnostic::error(
                        "bad-pattern",
                        Span::new(r.pattern_span.file, start, start + e.len.max(1)),
                        e.message,
                    )
                    .label("in this pattern")
                    .help(e.help),
                );
            }
        }
    }
    check_feature_codes(&routes, symbols, ast, diags);
    check_overlaps(&routes, diags);
    check_inbound(ast, diags);
    check_chats(ast, diags);
    routes
}

/// A fixed code (`999`, `*62`) that is also an extension's number would make the
/// extension impossible to dial.
fn check_feature_codes(
    routes: &[Route],
    symbols: &Symbols,
    ast: &Ast,
    diags: &mut Vec<Diagnostic>,
) {
    for r in routes {
        let Some(code) = r.pattern.literal() else {
            continue;
        };
        // `dial "100" -> extension 100` just rings the extension: no collision.
        let rings_itself = matches!(
            r.route.action.steps.as_slice(),
            [crate::ast::Step { kind: crate::ast::StepKind::Extension { number, .. }, .. }]
                if number.literal().as_deref() == Some(code.as_str())
        );
        if symbols.is_dialable(&code) && !rings_itself {
            let def = ast
                .extensions
                .iter()
                .map(|e| (&e.number, e.number_span))
                .chain(ast.queues.iter().map(|q| (&q.number, q.number_span)))
                .find(|(n, _)| **n == code)
                .map(|(_, s)| s);
            let mut d = Diagnostic::error(
                "feature-code-collision",
                r.route.pattern_span,
                format!("the code `{code}` is also an extension number"),
            )
            .label("this code")
            .help("nobody could dial that extension: renumber the extension or change the code");
            if let Some(s) = def {
                d = d.related(s, "the extension with the same number");
            }
            diags.push(d);
        }
    }
}

/// Two routes with equal rank that can match one number are an error; a route that a
/// more specific route always beats is a warning. Routes with a `when` are tried before
/// routes without, so only routes without one can hide others.
fn check_overlaps(routes: &[Route], diags: &mut Vec<Diagnostic>) {
    // Fixed-length patterns can only meet patterns of the same length: bucket them, and
    // compare variable-length ones with everything.
    let mut by_len: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut variable = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        if r.pattern.rank.variable_length {
            variable.push(i);
        } else {
            by_len.entry(r.pattern.elems.len()).or_default().push(i);
        }
    }
    // For each route, the more specific unconditional routes that overlap it.
    let mut beaten_by: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut pairs = |a: usize, b: usize, diags: &mut Vec<Diagnostic>| {
        let (ra, rb) = (&routes[a], &routes[b]);
        let (ca, cb) = (ra.route.condition.is_some(), rb.route.condition.is_some());
        if !ra.pattern.overlaps(&rb.pattern) {
            return;
        }
        if ra.pattern.rank == rb.pattern.rank {
            if !ca && !cb {
                let (first, second) = if ra.route.span <= rb.route.span {
                    (ra, rb)
                } else {
                    (rb, ra)
                };
                diags.push(
                    Diagnostic::error(
                        "route-overlap",
                        second.route.pattern_span,
                        format!(
                            "`{}` and `{}` can match the same number and are equally specific",
                            second.route.pattern, first.route.pattern
                        ),
                    )
                    .label("this route")
                    .related(
                        first.route.pattern_span,
                        "can match the same numbers as this one",
                    )
                    .help("make one pattern more specific, or add `when` to one of them"),
                );
            }
            return;
        }
        let (better, worse) = if ra.pattern.rank < rb.pattern.rank {
            (a, b)
        } else {
            (b, a)
        };
        if routes[better].route.condition.is_none() && routes[worse].route.condition.is_none() {
            beaten_by.entry(worse).or_default().push(better);
        }
    };
    for group in by_len.values() {
        for (k, &a) in group.iter().enumerate() {
            for &b in &group[k + 1..] {
                pairs(a, b, diags);
            }
        }
    }
    for (k, &a) in variable.iter().enumerate() {
        for &b in &variable[k + 1..] {
            pairs(a, b, diags);
        }
        for group in by_len.values() {
            for &b in group {
                pairs(a, b, diags);
            }
        }
    }
    let mut beaten: Vec<_> = beaten_by.into_iter().collect();
    beaten.sort();
    for (worse, better) in beaten {
        let others: Vec<&Pattern> = better.iter().map(|&i| &routes[i].pattern).collect();
        if !routes[worse].pattern.covered_by(&others) {
            continue;
        }
        let w = &routes[worse].route;
        let names: Vec<String> = better
            .iter()
            .map(|&i| format!("`{}`", routes[i].route.pattern))
            .collect();
        let mut d = Diagnostic::warning(
            "route-shadowed",
            w.pattern_span,
            format!(
                "`{}` is never used: {} match{} every number it does and win{}",
                w.pattern,
                names.join(" and "),
                if names.len() == 1 { "es" } else { "" },
                if names.len() == 1 { "s" } else { "" }
            ),
        )
        .label("never used")
        .help("remove the route, or narrow the other pattern");
        for &i in &better {
            d = d.related(routes[i].route.pattern_span, "more specific");
        }
        diags.push(d);
    }
}

fn check_inbound(ast: &Ast, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(String, Option<String>), Span> = HashMap::new();
    for r in ast.inbound.iter().filter(|r| r.condition.is_none()) {
        let key = (r.trunk.name.clone(), r.to.as_ref().map(|(n, _)| n.clone()));
        if let Some(&first) = seen.get(&key) {
            diags.push(
                Diagnostic::error(
                    "route-overlap",
                    r.span,
                    "this inbound route repeats an earlier one",
                )
                .label("same trunk and number")
                .related(first, "the earlier route")
                .help("remove one, or add `when` to tell them apart"),
            );
        } else {
            seen.insert(key, r.span);
        }
    }
}

fn check_chats(ast: &Ast, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(&str, Option<String>), Span> = HashMap::new();
    for c in ast.chats.iter().filter(|c| c.condition.is_none()) {
        let key = (
            c.channel.as_str(),
            c.number.as_ref().map(|(n, _)| n.clone()),
        );
        if let Some(&first) = seen.get(&key) {
            diags.push(
                Diagnostic::error(
                    "route-overlap",
                    c.span,
                    "this chat route repeats an earlier one",
                )
                .label("same channel and number")
                .related(first, "the earlier route")
                .help("remove one, or add `when` to tell them apart"),
            );
        } else {
            seen.insert(key, c.span);
        }
    }
}
