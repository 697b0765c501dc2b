//! Dialled-number patterns: Asterisk's letters plus named captures.
//!
//! `X` is 0-9, `Z` 1-9, `N` 2-9, `[1-5]` a set, `.` one or more of anything, `!` zero or
//! more; `{name:PATTERN}` captures what its part matched. Every other character is itself.
//! Patterns are regular languages over a small alphabet, so overlap ("can one number match
//! both?") and shadowing ("is every number of B also a number of A?") are decided exactly
//! (`automata`).

mod automata;

use automata::{covered_by_union, covers, intersect, may_overlap};
use std::cmp::Ordering;

/// A set of characters, as a bit per ASCII code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CharSet(u128);

impl CharSet {
    pub const EMPTY: CharSet = CharSet(0);

    pub fn one(c: u8) -> CharSet {
        CharSet(1u128 << (c & 127))
    }

    pub fn range(lo: u8, hi: u8) -> CharSet {
        (lo..=hi).fold(CharSet::EMPTY, |s, c| s.union(CharSet::one(c)))
    }

    /// Everything a phone or a trunk can send in a dialled number.
    pub fn any() -> CharSet {
        CharSet::range(b'0', b'9')
            .union(CharSet::one(b'*'))
            .union(CharSet::one(b'#'))
            .union(CharSet::one(b'+'))
            .union(CharSet::range(b'A', b'Z'))
            .union(CharSet::range(b'a', b'z'))
    }

    pub fn union(self, o: CharSet) -> CharSet {
        CharSet(self.0 | o.0)
    }

    pub fn intersects(self, o: CharSet) -> bool {
        self.0 & o.0 != 0
    }

    pub fn contains(self, c: u8) -> bool {
        c < 128 && self.0 & (1u128 << c) != 0
    }

    pub fn is_single(self) -> bool {
        self.0.count_ones() == 1
    }

    fn chars(self) -> impl Iterator<Item = u8> {
        (0u8..128).filter(move |&c| self.contains(c))
    }
}

/// One position of a compiled pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// Exactly one character from the set.
    One(CharSet),
    /// Zero or more characters from the set.
    Star(CharSet),
}

/// A named capture: the elements `start..end` of the pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub elems: Vec<Elem>,
    pub captures: Vec<Capture>,
    /// How specific the pattern is; the most specific matching route wins.
    pub rank: Rank,
}

/// Compared so that the more specific pattern is `Less`: fixed length before variable
/// length, then fewer wildcards, then a longer literal prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rank {
    pub variable_length: bool,
    pub wildcards: u32,
    pub literal_prefix: u32,
}

impl Ord for Rank {
    fn cmp(&self, o: &Rank) -> Ordering {
        (self.variable_length, self.wildcards)
            .cmp(&(o.variable_length, o.wildcards))
            .then(o.literal_prefix.cmp(&self.literal_prefix))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, o: &Rank) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A mistake in a pattern, at a byte offset into the pattern text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub at: usize,
    pub len: usize,
    pub message: String,
    pub help: String,
}

/// Longest pattern accepted; a US number with prefixes is under 20.
pub const MAX_PATTERN: usize = 64;

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let bytes = text.as_bytes();
        let mut elems = Vec::new();
        let mut captures = Vec::new();
        let mut open: Option<(String, usize, usize)> = None;
        let mut dots = 0;
        let mut i = 0;
        let err = |at: usize, len: usize, message: &str, help: &str| PatternError {
            at,
            len,
            message: message.to_string(),
            help: help.to_string(),
        };
        if text.is_empty() {
            return Err(err(
                0,
                0,
                "a pattern cannot be empty",
                "write the digits to match, like \"999\"",
            ));
        }
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'X' => elems.push(Elem::One(CharSet::range(b'0', b'9'))),
                b'Z' => elems.push(Elem::One(CharSet::range(b'1', b'9'))),
                b'N' => elems.push(Elem::One(CharSet::range(b'2', b'9'))),
                b'.' => {
                    dots += 1;
                    elems.push(Elem::One(CharSet::any()));
                    elems.push(Elem::Star(CharSet::any()));
                }
                b'!' => elems.push(Elem::Star(CharSet::any())),
                b'[' => {
                    let Some(close) = text[i..].find(']') else {
                        return Err(err(
                            i,
                            1,
                            "`[` is never closed",
                            "close the set with `]`, like [1-5]",
                        ));
                    };
                    let set = parse_set(&bytes[i + 1..i + close]).ok_or_else(|| {
                        err(
                            i,
                            close + 1,
                            "this is not a set of digits",
                            "write a set like [1-5] or [12*]",
                        )
                    })?;
                    elems.push(Elem::One(set));
                    i += close;
                }
                b'{' => {
                    if open.is_some() {
                        return Err(err(
                            i,
                            1,
                            "captures cannot be nested",
                            "close the first capture with `}` before opening another",
                        ));
                    }
                    let Some(colon) = text[i..].find(':') else {
                        return Err(err(
                            i,
                            1,
                            "a capture needs a name and a pattern",
                            "write it as {name:XXX}",
                        ));
                    };
                    let name = &text[i + 1..i + colon];
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || name.starts_with(|c: char| c.is_ascii_digit())
                    {
                        return Err(err(
                            i + 1,
                            colon.max(2) - 1,
                            "a capture needs a name made of letters, digits and _",
                            "write it as {name:XXX}",
                        ));
                    }
                    open = Some((name.to_string(), elems.len(), i));
                    i += colon;
                }
                b'}' => {
                    let Some((name, start, _)) = open.take() else {
                        return Err(err(
                            i,
                            1,
                            "`}` without a `{`",
                            "remove it, or open the capture with {name:",
                        ));
                    };
                    if start == elems.len() {
                        return Err(err(
                            i,
                            1,
                            "this capture matches nothing",
                            "put a pattern between `:` and `}`",
                        ));
                    }
                    captures.push(Capture {
                        name,
                        start,
                        end: elems.len(),
                    });
                }
                // A lowercase `x` is almost always meant as the wildcard, and as a literal
                // letter it would match nothing a phone dials: refused, with the fix.
                c if c.is_ascii_lowercase() => {
                    let upper = c.to_ascii_uppercase() as char;
                    let help = match upper {
                        'X' => "for any digit 0-9 write `X` (pattern letters are capitals)".into(),
                        'Z' => "for any digit 1-9 write `Z` (pattern letters are capitals)".into(),
                        'N' => "for any digit 2-9 write `N` (pattern letters are capitals)".into(),
                        _ => format!("pattern letters are capitals: write `{upper}`"),
                    };
                    return Err(err(i, 1, "a lowercase letter in a pattern", &help));
                }
                c if c.is_ascii_alphanumeric() || c == b'*' || c == b'#' || c == b'+' => {
                    elems.push(Elem::One(CharSet::one(c)))
                }
                _ => {
                    let len = text[i..].chars().next().map_or(1, char::len_utf8);
                    return Err(err(
                        i,
                        len,
                        "this character cannot be dialled",
                        "a pattern holds digits, * # +, letters, X Z N [..] . ! and {name:...}",
                    ));
                }
            }
            i += 1;
        }
        if let Some((_, _, at)) = open {
            return Err(err(
                at,
                1,
                "this capture is never closed",
                "close it with `}`",
            ));
        }
        if elems.len() > MAX_PATTERN {
            return Err(err(
                0,
                text.len(),
                "this pattern is too long",
                "a pattern matches at most 64 characters",
            ));
        }
        let mut rank = rank_of(&elems);
        // `.` is one wildcard to the admin, though it compiles to "one, then any more".
        rank.wildcards -= dots;
        Ok(Pattern {
            elems,
            captures,
            rank,
        })
    }

    /// The number this pattern matches if it matches exactly one (a feature code, say).
    pub fn literal(&self) -> Option<String> {
        self.elems
            .iter()
            .map(|e| match e {
                Elem::One(s) if s.is_single() => s.chars().next().map(char::from),
                _ => None,
            })
            .collect()
    }

    /// Every text the capture `name` can take, if there are at most `limit` of them (a
    /// capture of fixed length); `None` for an unknown name, a `.` or `!` inside, or more.
    pub fn capture_values(&self, name: &str, limit: usize) -> Option<Vec<String>> {
        let capture = self.captures.iter().find(|c| c.name == name)?;
        let mut values = vec![String::new()];
        for elem in &self.elems[capture.start..capture.end] {
            let Elem::One(set) = elem else {
                return None;
            };
            let chars: Vec<u8> = set.chars().collect();
            if values.len().checked_mul(chars.len())? > limit {
                return None;
            }
            values = values
                .iter()
                .flat_map(|v| chars.iter().map(move |&c| format!("{v}{}", c as char)))
                .collect();
        }
        Some(values)
    }

    /// The characters every matching number starts with: the leading single characters.
    pub fn literal_prefix(&self) -> String {
        self.elems
            .iter()
            .map_while(|e| match e {
                Elem::One(s) if s.is_single() => s.chars().next().map(char::from),
                _ => None,
            })
            .collect()
    }

    fn fixed_len(&self) -> Option<usize> {
        if self.rank.variable_length {
            None
        } else {
            Some(self.elems.len())
        }
    }

    /// Whether `number` matches, and what each capture took.
    pub fn matches<'n>(&self, number: &'n str) -> Option<Vec<(&str, &'n str)>> {
        let n = number.as_bytes();
        if let Some(len) = self.fixed_len() {
            if n.len() != len {
                return None;
            }
            for (e, &c) in self.elems.iter().zip(n) {
                let Elem::One(s) = e else { return None };
                if !s.contains(c) {
                    return None;
                }
            }
            let caps = self
                .captures
                .iter()
                .map(|cap| (cap.name.as_str(), &number[cap.start..cap.end]))
                .collect();
            return Some(caps);
        }
        // Variable length: find where each element starts, backtracking over stars.
        let mut starts = vec![0usize; self.elems.len() + 1];
        if !match_from(&self.elems, n, 0, 0, &mut starts) {
            return None;
        }
        Some(
            self.captures
                .iter()
                .map(|cap| {
                    (
                        cap.name.as_str(),
                        &number[starts[cap.start]..starts[cap.end]],
                    )
                })
                .collect(),
        )
    }

    /// Whether some number matches both patterns.
    pub fn overlaps(&self, other: &Pattern) -> bool {
        if let (Some(a), Some(b)) = (self.fixed_len(), other.fixed_len()) {
            return a == b
                && self
                    .elems
                    .iter()
                    .zip(&other.elems)
                    .all(|(x, y)| match (x, y) {
                        (Elem::One(p), Elem::One(q)) => p.intersects(*q),
                        _ => false,
                    });
        }
        may_overlap(&self.elems, &other.elems) && intersect(&self.elems, &other.elems)
    }

    /// Whether every number matching `self` also matches one of `others`.
    pub fn covered_by(&self, others: &[&Pattern]) -> bool {
        match others {
            [] => false,
            [one] => one.covers(self),
            _ => covered_by_union(&self.elems, others),
        }
    }

    /// Whether every number matching `other` also matches `self`.
    pub fn covers(&self, other: &Pattern) -> bool {
        if let (Some(a), Some(b)) = (self.fixed_len(), other.fixed_len()) {
            return a == b
                && self
                    .elems
                    .iter()
                    .zip(&other.elems)
                    .all(|(x, y)| match (x, y) {
                        (Elem::One(p), Elem::One(q)) => p.0 & q.0 == q.0,
                        _ => false,
                    });
        }
        covers(&self.elems, &other.elems)
    }
}

fn match_from(elems: &[Elem], n: &[u8], ei: usize, ni: usize, starts: &mut [usize]) -> bool {
    starts[ei] = ni;
    match elems.get(ei) {
        None => ni == n.len(),
        Some(Elem::One(s)) => {
            ni < n.len() && s.contains(n[ni]) && match_from(elems, n, ei + 1, ni + 1, starts)
        }
        Some(Elem::Star(s)) => {
            // Greedy would also do; shortest-first keeps captures before a star tight.
            let mut k = ni;
            loop {
                if match_from(elems, n, ei + 1, k, starts) {
                    starts[ei] = ni;
                    return true;
                }
                if k < n.len() && s.contains(n[k]) {
                    k += 1;
                } else {
                    return false;
                }
            }
        }
    }
}

fn rank_of(elems: &[Elem]) -> Rank {
    let mut wildcards = 0;
    let mut literal_prefix = 0;
    let mut in_prefix = true;
    let mut variable_length = false;
    for e in elems {
        match e {
            Elem::One(s) if s.is_single() => {
                if in_prefix {
                    literal_prefix += 1
                }
            }
            Elem::One(_) => {
                wildcards += 1;
                in_prefix = false;
            }
            Elem::Star(_) => {
                wildcards += 1;
                variable_length = true;
                in_prefix = false;
            }
        }
    }
    Rank {
        variable_length,
        wildcards,
        literal_prefix,
    }
}

fn parse_set(inner: &[u8]) -> Option<CharSet> {
    let mut set = CharSet::EMPTY;
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if !(c.is_ascii_alphanumeric() || c == b'*' || c == b'#' || c == b'+') {
            return None;
        }
        if i + 2 < inner.len() && inner[i + 1] == b'-' {
            let hi = inner[i + 2];
            if hi < c {
                return None;
            }
            set = set.union(CharSet::range(c, hi));
            i += 3;
        } else {
            set = set.union(CharSet::one(c));
            i += 1;
        }
    }
    (set != CharSet::EMPTY).then_some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn matches_with_captures() {
        assert_eq!(p("{ext:XXX}").matches("101"), Some(vec![("ext", "101")]));
        assert_eq!(p("{ext:XXX}").matches("1011"), None);
        assert_eq!(
            p("+1{n:NXXNXXXXXX}").matches("+18884564566"),
            Some(vec![("n", "8884564566")])
        );
        assert_eq!(p("1{n:NXXNXXXXXX}").matches("10884564566"), None);
        assert_eq!(
            p("*77*{ext:XXX}*").matches("*77*101*"),
            Some(vec![("ext", "101")])
        );
        assert_eq!(p("SP{slot:[12]}").matches("SP2"), Some(vec![("slot", "2")]));
        assert_eq!(p("9{rest:.}").matches("9123"), Some(vec![("rest", "123")]));
        assert_eq!(p("9{rest:.}").matches("9"), None);
        assert_eq!(p("9!").matches("9"), Some(vec![]));
    }

    #[test]
    fn overlap_and_cover() {
        assert!(p("{a:XXX}").overlaps(&p("999")));
        assert!(p("XXX").covers(&p("999")));
        assert!(!p("999").covers(&p("XXX")));
        assert!(!p("*62").overlaps(&p("*63")));
        assert!(p("9.").overlaps(&p("9XX")));
        assert!(p("9.").covers(&p("9XX")));
        assert!(!p("9XX").covers(&p("9.")));
        assert!(p("!").covers(&p("9.")));
        assert!(!p("1.").overlaps(&p("2!")));
        assert!(p("[1-3]X").overlaps(&p("3[5-9]")));
        assert!(!p("[1-3]X").overlaps(&p("4X")));
    }

    #[test]
    fn rank_prefers_fewer_wildcards_then_longer_prefix() {
        assert!(p("999").rank < p("XXX").rank);
        assert!(p("9XX").rank < p("XX9").rank);
        assert!(p("XXXX").rank < p("X.").rank);
        assert!(p("9.").rank < p("!").rank);
        assert!(p("[12]X").covered_by(&[&p("1X"), &p("2X")]));
        assert!(!p("[123]X").covered_by(&[&p("1X"), &p("2X")]));
        assert_eq!(p("1XX").rank, p("2XX").rank);
    }

    #[test]
    fn errors_point_at_the_mistake() {
        let e = Pattern::parse("12[3").unwrap_err();
        assert_eq!(e.at, 2);
        let e = Pattern::parse("{ext:XXX").unwrap_err();
        assert_eq!(e.at, 0);
        assert!(Pattern::parse("12 3").is_err());
        assert_eq!(p("*62").literal().as_deref(), Some("*62"));
        assert_eq!(p("XX").literal(), None);
    }
}
