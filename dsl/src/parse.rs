//! Parse tree to syntax tree: each top-level item and its options.
//!
//! Steps are read in `steps.rs`; this file handles items, options, values and conditions.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use crate::steps::{StepContext, read_action, read_block};
use crate::syntax::{Piece, Rule, span_of};
use pest::iterators::Pair;
use std::time::Duration;

/// Reads pest pairs into the AST, reporting wrong words with their fix.
pub struct Reader<'d> {
    pub file: FileId,
    pub offset: usize,
    pub diags: &'d mut Vec<Diagnostic>,
    /// Variables that steps written wrong would have defined (`ask ... -> pin` with a bad
    /// word): added to `Ast::broken`, so their uses are not each reported as unknown.
    pub broken: Vec<String>,
}

impl Reader<'_> {
    pub fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        span_of(self.file, self.offset, pair)
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }
}

/// Adds the items of one parsed piece to `ast`.
pub fn read_piece(piece: Piece<'_>, file: FileId, ast: &mut Ast, diags: &mut Vec<Diagnostic>) {
    let mut r = Reader {
        file,
        offset: piece.offset,
        diags,
        broken: Vec::new(),
    };
    for item in piece.items {
        read_item(&mut r, item, ast);
    }
    ast.broken.extend(r.broken);
}

fn read_item(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    match item.as_rule() {
        Rule::settings => {
            for s in item.into_inner().filter(|p| p.as_rule() == Rule::setting) {
                let mut inner = s.into_inner();
                let key = r.ident(&inner.next().unwrap());
                let value = read_value(r, inner.next().unwrap());
                ast.settings.push(Setting { key, value });
            }
        }
        Rule::extension => {
            let mut inner = item.into_inner();
            let num = inner.next().unwrap();
            let number_span = r.span(&num);
            let (name, name_span, opts) = name_and_options(r, inner);
            let options = extension_options(r, opts);
            ast.extensions.push(Extension {
                number: num.as_str().to_string(),
                name,
                span,
                number_span,
                name_span,
                options,
            });
        }
        Rule::extension_range => {
            let mut inner = item.into_inner();
            let first = inner.next().unwrap();
            let last = inner.next().unwrap();
            let number_span = r.span(&first).to(r.span(&last));
            let (name, name_span, opts) = name_and_options(r, inner);
            let options = extension_options(r, opts);
            let (a, b) = (first.as_str(), last.as_str());
            let (Ok(lo), Ok(hi)) = (a.parse::<u64>(), b.parse::<u64>()) else {
                r.error(
                    Diagnostic::error("bad-range", number_span, "this range is too large")
                        .label("numbers too long"),
                );
                return;
            };
            if lo > hi || a.len() != b.len() || hi - lo >= 100_000 {
                r.error(
                    Diagnostic::error(
                        "bad-range",
                        number_span,
                        format!("`{a}..{b}` is not a usable range of extensions"),
                    )
                    .label("range")
                    .help(
                        "write the lower number first, both with the same number of digits, \
                         at most 100000 numbers",
                    ),
                );
                return;
            }
            for n in lo..=hi {
                let number = format!("{n:0width$}", width = a.len());
                let name = name.as_ref().map(|t| t.replace("{n}", &number));
                ast.extensions.push(Extension {
                    number,
                    name,
                    span,
                    number_span,
                    name_span,
                    options: options.clone(),
                });
            }
        }
        Rule::queue => {
            let mut inner = item.into_inner();
            let num = inner.next().unwrap();
            let number_span = r.span(&num);
            let (name, _, opts) = name_and_options(r, inner);
            let mut q = Queue {
                number: num.as_str().to_string(),
                name,
                span,
                number_span,
                agents: Vec::new(),
                managers: Vec::new(),
                strategy: Strategy::RingAll,
                ring: None,
                then: None,
            };
            for opt in opts {
                let (key, args, action) = option_parts(r, opt);
                match key.name.as_str() {
                    "agents" => q.agents = args,
                    "managers" => q.managers = args,
                    "strategy" => q.strategy = strategy(r, &key, &args),
                    "ring" => q.ring = one_duration(r, &key, &args),
                    "then" => q.then = action_or_missing(r, &key, &args, action),
                    _ => unknown_option(
                        r,
                        &key,
                        "queue",
                        &["agents", "managers", "strategy", "ring", "then"],
                    ),
                }
            }
            ast.queues.push(q);
        }
        Rule::park => {
            for p in item.into_inner() {
                match p.as_rule() {
                    Rule::orbit => ast.orbits.push(r.ident(&p)),
                    Rule::option_block => {
                        for opt in p.into_inner().filter(|o| o.as_rule() == Rule::option) {
                            let (key, _, _) = option_parts(r, opt);
                            unknown_option(r, &key, "park", &[]);
                        }
                    }
                    _ => {}
                }
            }
        }
        Rule::device => {
            let mut inner = item.into_inner().peekable();
            let mac = inner.next().unwrap();
            let mac_span = r.span(&mac);
            let mac = unquote(r, &mac).literal().unwrap_or_default();
            let mut model = None;
            if inner.peek().map(|p| p.as_rule()) == Some(Rule::string) {
                model = unquote(r, &inner.next().unwrap()).literal();
            }
            let mut hot_desk = false;
            for opt in options_of(inner) {
                let (key, _, _) = option_parts(r, opt);
                match key.name.as_str() {
                    "hot_desk" => hot_desk = true,
                    _ => unknown_option(r, &key, "device", &["hot_desk"]),
                }
            }
            ast.devices.push(Device {
                mac,
                mac_span,
                model,
                hot_desk,
                span,
            });
        }
        Rule::trunk => {
            let mut inner = item.into_inner();
            let name_pair = inner.next().unwrap();
            let name = Ident {
                name: unquote(r, &name_pair).literal().unwrap_or_default(),
                span: r.span(&name_pair),
            };
            let mut t = Trunk {
                name,
                host: None,
                numbers: Vec::new(),
                caller_id: None,
                span,
            };
            for opt in options_of(inner) {
                let (key, args, _) = option_parts(r, opt);
                match key.name.as_str() {
                    "host" => t.host = one_text(r, &key, &args),
                    "caller_id" => {
                        t.caller_id = one_text(r, &key, &args);
                        r.error(Diagnostic::not_supported(
                            key.span,
                            "a trunk's `caller_id` is not supported yet".to_string(),
                            Some("calls between people"),
                            "remove the line; outside callers see the number the carrier \
                             sends for the trunk",
                        ));
                    }
                    "numbers" => {
                        t.numbers = args.iter().filter_map(Value::literal).collect();
                    }
                    _ => unknown_option(r, &key, "trunk", &["host", "numbers", "caller_id"]),
                }
            }
            ast.trunks.push(t);
        }
        Rule::route => {
            let mut inner = item.into_inner();
            let pat = inner.next().unwrap();
            let pattern_span = r.span(&pat);
            let pattern = string_contents(&pat).to_string();
            let (condition, action) = condition_and_action(r, inner, StepContext::Flow);
            ast.routes.push(Route {
                pattern,
                pattern_span,
                condition,
                action,
                span,
            });
        }
        Rule::inbound => {
            let mut inner = item.into_inner().peekable();
            let t = inner.next().unwrap();
            let trunk = Ident {
                name: string_contents(&t).to_string(),
                span: r.span(&t),
            };
            let mut to = None;
            if inner.peek().map(|p| p.as_rule()) == Some(Rule::inbound_to) {
                let p = inner.next().unwrap().into_inner().next().unwrap();
                to = Some((string_contents(&p).to_string(), r.span(&p)));
            }
            let (condition, action) = condition_and_action(r, inner, StepContext::Flow);
            ast.inbound.push(Inbound {
                trunk,
                to,
                condition,
                action,
                span,
            });
        }
        Rule::chat => {
            if let Some(c) = crate::chat::read_chat(r, item, span) {
                ast.chats.push(c);
            }
        }
        Rule::flow => {
            let mut inner = item.into_inner();
            let name = r.ident(&inner.next().unwrap());
            let mut params = Vec::new();
            let mut body = Block::default();
            for p in inner {
                match p.as_rule() {
                    Rule::params => params = p.into_inner().map(|n| r.ident(&n)).collect(),
                    Rule::block => body = read_block(r, p, StepContext::Flow),
                    _ => {}
                }
            }
            ast.flows.push(Flow {
                name,
                params,
                body,
                span,
            });
        }
        Rule::script => {
            let mut inner = item.into_inner();
            let name = r.ident(&inner.next().unwrap());
            let mut params = Vec::new();
            let mut code = String::new();
            let mut code_span = span;
            for p in inner {
                match p.as_rule() {
                    Rule::params => params = p.into_inner().map(|n| r.ident(&n)).collect(),
                    Rule::script_body => {
                        let c = p.into_inner().next().unwrap();
                        code_span = r.span(&c);
                        code = c.as_str().to_string();
                    }
                    _ => {}
                }
            }
            ast.scripts.push(Script {
                name,
                params,
                code,
                code_span,
                span,
            });
        }
        Rule::test => {
            let mut inner = item.into_inner();
            let name = unquote(r, &inner.next().unwrap())
                .literal()
                .unwrap_or_default();
            let body = read_block(r, inner.next().unwrap(), StepContext::Test);
            ast.tests.push(Test { name, body, span });
        }
        _ => {}
    }
}

/// The strategies the language names, in the order the manual lists them.
const STRATEGIES: &[(&str, Strategy)] = &[
    ("ring_all", Strategy::RingAll),
    ("hunt", Strategy::Hunt),
    ("round_robin", Strategy::RoundRobin),
    ("longest_idle", Strategy::LongestIdle),
];

/// A queue's `strategy`. Every queue rings all its logged-in agents at once today, so
/// `ring_all` is the only one the engine carries out; the others are refused until calls
/// between people bring them, rather than accepted and silently rung as `ring_all`.
fn strategy(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Strategy {
    let Some(v) = one_arg(r, key, args, "a strategy") else {
        return Strategy::RingAll;
    };
    let word = match &v.kind {
        ValueKind::Var(p) if p.len() == 1 => p[0].clone(),
        _ => v.literal().unwrap_or_default(),
    };
    match STRATEGIES.iter().find(|(name, _)| *name == word) {
        Some((_, Strategy::RingAll)) => Strategy::RingAll,
        Some((name, _)) => {
            r.error(Diagnostic::not_supported(
                v.span,
                format!("queue strategy `{name}` is not supported yet"),
                Some("calls between people"),
                "every queue rings all its logged-in agents at once for now; remove the line \
                 or write `strategy ring_all`",
            ));
            Strategy::RingAll
        }
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

fn options_of<'a>(pairs: impl Iterator<Item = Pair<'a, Rule>>) -> Vec<Pair<'a, Rule>> {
    pairs
        .filter(|p| p.as_rule() == Rule::option_block)
        .flat_map(|b| b.into_inner().filter(|o| o.as_rule() == Rule::option))
        .collect()
}

/// The optional display name and the options of an extension or queue.
fn name_and_options<'a>(
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
];

fn extension_options(r: &mut Reader<'_>, opts: Vec<Pair<'_, Rule>>) -> ExtensionOptions {
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
                let bad = |p: &String| {
                    !(4..=8).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit())
                };
                if o.pin.as_ref().is_some_and(bad) {
                    r.error(
                        Diagnostic::error("bad-pin", args[0].span, "a PIN is 4 to 8 digits")
                            .label("not a PIN")
                            .help("write it as digits in quotes, like pin \"4321\""),
                    );
                }
            }
            "ring" => o.ring = one_duration(r, &key, &args),
            "no_answer" => o.no_answer = action_or_missing(r, &key, &args, action),
            _ => unknown_option(r, &key, "extension", EXTENSION_OPTIONS),
        }
    }
    o
}

/// An option's name, its values and the action after `->`, if any.
fn option_parts(r: &mut Reader<'_>, opt: Pair<'_, Rule>) -> (Ident, Vec<Value>, Option<Action>) {
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

fn unknown_option(r: &mut Reader<'_>, key: &Ident, what: &str, known: &[&str]) {
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

fn no_args(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> bool {
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

fn one_arg<'v>(
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

fn one_text(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Option<String> {
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

fn one_duration(r: &mut Reader<'_>, key: &Ident, args: &[Value]) -> Option<Duration> {
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
fn action_or_missing(
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

pub fn condition_and_action<'a>(
    r: &mut Reader<'_>,
    pairs: impl Iterator<Item = Pair<'a, Rule>>,
    ctx: StepContext,
) -> (Option<Condition>, Action) {
    let mut condition = None;
    let mut action = Block::default();
    for p in pairs {
        match p.as_rule() {
            Rule::when => condition = Some(read_condition(r, p.into_inner().next().unwrap())),
            Rule::action => action = read_action(r, p, ctx),
            _ => {}
        }
    }
    (condition, action)
}

// ---- values ---------------------------------------------------------------------------------

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

// ---- conditions -------------------------------------------------------------------------------

pub fn read_condition(r: &mut Reader<'_>, pair: Pair<'_, Rule>) -> Condition {
    match pair.as_rule() {
        Rule::condition => {
            let mut parts: Vec<Condition> =
                pair.into_inner().map(|p| read_condition(r, p)).collect();
            if parts.len() == 1 {
                parts.pop().unwrap()
            } else {
                Condition::Or(parts)
            }
        }
        Rule::disjunct => {
            let mut parts: Vec<Condition> =
                pair.into_inner().map(|p| read_condition(r, p)).collect();
            if parts.len() == 1 {
                parts.pop().unwrap()
            } else {
                Condition::And(parts)
            }
        }
        Rule::negation => {
            let mut nots = 0;
            let mut atom = None;
            for p in pair.into_inner() {
                match p.as_rule() {
                    Rule::not_op => nots += 1,
                    _ => atom = Some(read_condition(r, p)),
                }
            }
            let c = atom.expect("a negation always ends in an atom");
            // `not not x` is `x`: keeping only the parity bounds the tree's depth.
            if nots % 2 == 1 {
                Condition::Not(Box::new(c))
            } else {
                c
            }
        }
        Rule::cond_atom => read_condition(r, pair.into_inner().next().unwrap()),
        Rule::comparison => {
            let mut inner = pair.into_inner();
            let left = read_value(r, inner.next().unwrap());
            let equal = inner.next().unwrap().as_str() == "==";
            let right = read_value(r, inner.next().unwrap());
            Condition::Compare { left, equal, right }
        }
        Rule::script_expr => Condition::Script(read_value(r, pair)),
        _ => Condition::Call(read_value(r, pair)),
    }
}
