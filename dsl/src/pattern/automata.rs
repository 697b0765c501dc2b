//! Patterns as automata over their element lists (state i means "before element i"): the
//! exact overlap and coverage decisions between patterns.

use super::{CharSet, Elem, Pattern};

type States = u128;

/// Adds the states reachable through stars (which may match nothing).
fn closure(elems: &[Elem], mut states: States) -> States {
    for (i, e) in elems.iter().enumerate() {
        if states & (1 << i) != 0 && matches!(e, Elem::Star(_)) {
            states |= 1 << (i + 1);
        }
    }
    states
}

fn step(elems: &[Elem], states: States, c: u8) -> States {
    let mut next = 0;
    for (i, e) in elems.iter().enumerate() {
        if states & (1 << i) == 0 {
            continue;
        }
        match e {
            Elem::One(s) if s.contains(c) => next |= 1 << (i + 1),
            Elem::Star(s) if s.contains(c) => next |= 1 << i,
            _ => {}
        }
    }
    closure(elems, next)
}

fn accepts(elems: &[Elem], states: States) -> bool {
    states & (1 << elems.len()) != 0
}

/// Characters that behave differently somewhere in either pattern, one per class: the
/// lowest character of each class, in ascending order.
fn alphabet(a: &[Elem], b: &[Elem]) -> Vec<u8> {
    // Split the dialable characters by membership in each set, as bit masks: no hashing
    // and no allocation per character, which matters when thousands of routes meet.
    let mut classes = vec![CharSet::any().0];
    for e in a.iter().chain(b) {
        let (Elem::One(s) | Elem::Star(s)) = e;
        if classes.iter().all(|&c| c & s.0 == 0 || c & !s.0 == 0) {
            continue;
        }
        classes = classes
            .iter()
            .flat_map(|&c| [c & s.0, c & !s.0])
            .filter(|&c| c != 0)
            .collect();
    }
    let mut letters: Vec<u8> = classes.iter().map(|c| c.trailing_zeros() as u8).collect();
    letters.sort_unstable();
    letters
}

/// Cheap necessary conditions for two patterns to share a number, checked before the
/// exact search: a number matching a fixed-length pattern is as long as it, a number
/// matching a pattern is at least as long as its `One` elements, and before the first
/// star (after the last one) both patterns match character by character.
pub(super) fn may_overlap(a: &[Elem], b: &[Elem]) -> bool {
    let ones = |e: &[Elem]| e.iter().filter(|x| matches!(x, Elem::One(_))).count();
    let fixed = |e: &[Elem]| e.iter().all(|x| matches!(x, Elem::One(_)));
    if (fixed(a) && a.len() < ones(b)) || (fixed(b) && b.len() < ones(a)) {
        return false;
    }
    let disjoint = |(x, y): (&Elem, &Elem)| match (x, y) {
        (Elem::One(p), Elem::One(q)) => Some(!p.intersects(*q)),
        _ => None,
    };
    let head = a.iter().zip(b).map_while(disjoint).any(|d| d);
    let tail = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .map_while(disjoint)
        .any(|d| d);
    !(head || tail)
}

/// Explores pairs of state sets; `done` decides from a reachable pair whether to stop.
fn explore(a: &[Elem], b: &[Elem], done: impl Fn(States, States) -> bool) -> bool {
    let letters = alphabet(a, b);
    let start = (closure(a, 1), closure(b, 1));
    let mut seen = std::collections::HashSet::from([start]);
    let mut todo = vec![start];
    while let Some((sa, sb)) = todo.pop() {
        if done(sa, sb) {
            return true;
        }
        for &c in &letters {
            let next = (step(a, sa, c), step(b, sb, c));
            if next.1 != 0 && seen.insert(next) {
                todo.push(next);
            }
        }
    }
    false
}

/// Whether `b` is inside the union of `others`: no number reaches acceptance in `b`
/// while every one of `others` rejects it.
pub(super) fn covered_by_union(b: &[Elem], others: &[&Pattern]) -> bool {
    let all: Vec<Elem> = others
        .iter()
        .flat_map(|p| p.elems.iter().copied())
        .collect();
    let letters = alphabet(b, &all);
    let start: (States, Vec<States>) = (
        closure(b, 1),
        others.iter().map(|p| closure(&p.elems, 1)).collect(),
    );
    let mut seen = std::collections::HashSet::from([start.clone()]);
    let mut todo = vec![start];
    while let Some((sb, sa)) = todo.pop() {
        if accepts(b, sb) && others.iter().zip(&sa).all(|(p, &s)| !accepts(&p.elems, s)) {
            return false;
        }
        for &c in &letters {
            let nb = step(b, sb, c);
            if nb == 0 {
                continue;
            }
            let na: Vec<States> = others
                .iter()
                .zip(&sa)
                .map(|(p, &s)| step(&p.elems, s, c))
                .collect();
            if seen.insert((nb, na.clone())) {
                todo.push((nb, na));
            }
        }
    }
    true
}

pub(super) fn intersect(a: &[Elem], b: &[Elem]) -> bool {
    explore(a, b, |sa, sb| sa != 0 && accepts(a, sa) && accepts(b, sb))
}

pub(super) fn covers(a: &[Elem], b: &[Elem]) -> bool {
    // `a` covers `b` unless some number reaches acceptance in `b` but not in `a`.
    !explore(a, b, |sa, sb| accepts(b, sb) && !accepts(a, sa))
}
