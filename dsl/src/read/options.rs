//! Item options: the `{ key value... [-> action] }` lines of extensions, queues, devices,
//! trunks and parks, and the checks on their values.

use super::blocks::read_action;
use super::reader::Reader;
use super::values::{read_value, string_contents};
use super::words::StepContext;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::Rule;
use pest::iterators::Pair;
use std::time::Duration;

/// The strategies the language names, in the order the manual lists them.
const STRATEGIES: &[(&str, Strategy)] = &[
    ("ring_all", Strategy::RingAll),
    ("hunt", Strategy::Hunt),
    ("round_robin", Strategy::RoundRobin),
    ("longest_idle", Strategy::LongestIdle),
    ("fewest_calls", Strategy::FewestCalls),
];

/// A trunk's `transport`: `udp` (the default, either transport) or `tcp`.
pub fn trunk_transport(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Option<bool> {
    let v = one_arg(r, key, args, "udp or tcp")?;
    let word = match &v.kind {
        ValueKind::Var(p) if p.len() == 1 => p[0].clone(),
        _ => v.literal().unwrap_or_default(),
    };
    match word.as_str() {
        "udp" => Some(false),
        "tcp" => Some(true),
        _ => {
            r.error(Diagnostic::not_one_of(
                v.span,
                &word,
                "trunk transport",
                ["udp", "tcp"].into_iter(),
            ));
            None
        }
    }
}

/// A queue's `strategy`; a word that is none of them gets a did-you-mean.
pub fn strategy(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Strategy {
    let Some(v) = one_arg(r, key, args, "a strategy") else {
        return Strategy::RingAll;
    };
    let word = match &v.kind {
        ValueKind::Var(p) if p.len() == 1 => p[0].clone(),
        _ => v.literal().unwrap_or_default(),
    };
    match STRATEGIES.iter().find(|(name, _)| *name == word) {
        Some((_, s)) => *s,
        None => {
            r.error(Diagnostic::not_one_of(
                v.span,
                &word,
                "queue strategy",
                STRATEGIES.iter().map(|s| s.0),
            ));
            Strategy::RingAll
        }
    }
}

pub fn options_of<'a>(pairs: impl Iterator<Item = Pair<'a, Rule>>) -> Vec<Pair<'a, Rule>> {
    pairs
        .filter(|p| p.as_rule() == Rule::option_block)
        .flat_map(|b| b.into_inner().filter(|o| o.as_rule() == Rule::option))
        .collect()
}

/// The optional display name and the options of an extension or queue.
pub fn name_and_options<'a>(
    r: &mut Reader<'_>,
    pairs: pest::iterators::Pairs<'a, Rule>,
) -> (Option<String>, Option<Span>, Vec<Pair<'a, Rule>>) {
    let mut name = None;
    let mut name_span = None;
    let mut opts = Vec::new();
    for p in pairs {
        match p.as_rule() {
            Rule::string => {
                name_span = Some(r.span(&p));
                name = Some(string_contents(&p).to_string());
            }
            Rule::option_block => {
                opts.extend(p.into_inner().filter(|o| o.as_rule() == Rule::option))
            }
            _ => {}
        }
    }
    (name, name_span, opts)
}

const EXTENSION_OPTIONS: &[&str] = &[
    "voicemail",
    "hot_desk",
    "email",
    "language",
    "pin",
    "ring",
    "no_answer",
    "allow",
];

pub fn extension_options(r: &mut Reader<'_>, opts: Vec<Pair<'_, Rule>>) -> ExtensionOptions {
    let mut o = ExtensionOptions::default();
    for opt in opts {
        let (key, args, action) = option_parts(r, opt);
        match key.name.as_str() {
            "voicemail" => o.voicemail = no_args(r, &key, &args),
            "hot_desk" => o.hot_desk = no_args(r, &key, &args),
            "email" => {
                o.email = one_text(r, &key, &args);
                r.error(Diagnostic::not_supported(
                    key.span,
                    "`email` is not supported yet".to_string(),
                    Some("voicemail by email"),
                    "remove the line; messages are kept in the mailbox, where the owner \
                     hears them by phone",
                ));
            }
            "language" => {
                o.language = one_text(r, &key, &args).map(|name| Ident {
                    name,
                    span: args[0].span,
                })
            }
            "pin" => {
                o.pin = one_text(r, &key, &args);
                o.pin_span = args.first().map(|a| a.span);
                // Digits in clear, or the salted digest `switchboard user set-pin --print`
                // writes.
                let bad = |p: &String| {
                    let digits =
                        (4..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
                    !digits && !crate::ast::is_pin_digest(p)
                };
                if o.pin.as_ref().is_some_and(bad) {
                    r.error(
                        Diagnostic::error(
                            "bad-pin",
                            args[0].span,
                            "a PIN is 4 to 8 digits, or a digest `sha256$…$…`",
                        )
                        .label("not a PIN")
                        .help(
                            "write the digest `echo 4321 | switchboard user set-pin EXT --print` \
                             prints, or digits in quotes, like pin \"4321\"",
                        ),
                    );
                }
            }
            "ring" => o.ring = one_duration(r, &key, &args),
            "no_answer" => o.no_answer = action_or_missing(r, &key, &args, action),
            "allow" => o.allow = toll_allow(r, &key, &args),
            _ => unknown_option(r, &key, "extension", EXTENSION_OPTIONS),
        }
    }
    o
}

/// The costly numbers `allow` lets through, on an extension or a trunk.
const TOLL_CLASSES: &[&str] = &["international", "premium"];

/// `allow international`, `allow premium` or both: which toll-fraud refusals are lifted.
pub fn toll_allow(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> TollAllow {
    let mut allow = TollAllow::default();
    if args.is_empty() {
        r.error(
            Diagnostic::error(
                "bad-option",
                key.span,
                "`allow` needs what it allows: international, premium or both",
            )
            .label("allow what")
            .help("write `allow international`, `allow premium` or `allow international, premium`"),
        );
    }
    for v in args {
        let word = match &v.kind {
            ValueKind::Var(p) if p.len() == 1 => p[0].clone(),
            _ => v.literal().unwrap_or_default(),
        };
        match word.as_str() {
            "international" => allow.international = true,
            "premium" => allow.premium = true,
            _ => r.error(Diagnostic::not_one_of(
                v.span,
                &word,
                "kind of number to allow",
                TOLL_CLASSES.iter().copied(),
            )),
        }
    }
    allow
}

/// An option's name, its values and the action after `->`, if any.
pub fn option_parts(
    r: &mut Reader<'_>,
    opt: Pair<'_, Rule>,
) -> (Ident, Vec<Value>, Option<Action>) {
    let mut inner = opt.into_inner();
    let key = r.ident(&inner.next().unwrap());
    let mut args = Vec::new();
    let mut action = None;
    for p in inner {
        match p.as_rule() {
            Rule::value_list => args = p.into_inner().map(|v| read_value(r, v)).collect(),
            Rule::action => action = Some(read_action(r, p, StepContext::Flow)),
            _ => {}
        }
    }
    (key, args, action)
}

pub fn unknown_option(r: &mut Reader<'_>, key: &Ident, what: &str, known: &[&str]) {
    let help = match crate::suggest::did_you_mean(&key.name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.is_empty() => format!("a {what} takes no options"),
        None => format!("a {what} takes: {}", known.join(", ")),
    };
    r.error(
        Diagnostic::error(
            "unknown-option",
            key.span,
            format!("unknown {what} option `{}`", key.name),
        )
        .label("not an option here")
        .help(help),
    );
}

pub fn no_args(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> bool {
    if let Some(a) = args.first() {
        r.error(
            Diagnostic::error(
                "bad-option",
                a.span,
                format!("`{}` takes no value", key.name),
            )
            .label("unexpected value")
            .help(format!("write just `{}`", key.name)),
        );
    }
    true
}

pub fn one_arg<'v>(
    r: &mut Reader<'_>,
    key: &Ident,
    args: &'v [Value],
    what: &str,
) -> Option<&'v Value> {
    match args {
        [one] => Some(one),
        _ => {
            r.error(
                Diagnostic::error(
                    "bad-option",
                    key.span,
                    format!("`{}` takes one value: {what}", key.name),
                )
                .label(format!("needs {what}")),
            );
            None
        }
    }
}

pub fn one_text(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Option<String> {
    let v = one_arg(r, key, args, "a quoted string")?;
    match v.literal() {
        Some(s) => Some(s),
        None => {
            r.error(
                Diagnostic::error("bad-option", v.span, "expected a plain quoted string")
                    .label("not a plain string"),
            );
            None
        }
    }
}

pub fn one_duration(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Option<Duration> {
    let v = one_arg(r, key, args, "a duration like `20s`")?;
    match &v.kind {
        ValueKind::Duration(d) => Some(*d),
        ValueKind::Number(n) => {
            r.error(Diagnostic::no_unit(n, v.span, "bad-option"));
            None
        }
        _ => {
            r.error(
                Diagnostic::error("bad-option", v.span, "expected a duration")
                    .label("not a duration")
                    .help(crate::diagnostic::DURATION_UNITS),
            );
            None
        }
    }
}

/// `then` and `no_answer` lead somewhere, so they need `->`. Written without it (`then
/// hangup`), the words after the option were read as its values: the help puts them
/// behind the arrow.
pub fn action_or_missing(
    r: &mut Reader<'_>,
    key: &Ident,
    args: &[Value],
    action: Option<Action>,
) -> Option<Action> {
    if action.is_none() {
        let written: Option<Vec<String>> = args
            .iter()
            .map(|v| match &v.kind {
                ValueKind::Var(path) => Some(path.join(".")),
                ValueKind::Number(n) => Some(n.clone()),
                ValueKind::Text(_) => v.literal().map(|t| format!("{t:?}")),
                _ => None,
            })
            .collect();
        let example = match written {
            Some(words) if !words.is_empty() => words.join(" "),
            _ => "voicemail 101".to_string(),
        };
        let (label, help) = if args.is_empty() {
            (
                "missing `->`",
                format!("for example `{} -> {example}`", key.name),
            )
        } else {
            (
                "`->` goes after this",
                format!("write it as: {} -> {example}", key.name),
            )
        };
        r.error(
            Diagnostic::error(
                "bad-option",
                key.span,
                format!("`{}` needs `->` and what happens next", key.name),
            )
            .label(label)
            .help(help),
        );
    }
    action
}
