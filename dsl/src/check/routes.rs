//! Routes: pattern syntax, ambiguous and shadowed routes, feature codes that hide an
//! extension, and inbound or chat routes written twice.

use super::names::Symbols;
use crate::ast::Ast;
use crate::diagnostic::Diagnostic;
use crate::pattern::Pattern;
use crate::route_table::Route;
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
    // Every pair in one group, then each variable-length route with the later ones and
    // with every group; only pairs whose literal prefixes agree are looked at (see
    // `PrefixIndex`), in the same order as if every pair were.
    let groups: Vec<&Vec<usize>> = by_len.values().collect();
    let prefixes: Vec<String> = routes.iter().map(|r| r.pattern.literal_prefix()).collect();
    let index = PrefixIndex::new(&prefixes, &groups, &variable);
    let mut found = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for &a in group.iter() {
            index.compatible(Some(g), a, &mut found);
            for &b in found.iter().filter(|&&b| b > a) {
                pairs(a, b, diags);
            }
        }
    }
    for &a in &variable {
        index.compatible(None, a, &mut found);
        for &b in found.iter().filter(|&&b| b > a) {
            pairs(a, b, diags);
        }
        for g in 0..groups.len() {
            index.compatible(Some(g), a, &mut found);
            for &b in &found {
                pairs(a, b, diags);
            }
        }
    }
    let mut beaten: Vec<_> = beaten_by.into_iter().collect();
    beaten.sort();
    for (worse, mut better) in beaten {
        better.sort_unstable();
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

/// Routes by their literal prefix (`*77*` of `*77*{ext:XXX}*`), per group of fixed-length
/// routes of one length (`Some(g)`) and for the variable-length ones (`None`). A number
/// matching two patterns starts with both prefixes, so one prefix must start the other;
/// any other pair cannot overlap and is never compared, which keeps a plan with
/// thousands of routes from being checked pair by pair.
struct PrefixIndex<'a> {
    prefixes: &'a [String],
    /// Routes whose prefix is exactly the key.
    exact: HashMap<(Option<usize>, &'a str), Vec<usize>>,
    /// Routes whose prefix starts with the key (or is it).
    under: HashMap<(Option<usize>, &'a str), Vec<usize>>,
}

impl<'a> PrefixIndex<'a> {
    fn new(prefixes: &'a [String], groups: &[&Vec<usize>], variable: &[usize]) -> Self {
        let mut exact: HashMap<_, Vec<usize>> = HashMap::new();
        let mut under: HashMap<_, Vec<usize>> = HashMap::new();
        let members = groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| group.iter().map(move |&i| (Some(g), i)))
            .chain(variable.iter().map(|&i| (None, i)));
        for (g, i) in members {
            let p = prefixes[i].as_str();
            exact.entry((g, p)).or_default().push(i);
            // Prefixes are ASCII (dialable characters), so every byte index is a boundary.
            for j in 0..=p.len() {
                under.entry((g, &p[..j])).or_default().push(i);
            }
        }
        PrefixIndex {
            prefixes,
            exact,
            under,
        }
    }

    /// Into `out`, in ascending order: the routes of group `g` whose prefix starts route
    /// `a`'s prefix or starts with it, the only ones that can overlap `a`.
    fn compatible(&self, g: Option<usize>, a: usize, out: &mut Vec<usize>) {
        out.clear();
        let p = self.prefixes[a].as_str();
        for j in 0..p.len() {
            if let Some(v) = self.exact.get(&(g, &p[..j])) {
                out.extend(v);
            }
        }
        if let Some(v) = self.under.get(&(g, p)) {
            out.extend(v);
        }
        out.sort_unstable();
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
