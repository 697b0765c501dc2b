//! The route index: which dial routes match a dialled number, in the order the call engine
//! tries them, without running every route's pattern.
//!
//! The engine tries routes with a `when` condition before routes without, within each group
//! the more specific pattern first (`Rank`), then in source order. That order is fixed when
//! the plan is built, so every route gets its position in it once, and a lookup only has to
//! collect the matching positions and sort those few.
//!
//! Every number a pattern matches starts with the pattern's literal prefix (`*77*` of
//! `*77*{ext:XXX}*`, all of `999`), and a fixed-length pattern matches only numbers of its
//! own length. So the routes are bucketed by (fixed length or "variable", literal prefix).
//! A lookup of a number of length `L` probes, for the fixed-length patterns of length `L`
//! and for the variable-length ones, the number's own prefixes of the lengths that have a
//! bucket, and runs the patterns of the buckets it finds. With distinct prefixes per route
//! (as admins write them) a lookup costs a handful of hash probes, whatever the plan's
//! size. A bucket whose prefix is the whole pattern (a feature code like `999`) needs no
//! matching at all.

use crate::ast;
use crate::pattern::{Elem, Pattern};
use std::collections::HashMap;

/// A `dial` route with its compiled pattern.
pub struct Route {
    pub pattern: Pattern,
    pub route: ast::Route,
}

/// An index over a plan's dial routes, built once with the plan.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// `fixed[len]`: the buckets of fixed-length patterns that match `len` characters.
    fixed: Vec<Buckets>,
    /// The buckets of patterns with `.` or `!`.
    variable: Buckets,
    /// The route index at each position of the engine's order.
    by_position: Vec<u32>,
    /// Every bucket's positions, each bucket one ascending run.
    positions: Vec<u32>,
}

/// Buckets of patterns by literal prefix.
#[derive(Clone, Debug, Default)]
struct Buckets {
    by_prefix: HashMap<Box<[u8]>, Run>,
    /// The prefix lengths that have a bucket, ascending: a lookup probes only these, not
    /// every prefix of the number.
    prefix_lens: Vec<usize>,
}

/// One bucket: `positions[start..end]`.
#[derive(Clone, Copy, Debug)]
struct Run {
    start: u32,
    end: u32,
    /// Whether every pattern of the bucket is its prefix alone, so reaching the bucket is
    /// already a match.
    exact: bool,
}

/// Which set of buckets a pattern belongs to; sorts fixed lengths before variable.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Fixed(usize),
    Variable,
}

impl RouteTable {
    pub fn new(routes: &[Route]) -> RouteTable {
        // The engine's order: `when` routes first, then the more specific pattern, then
        // source order (the sort is stable).
        let mut by_position: Vec<u32> = (0..routes.len() as u32).collect();
        by_position.sort_by_key(|&i| {
            let r = &routes[i as usize];
            (r.route.condition.is_none(), r.pattern.rank)
        });
        let mut position = vec![0u32; routes.len()];
        for (pos, &i) in by_position.iter().enumerate() {
            position[i as usize] = pos as u32;
        }

        // Sorting by (class, prefix, position) puts each bucket's routes next to each
        // other, already in the engine's order.
        let mut keyed: Vec<(Class, Box<[u8]>, u32)> = routes
            .iter()
            .zip(&position)
            .map(|(r, &pos)| {
                let class = if r.pattern.rank.variable_length {
                    Class::Variable
                } else {
                    Class::Fixed(r.pattern.elems.len())
                };
                (class, prefix_of(&r.pattern), pos)
            })
            .collect();
        keyed.sort_unstable();

        let mut table = RouteTable {
            by_position,
            positions: keyed.iter().map(|k| k.2).collect(),
            ..RouteTable::default()
        };
        let mut start = 0;
        for bucket in keyed.chunk_by_mut(|a, b| a.0 == b.0 && a.1 == b.1) {
            let (class, prefix) = (bucket[0].0, std::mem::take(&mut bucket[0].1));
            let buckets = match class {
                Class::Fixed(len) => {
                    if table.fixed.len() <= len {
                        table.fixed.resize_with(len + 1, Buckets::default);
                    }
                    &mut table.fixed[len]
                }
                Class::Variable => &mut table.variable,
            };
            let end = start + bucket.len() as u32;
            let run = Run {
                start,
                end,
                exact: class == Class::Fixed(prefix.len()),
            };
            buckets.prefix_lens.push(prefix.len());
            buckets.by_prefix.insert(prefix, run);
            start = end;
        }
        // Buckets of one class arrive by prefix text, not length.
        for b in table.fixed.iter_mut().chain([&mut table.variable]) {
            b.prefix_lens.sort_unstable();
            b.prefix_lens.dedup();
        }
        table
    }

    /// Indices into `routes` of the routes whose pattern matches `number`, in the order the
    /// engine must try them. `routes` must be the slice the table was built from. `out` is
    /// cleared first and reused, so a lookup allocates nothing once it has grown.
    pub fn lookup(&self, routes: &[Route], number: &str, out: &mut Vec<usize>) {
        debug_assert_eq!(
            routes.len(),
            self.by_position.len(),
            "another plan's routes"
        );
        out.clear();
        if let Some(fixed) = self.fixed.get(number.len()) {
            self.collect(fixed, routes, number, out);
        }
        self.collect(&self.variable, routes, number, out);
        // Positions are unique and each bucket gave them ascending, so this sorts a few
        // numbers at most; then positions become route indices.
        out.sort_unstable();
        for p in out.iter_mut() {
            *p = self.by_position[*p] as usize;
        }
    }

    /// Appends the positions of the matching routes of the buckets `number` reaches.
    fn collect(&self, buckets: &Buckets, routes: &[Route], number: &str, out: &mut Vec<usize>) {
        let n = number.as_bytes();
        for &len in &buckets.prefix_lens {
            if len > n.len() {
                break;
            }
            let Some(run) = buckets.by_prefix.get(&n[..len]) else {
                continue;
            };
            let positions = &self.positions[run.start as usize..run.end as usize];
            if run.exact {
                out.extend(positions.iter().map(|&p| p as usize));
                continue;
            }
            for &p in positions {
                let pattern = &routes[self.by_position[p as usize] as usize].pattern;
                // The bucket's key is the number's prefix, so matching starts after it.
                if is_match(pattern, number, len) {
                    out.push(p as usize);
                }
            }
        }
    }
}

/// The literal prefix as bytes; it is ASCII, like every character a pattern can match.
fn prefix_of(pattern: &Pattern) -> Box<[u8]> {
    pattern.literal_prefix().into_bytes().into_boxed_slice()
}

/// Whether `number` matches `pattern`, given that its first `from` characters do. Unlike
/// `Pattern::matches` it collects no captures, so it never allocates.
fn is_match(pattern: &Pattern, number: &str, from: usize) -> bool {
    let n = number.as_bytes();
    let elems = &pattern.elems;
    if !pattern.rank.variable_length {
        // The bucket already holds only patterns of the number's length.
        return elems.len() == n.len()
            && elems[from..].iter().zip(&n[from..]).all(|(e, &c)| match e {
                Elem::One(s) => s.contains(c),
                Elem::Star(_) => false,
            });
    }
    if elems.len() >= u128::BITS as usize {
        // Too long for the bit set of states below; `Pattern::parse` never makes one.
        return pattern.matches(number).is_some();
    }
    // Runs the pattern as an automaton: state `i` means "before element `i`", all states
    // at once as bits, so there is no backtracking.
    let mut states = skip_stars(elems, 1 << from);
    for &c in &n[from..] {
        let mut next = 0u128;
        let mut rest = states;
        while rest != 0 {
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            match elems.get(i) {
                Some(Elem::One(s)) if s.contains(c) => next |= 1 << (i + 1),
                Some(Elem::Star(s)) if s.contains(c) => next |= 1 << i,
                _ => {}
            }
        }
        if next == 0 {
            return false;
        }
        states = skip_stars(elems, next);
    }
    states & (1 << elems.len()) != 0
}

/// Adds the states reached by letting stars match nothing; ascending order follows a run
/// of stars to its end.
fn skip_stars(elems: &[Elem], mut states: u128) -> u128 {
    let first = states.trailing_zeros() as usize;
    for (i, e) in elems.iter().enumerate().skip(first) {
        if states & (1 << i) != 0 && matches!(e, Elem::Star(_)) {
            states |= 1 << (i + 1);
        }
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{self, Condition, Value, ValueKind};
    use crate::source::{FileId, Span};
    use proptest::prelude::*;

    fn route(pattern: &str, when: bool) -> Route {
        let span = Span::new(FileId(0), 0, 0);
        Route {
            pattern: Pattern::parse(pattern).unwrap(),
            route: ast::Route {
                pattern: pattern.to_string(),
                pattern_span: span,
                condition: when.then(|| {
                    Condition::Script(Value {
                        kind: ValueKind::Script("true".to_string()),
                        span,
                    })
                }),
                action: ast::Action::default(),
                span,
            },
        }
    }

    fn routes(patterns: &[&str]) -> Vec<Route> {
        patterns.iter().map(|p| route(p, false)).collect()
    }

    fn lookup(routes: &[Route], number: &str) -> Vec<usize> {
        let mut out = vec![42];
        RouteTable::new(routes).lookup(routes, number, &mut out);
        out
    }

    /// The definition: every matching route, `when` routes first, then by rank, then in
    /// source order.
    fn brute_force(routes: &[Route], number: &str) -> Vec<usize> {
        let mut found: Vec<usize> = (0..routes.len())
            .filter(|&i| routes[i].pattern.matches(number).is_some())
            .collect();
        found.sort_by_key(|&i| (routes[i].route.condition.is_none(), routes[i].pattern.rank));
        found
    }

    #[test]
    fn a_feature_code_beats_the_extension_pattern() {
        let r = routes(&["{ext:XXX}", "999"]);
        assert_eq!(lookup(&r, "999"), [1, 0]);
        assert_eq!(lookup(&r, "998"), [0]);
    }

    #[test]
    fn conditional_routes_come_first() {
        let r = vec![
            route("{n:NXXNXXXXXX}", false),
            route("{ext:XXX}", false),
            route("X.", true),
            route("{n:NXXNXXXXXX}", true),
        ];
        // Both `when` routes first, the more specific of them first; the unconditional
        // route last though it is more specific than the `when` route `X.`.
        assert_eq!(lookup(&r, "2605550123"), [3, 2, 0]);
        assert_eq!(lookup(&r, "0605550123"), [2]);
        assert_eq!(lookup(&r, "105"), [2, 1]);
    }

    #[test]
    fn equal_routes_keep_source_order() {
        let r = routes(&["1XX", "X1X", "1XX"]);
        assert_eq!(lookup(&r, "111"), [0, 2, 1]);
    }

    #[test]
    fn the_three_us_forms() {
        let r = routes(&[
            "{ext:XXX}",
            "{n:NXXNXXXXXX}",
            "1{n:NXXNXXXXXX}",
            "+1{n:NXXNXXXXXX}",
            "{n:NXXXXX.}",
            "1{n:X.}",
            "+{n:X.}",
            "999",
        ]);
        assert_eq!(lookup(&r, "2605550123"), [1, 4]);
        assert_eq!(lookup(&r, "12605550123"), [2, 5]);
        assert_eq!(lookup(&r, "+12605550123"), [3, 6]);
        // A leading 0 is no US area code: only the catch-all for `+`.
        assert_eq!(lookup(&r, "+10605550123"), [6]);
        // `1{n:X.}` takes any number that starts with 1, this one too.
        assert_eq!(lookup(&r, "101"), [0, 5]);
        assert_eq!(lookup(&r, "201"), [0]);
    }

    #[test]
    fn no_match() {
        let r = routes(&["{ext:XXX}", "999", "9{n:.}", "*77*{ext:XXX}*"]);
        assert_eq!(lookup(&r, ""), Vec::<usize>::new());
        assert_eq!(lookup(&r, "12"), Vec::<usize>::new());
        assert_eq!(lookup(&r, "9"), Vec::<usize>::new());
        assert_eq!(lookup(&r, "*77*101"), Vec::<usize>::new());
        assert_eq!(lookup(&r, "é99"), Vec::<usize>::new());
        assert_eq!(lookup(&[], "999"), Vec::<usize>::new());
    }

    #[test]
    fn prefix_buckets() {
        let r = routes(&[
            "9{n:!}",
            "91{n:X.}",
            "9011{n:X.}",
            "8XX",
            "81X",
            "811",
            "*77*{ext:XXX}*",
            "*77*5*",
        ]);
        let table = RouteTable::new(&r);
        assert_eq!(table.fixed[3].prefix_lens, [1, 2, 3]);
        assert_eq!(table.fixed[6].prefix_lens, [6]);
        assert_eq!(table.fixed[8].prefix_lens, [4]);
        assert_eq!(table.variable.prefix_lens, [1, 2, 4]);
        let mut out = Vec::new();
        let mut find = |number: &str| {
            table.lookup(&r, number, &mut out);
            out.clone()
        };
        // `9{n:!}` has one wildcard, so it is more specific than the other two.
        assert_eq!(find("9011442"), [0, 2]);
        assert_eq!(find("9123"), [0, 1]);
        assert_eq!(find("9"), [0]);
        assert_eq!(find("811"), [5, 4, 3]);
        assert_eq!(find("822"), [3]);
        assert_eq!(find("722"), Vec::<usize>::new());
        assert_eq!(find("*77*5*"), [7]);
        assert_eq!(find("*77*1*"), Vec::<usize>::new());
        assert_eq!(find("*77*123*"), [6]);
    }

    #[test]
    fn the_shipped_plan() {
        // The whole folder, so the test follows the plan as it grows.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialplans");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "dial"))
            .collect();
        files.sort();
        let mut sources = crate::Sources::new();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            sources.add(crate::SourceFile::new(path.display().to_string(), text));
        }
        let compiled = crate::compile(sources, &crate::PromptCatalog::unchecked());
        let plan = compiled.plan.expect("the shipped plan compiles");
        let mut out = Vec::new();
        let mut winner = |number: &str| {
            plan.route_table.lookup(&plan.routes, number, &mut out);
            assert_eq!(out, brute_force(&plan.routes, number), "{number}");
            out.first().map(|&i| plan.routes[i].route.pattern.clone())
        };
        let us = "{n:NXXNXXXXXX}";
        assert_eq!(winner("2605550123").unwrap(), us);
        assert_eq!(winner("12605550123").unwrap(), format!("1{us}"));
        assert_eq!(winner("+12605550123").unwrap(), format!("+1{us}"));
        assert_eq!(winner("999").unwrap(), "999");
        assert_eq!(winner("101").unwrap(), "{ext:XXX}");
        assert_eq!(winner("*77*5*").unwrap(), "*77*5*");
        assert_eq!(winner("*77*105*").unwrap(), "*77*{ext:XXX}*");
        assert_eq!(winner("SP2").unwrap(), "SP{slot:[12]}");
        for number in [
            "", "#", "0", "01144", "1", "+", "*4101", "*62", "SP3", "2605",
        ] {
            winner(number);
        }
    }

    /// Patterns over a few characters, so random numbers often match several at once.
    fn pattern_text() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "1", "2", "9", "*", "X", "Z", "N", "[1-2]", "[*9]", ".", "!",
        ]);
        prop::collection::vec(piece, 1..6).prop_map(|p| p.concat())
    }

    fn number() -> impl Strategy<Value = String> {
        let c = prop::sample::select(vec!["0", "1", "2", "9", "*", "#", "A", "é"]);
        prop::collection::vec(c, 0..8).prop_map(|c| c.concat())
    }

    proptest! {
        #[test]
        fn lookup_is_filter_then_sort(
            patterns in prop::collection::vec((pattern_text(), any::<bool>()), 0..24),
            numbers in prop::collection::vec(number(), 1..16),
            picks in prop::collection::vec((any::<prop::sample::Index>(), any::<u64>()), 8),
        ) {
            let r: Vec<Route> = patterns.iter().map(|(p, when)| route(p, *when)).collect();
            let table = RouteTable::new(&r);
            let mut out = Vec::new();
            // Random numbers rarely reach the longer patterns, so some numbers are drawn
            // from the patterns themselves.
            let drawn = picks.iter().filter(|_| !r.is_empty()).map(|(i, seed)| {
                sample(&r[i.index(r.len())].pattern, *seed)
            });
            for n in numbers.iter().cloned().chain(drawn) {
                table.lookup(&r, &n, &mut out);
                prop_assert_eq!(&out, &brute_force(&r, &n), "number {:?}", n);
            }
        }
    }

    /// A number that `pattern` matches, picked by `seed`.
    fn sample(pattern: &Pattern, mut seed: u64) -> String {
        let mut next = |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        let mut n = String::new();
        for e in &pattern.elems {
            let (Elem::One(s) | Elem::Star(s)) = *e;
            let chars: Vec<u8> = (b'#'..=b'9').filter(|&c| s.contains(c)).collect();
            let times = if matches!(e, Elem::One(_)) {
                1
            } else {
                next(3)
            };
            for _ in 0..times {
                n.push(chars[next(chars.len())] as char);
            }
        }
        n
    }
}
