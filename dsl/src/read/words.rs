//! A step's words: the verb, the words after it and `-> var`, read generically, and the
//! cursor a verb consumes them with, which reports a wrong word with the verb's usage line.

use super::reader::Reader;
use super::values::read_value;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::Rule;
use pest::iterators::Pair;
use std::collections::VecDeque;
use std::time::Duration;

/// Where a block sits, which decides the verbs it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepContext {
    Flow,
    /// Inside a menu branch, where `repeat` starts the menu again.
    Menu,
    Test,
}

pub enum Word {
    Value(Value),
    Range { lo: u32, hi: u32, span: Span },
    Assign(Value),
}

impl Word {
    pub fn span(&self) -> Span {
        match self {
            Word::Value(v) | Word::Assign(v) => v.span,
            Word::Range { span, .. } => *span,
        }
    }
}

/// The words of one step, consumed left to right.
pub struct Words<'a, 'r, 'd> {
    pub r: &'a mut Reader<'d>,
    pub verb: Ident,
    pub usage: &'static str,
    pub words: VecDeque<Word>,
    pub into: Option<Ident>,
    pub failed: bool,
    _r: std::marker::PhantomData<&'r ()>,
}

impl Words<'_, '_, '_> {
    pub fn fail(&mut self, span: Span, message: String, label: &str) {
        let help = format!("write it as: {}", self.usage);
        self.fail_help(span, message, label, help);
    }

    /// Reports the step's first mistake only: after one wrong word, the rest are guesses.
    pub fn fail_help(&mut self, span: Span, message: String, label: &str, help: String) {
        if !self.failed {
            self.r.error(
                Diagnostic::error("bad-step", span, message)
                    .label(label)
                    .help(help),
            );
        }
        self.failed = true;
    }

    pub fn end_span(&self) -> Span {
        let s = self.words.back().map(Word::span).unwrap_or(self.verb.span);
        Span { start: s.end, ..s }
    }

    /// Consumes the next word if it is the bare word `kw`.
    pub fn keyword(&mut self, kw: &str) -> bool {
        if let Some(Word::Value(v)) = self.words.front()
            && matches!(&v.kind, ValueKind::Var(p) if p.len() == 1 && p[0] == kw)
        {
            self.words.pop_front();
            return true;
        }
        false
    }

    /// Like `keyword`, returning where the word was.
    pub fn keyword_span(&mut self, kw: &str) -> Option<Span> {
        let span = self.words.front().map(Word::span)?;
        self.keyword(kw).then_some(span)
    }

    /// Reports a missing or wrong word of a closed set: did-you-mean on the word that is
    /// there (if it is a bare word), and the list of valid words.
    pub fn fail_choice(&mut self, span: Span, message: &str, valid: &[&str]) {
        let found = match self.words.front() {
            Some(Word::Value(v)) => match &v.kind {
                ValueKind::Var(p) if p.len() == 1 => Some((p[0].clone(), v.span)),
                _ => None,
            },
            _ => None,
        };
        let list = valid
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let label = if found.is_some() {
            "not one of these words"
        } else {
            "something is missing here"
        };
        let (span, help) = match &found {
            Some((word, at)) => match crate::suggest::did_you_mean(word, valid.iter().copied()) {
                Some(s) => (*at, format!("did you mean `{s}`? Write one of {list}")),
                None => (*at, format!("write one of {list}")),
            },
            None => (span, format!("write one of {list}")),
        };
        self.fail_help(span, message.to_string(), label, help);
    }

    /// The next word if it is a bare word, consumed.
    pub fn any_keyword(&mut self) -> Option<(String, Span)> {
        if let Some(Word::Value(v)) = self.words.front()
            && let ValueKind::Var(p) = &v.kind
            && p.len() == 1
        {
            let out = (p[0].clone(), v.span);
            self.words.pop_front();
            return Some(out);
        }
        None
    }

    pub fn value(&mut self, what: &str) -> Option<Value> {
        match self.words.pop_front() {
            Some(Word::Value(v)) => Some(v),
            Some(w) => {
                self.fail(w.span(), format!("expected {what}"), "not this");
                None
            }
            None => {
                let span = self.end_span();
                self.fail(
                    span,
                    format!("`{}` needs {what}", self.verb.name),
                    "something is missing here",
                );
                None
            }
        }
    }

    pub fn peek_is_value(&self) -> bool {
        matches!(self.words.front(), Some(Word::Value(v)) if !matches!(&v.kind, ValueKind::Var(p) if p.len() == 1 && is_step_keyword(&p[0])))
    }

    pub fn text(&mut self, what: &str) -> Option<(String, Span)> {
        let v = self.value(what)?;
        match v.literal() {
            Some(s) => Some((s, v.span)),
            None => {
                self.fail(v.span, format!("expected {what}"), "not a plain string");
                None
            }
        }
    }

    pub fn duration(&mut self) -> Option<Duration> {
        let v = self.value("a duration like `5s`")?;
        match &v.kind {
            ValueKind::Duration(d) => Some(*d),
            ValueKind::Number(n) => {
                if !self.failed {
                    self.r.error(Diagnostic::no_unit(n, v.span, "bad-step"));
                }
                self.failed = true;
                None
            }
            _ => {
                self.fail(
                    v.span,
                    "expected a duration like `5s`".into(),
                    "not a duration",
                );
                None
            }
        }
    }

    pub fn key_char(&mut self) -> Option<char> {
        let (s, span) = self.text("a key in quotes, like \"#\"")?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => Some(c),
            _ => {
                self.fail(span, format!("`{s}` is not one phone key"), "not one key");
                None
            }
        }
    }

    /// Reports words left over after the step was read.
    pub fn finish(mut self) -> bool {
        if let Some(w) = self.words.pop_front() {
            let span = w.span();
            // `timout 5s`: a misspelt word of the step's own phrasing.
            let near = match &w {
                Word::Value(Value {
                    kind: ValueKind::Var(p),
                    ..
                }) if p.len() == 1 => {
                    crate::suggest::did_you_mean(&p[0], STEP_KEYWORDS.iter().copied())
                }
                _ => None,
            };
            let message = format!("unexpected word after `{}`", self.verb.name);
            match near {
                Some(k) if self.usage.contains(k) => self.fail_help(
                    span,
                    message,
                    "not understood here",
                    format!("did you mean `{k}`? Write it as: {}", self.usage),
                ),
                _ => self.fail(span, message, "not understood here"),
            }
        }
        if let Some(into) = self.into.take() {
            self.fail(
                into.span,
                format!("`{}` does not store a result", self.verb.name),
                "remove `-> ...`",
            );
        }
        !self.failed
    }
}

/// Words that are part of a step's own phrasing rather than a value.
const STEP_KEYWORDS: &[&str] = &[
    "interruptible",
    "until",
    "timeout",
    "digits",
    "for",
    "max",
    "ring",
    "to",
];

fn is_step_keyword(w: &str) -> bool {
    STEP_KEYWORDS.contains(&w)
}

pub fn read_words(r: &mut Reader<'_>, p: Pair<'_, Rule>) -> (Ident, VecDeque<Word>, Option<Ident>) {
    let mut inner = p.into_inner();
    let verb = r.ident(&inner.next().unwrap());
    let mut words = VecDeque::new();
    let mut into = None;
    for w in inner {
        match w.as_rule() {
            Rule::range => {
                let span = r.span(&w);
                let mut n = w.into_inner();
                let lo = n.next().unwrap().as_str().parse().unwrap_or(u32::MAX);
                let hi = n.next().unwrap().as_str().parse().unwrap_or(u32::MAX);
                words.push_back(Word::Range { lo, hi, span });
            }
            Rule::kv_assign => {
                words.push_back(Word::Assign(read_value(r, w.into_inner().next().unwrap())))
            }
            Rule::assign_to => {
                let n = w.into_inner().find(|x| x.as_rule() == Rule::name).unwrap();
                into = Some(r.ident(&n));
            }
            _ => words.push_back(Word::Value(read_value(r, w))),
        }
    }
    (verb, words, into)
}

/// The verbs of one kind of block, each with its usage line for error messages.
pub struct Verbs {
    pub table: &'static [(&'static str, &'static str)],
    /// What a verb of the table is called: `step` or `test step`.
    pub what: &'static str,
    /// The help for an unknown verb near none of the table's.
    pub help: &'static str,
}

/// Reads one step with `step` once its verb is found in `verbs`, then reports the words it
/// left over. A step written wrong is dropped and reported once; the variable it meant to
/// define (`-> var`, or the name after `set`) is not then unknown at every use.
pub fn read_verb(
    r: &mut Reader<'_>,
    verb: Ident,
    words: VecDeque<Word>,
    into: Option<Ident>,
    verbs: &Verbs,
    step: impl FnOnce(&mut Words<'_, '_, '_>) -> Option<StepKind>,
) -> Option<StepKind> {
    let mut defines: Vec<String> = into.iter().map(|i| i.name.clone()).collect();
    if verb.name == "set"
        && let Some(Word::Value(Value {
            kind: ValueKind::Var(path),
            ..
        })) = words.front()
    {
        defines.push(path[0].clone());
    }
    let kind = verb_kind(r, verb, words, into, verbs, step);
    if kind.is_none() {
        r.broken.extend(defines);
    }
    kind
}

fn verb_kind(
    r: &mut Reader<'_>,
    verb: Ident,
    words: VecDeque<Word>,
    into: Option<Ident>,
    verbs: &Verbs,
    step: impl FnOnce(&mut Words<'_, '_, '_>) -> Option<StepKind>,
) -> Option<StepKind> {
    let Some(&(_, usage)) = verbs.table.iter().find(|(v, _)| *v == verb.name) else {
        let names = verbs.table.iter().map(|(v, _)| *v);
        let help = match crate::suggest::did_you_mean(&verb.name, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => verbs.help.to_string(),
        };
        let what = verbs.what;
        r.error(
            Diagnostic::error(
                "unknown-step",
                verb.span,
                format!("unknown {what} `{}`", verb.name),
            )
            .label(format!("not a {what}"))
            .help(help),
        );
        return None;
    };
    let mut w = Words {
        r,
        verb,
        usage,
        words,
        into,
        failed: false,
        _r: std::marker::PhantomData,
    };
    let kind = step(&mut w)?;
    if w.finish() { Some(kind) } else { None }
}
