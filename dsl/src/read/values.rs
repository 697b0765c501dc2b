//! Values: numbers, durations, variables, back-quoted code, script calls, and text with
//! `{vars}` split out.

use super::reader::Reader;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::Rule;
use pest::iterators::Pair;
use std::time::Duration;

/// The text between a string's quotes, escapes untouched.
pub fn string_contents<'a>(pair: &Pair<'a, Rule>) -> &'a str {
    let s = pair.as_str();
    &s[1..s.len() - 1]
}

/// A string literal as a value, with `{var}` parts split out.
pub fn unquote(r: &mut Reader<'_>, pair: &Pair<'_, Rule>) -> Value {
    let span = r.span(pair);
    let raw = string_contents(pair);
    let body_start = span.start as usize + 1;
    Value {
        kind: ValueKind::Text(split_template(r, raw, body_start)),
        span,
    }
}

fn split_template(r: &mut Reader<'_>, raw: &str, body_start: usize) -> Vec<TextPart> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => lit.push('\n'),
                Some((_, 't')) => lit.push('\t'),
                Some((_, other)) => lit.push(other),
                None => {}
            },
            '{' => {
                let rest = &raw[i + 1..];
                let Some(close) = rest.find('}') else {
                    r.error(
                        Diagnostic::error(
                            "bad-string",
                            Span::new(r.file, body_start + i, body_start + i + 1),
                            "`{` in a string starts a variable but is never closed",
                        )
                        .label("unclosed `{`")
                        .help("write `{name}`, or `\\{` for a literal brace"),
                    );
                    lit.push_str(&raw[i..]);
                    break;
                };
                let name = &rest[..close];
                if !lit.is_empty() {
                    parts.push(TextPart::Lit(std::mem::take(&mut lit)));
                }
                parts.push(TextPart::Var(name.trim().to_string()));
                for _ in 0..name.chars().count() + 1 {
                    chars.next();
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(TextPart::Lit(lit));
    }
    parts
}

pub fn read_value(r: &mut Reader<'_>, pair: Pair<'_, Rule>) -> Value {
    let pair = if pair.as_rule() == Rule::value {
        pair.into_inner().next().unwrap()
    } else {
        pair
    };
    let span = r.span(&pair);
    let kind = match pair.as_rule() {
        Rule::number => ValueKind::Number(pair.as_str().to_string()),
        Rule::duration => ValueKind::Duration(parse_duration(pair.as_str())),
        Rule::string => return unquote(r, &pair),
        Rule::script_expr => {
            ValueKind::Script(pair.into_inner().next().unwrap().as_str().to_string())
        }
        Rule::script_call => {
            let mut inner = pair.into_inner();
            let name = r.ident(&inner.next().unwrap());
            let args = inner.map(|a| read_value(r, a)).collect();
            ValueKind::Call { name, args }
        }
        _ => ValueKind::Var(pair.as_str().split('.').map(str::to_string).collect()),
    };
    Value { kind, span }
}

/// A duration the grammar has already read as digits and a unit; one too long to hold
/// counts as forever.
pub fn parse_duration(s: &str) -> Duration {
    crate::duration::parse(s).unwrap_or(Duration::MAX)
}
