//! Steps: a verb and its words, read into a typed `StepKind`.
//!
//! The grammar takes any `verb word word ... -> var` line, so a wrong word is reported
//! here with the step's own usage line instead of a bare "expected ..." from the parser.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::parse::{Reader, read_condition, read_value};
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

/// Every verb of a flow, with its usage line for error messages.
pub const FLOW_VERBS: &[(&str, &str)] = &[
    ("answer", "answer"),
    ("hangup", "hangup"),
    ("play", "play \"prompt\"[, \"prompt\"...] [interruptible]"),
    ("say", "say digits|number VALUE"),
    (
        "ask",
        "ask [\"prompt\"] digits N[..M] [until \"#\"] [timeout 5s] -> variable",
    ),
    (
        "record",
        "record name|greeting|message [for MAILBOX] [until \"#\"] [max 2m]",
    ),
    ("confirm", "confirm"),
    ("extension", "extension NUMBER [ring 20s]"),
    ("queue", "queue NUMBER"),
    ("trunk", "trunk \"name\" to NUMBER"),
    ("voicemail", "voicemail MAILBOX"),
    ("goto", "goto flow_name[(arguments)]"),
    ("flow", "flow flow_name[(arguments)]"),
    ("call", "call flow_name[(arguments)]"),
    ("back", "back"),
    ("repeat", "repeat"),
    ("set", "set variable = VALUE"),
    ("queue_login", "queue_login all|QUEUE [for AGENT]"),
    ("queue_logout", "queue_logout all|QUEUE [for AGENT]"),
    ("hot_desk_login", "hot_desk_login EXTENSION"),
    ("hot_desk_logout", "hot_desk_logout"),
    ("park", "park \"ORBIT\""),
    ("unpark", "unpark \"ORBIT\""),
    ("park_toggle", "park_toggle \"ORBIT\""),
    ("directory", "directory"),
    (
        "mailbox",
        "mailbox open MAILBOX | select new|saved | play | next | previous | save | delete \
         | say_count new|saved | set_pin VALUE",
    ),
    ("language", "language \"de\""),
];

/// The operations of the `mailbox` step.
const MAILBOX_OPS: &[&str] = &[
    "open",
    "select",
    "play",
    "next",
    "previous",
    "save",
    "delete",
    "say_count",
    "set_pin",
];

/// The channels a test chat can come in on, as the `chat` route names them.
const CHANNELS: &[&str] = &["livechat", "whatsapp", "facebook", "sms"];

/// The facts a test's `given` can state.
const GIVEN_FACTS: &[&str] = &["mailbox", "self_id", "messages", "time", "agent"];

pub const TEST_VERBS: &[(&str, &str)] = &[
    (
        "call",
        "call from EXTENSION dial \"NUMBER\"  or  call from trunk \"name\" number \"+1...\" dial \"NUMBER\"  \
         or  call from device \"MAC\" dial \"NUMBER\"",
    ),
    (
        "chat",
        "chat CHANNEL from \"ADDRESS\" [to \"NUMBER\"] says \"TEXT\"",
    ),
    ("press", "press \"KEYS\""),
    ("wait", "wait 5s"),
    ("hangup", "hangup"),
    (
        "given",
        "given mailbox EXT pin \"1234\" | given self_id EXT | given messages EXT N \
         | given time \"2026-11-23 19:00\" | given agent EXT in QUEUE",
    ),
    (
        "expect",
        "expect STEP   (for example: expect play \"vm-main\")",
    ),
];

pub fn read_block(r: &mut Reader<'_>, pair: Pair<'_, Rule>, ctx: StepContext) -> Block {
    let mut steps = Vec::new();
    for p in pair.into_inner() {
        if let Some(s) = read_statement(r, p, ctx) {
            steps.push(s);
        }
    }
    Block { steps }
}

/// An action after `->`: a block, or steps joined by `then`.
pub fn read_action(r: &mut Reader<'_>, pair: Pair<'_, Rule>, ctx: StepContext) -> Block {
    let mut steps = Vec::new();
    for p in pair.into_inner() {
        if p.as_rule() == Rule::block {
            return read_block(r, p, ctx);
        }
        if let Some(s) = read_statement(r, p, ctx) {
            steps.push(s);
        }
    }
    Block { steps }
}

fn read_statement(r: &mut Reader<'_>, p: Pair<'_, Rule>, ctx: StepContext) -> Option<Step> {
    let mut span = r.span(&p);
    // pest lets a step's span run over a trailing comment; end it at its last word.
    if p.as_rule() == Rule::step
        && let Some(last) = p.clone().into_inner().last()
    {
        span.end = r.span(&last).end;
    }
    let kind = match p.as_rule() {
        Rule::step => read_step(r, p, ctx)?,
        Rule::if_step => {
            let mut branches = Vec::new();
            let mut otherwise = None;
            let mut cond = None;
            for part in p.into_inner() {
                match part.as_rule() {
                    Rule::condition => cond = Some(read_condition(r, part)),
                    Rule::block => {
                        let c = cond.take().expect("a block follows its condition");
                        branches.push((c, read_block(r, part, ctx)));
                    }
                    Rule::else_block => {
                        otherwise = Some(read_block(r, part.into_inner().next().unwrap(), ctx))
                    }
                    _ => {}
                }
            }
            StepKind::If {
                branches,
                otherwise,
            }
        }
        Rule::repeat_step => {
            let mut inner = p.into_inner();
            let n = inner.next().unwrap();
            let times = match n.as_str().parse::<u32>() {
                Ok(t) if (1..=100).contains(&t) => t,
                _ => {
                    r.error(
                        Diagnostic::error("bad-step", r.span(&n), "repeat 1 to 100 times")
                            .label("too many"),
                    );
                    1
                }
            };
            let body = read_block(r, inner.next().unwrap(), ctx);
            StepKind::Loop { times, body }
        }
        Rule::menu => StepKind::Menu(Box::new(read_menu(r, p, ctx))),
        _ => return None,
    };
    Some(Step { kind, span })
}

fn read_menu(r: &mut Reader<'_>, p: Pair<'_, Rule>, ctx: StepContext) -> Menu {
    let branch_ctx = if ctx == StepContext::Test {
        ctx
    } else {
        StepContext::Menu
    };
    let mut menu = Menu {
        prompts: Vec::new(),
        keys: Vec::new(),
        timeout: None,
        retries: None,
        on_timeout: None,
        on_invalid: None,
        on_retries_exhausted: None,
    };
    for part in p.into_inner() {
        match part.as_rule() {
            Rule::value_list => {
                menu.prompts = part.into_inner().map(|v| read_value(r, v)).collect()
            }
            Rule::menu_opts => {
                for opt in part.into_inner().flat_map(|o| o.into_inner()) {
                    read_menu_opt(r, opt, &mut menu);
                }
            }
            Rule::menu_entry => {
                let e = part.into_inner().next().unwrap();
                match e.as_rule() {
                    Rule::menu_key => {
                        let mut inner = e.into_inner();
                        let key = inner.next().unwrap();
                        let key_span = r.span(&key);
                        let text = crate::parse::string_contents(&key);
                        let action = read_action(r, inner.nth(1).unwrap(), branch_ctx);
                        let mut chars = text.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => {
                                menu.keys.push(MenuKey {
                                    key: c,
                                    span: key_span,
                                    action,
                                })
                            }
                            _ => r.error(
                                Diagnostic::error(
                                    "bad-menu-key",
                                    key_span,
                                    format!("`\"{text}\"` is not a key on a phone"),
                                )
                                .label("not one key")
                                .help("a menu key is one of \"0\" to \"9\", \"*\" or \"#\""),
                            ),
                        }
                    }
                    Rule::menu_timeout => {
                        for x in e.into_inner() {
                            match x.as_rule() {
                                Rule::duration => {
                                    menu.timeout = Some(crate::parse::parse_duration(x.as_str()))
                                }
                                Rule::retries_opt => read_menu_opt(r, x, &mut menu),
                                Rule::action => {
                                    menu.on_timeout = Some(read_action(r, x, branch_ctx))
                                }
                                _ => {}
                            }
                        }
                    }
                    Rule::menu_invalid => {
                        let a = e
                            .into_inner()
                            .find(|x| x.as_rule() == Rule::action)
                            .unwrap();
                        menu.on_invalid = Some(read_action(r, a, branch_ctx));
                    }
                    Rule::menu_retries => {
                        for x in e.into_inner() {
                            match x.as_rule() {
                                Rule::retries_opt => read_menu_opt(r, x, &mut menu),
                                Rule::action => {
                                    menu.on_retries_exhausted = Some(read_action(r, x, branch_ctx))
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    menu
}

fn read_menu_opt(r: &mut Reader<'_>, opt: Pair<'_, Rule>, menu: &mut Menu) {
    let rule = opt.as_rule();
    let Some(v) = opt.into_inner().next() else {
        return;
    };
    match rule {
        Rule::timeout_opt => menu.timeout = Some(crate::parse::parse_duration(v.as_str())),
        Rule::retries_opt => match v.as_str().parse::<u32>() {
            Ok(n) if n <= 20 => menu.retries = Some(n),
            _ => r.error(
                Diagnostic::error("bad-menu", r.span(&v), "a menu retries at most 20 times")
                    .label("too many retries")
                    .help("write a smaller number, like `retries 3`; a caller who needs more is sent on by `retries N -> ...`"),
            ),
        },
        _ => {}
    }
}

// ---- one step: verb and words -------------------------------------------------------------

pub(crate) enum Word {
    Value(Value),
    Range { lo: u32, hi: u32, span: Span },
    Assign(Value),
}

impl Word {
    fn span(&self) -> Span {
        match self {
            Word::Value(v) | Word::Assign(v) => v.span,
            Word::Range { span, .. } => *span,
        }
    }
}

/// The words of one step, consumed left to right.
struct Words<'a, 'r, 'd> {
    r: &'a mut Reader<'d>,
    verb: Ident,
    usage: &'static str,
    words: VecDeque<Word>,
    into: Option<Ident>,
    failed: bool,
    _r: std::marker::PhantomData<&'r ()>,
}

impl Words<'_, '_, '_> {
    fn fail(&mut self, span: Span, message: String, label: &str) {
        let help = format!("write it as: {}", self.usage);
        self.fail_help(span, message, label, help);
    }

    /// Reports the step's first mistake only: after one wrong word, the rest are guesses.
    fn fail_help(&mut self, span: Span, message: String, label: &str, help: String) {
        if !self.failed {
            self.r.error(
                Diagnostic::error("bad-step", span, message)
                    .label(label)
                    .help(help),
            );
        }
        self.failed = true;
    }

    fn end_span(&self) -> Span {
        let s = self.words.back().map(Word::span).unwrap_or(self.verb.span);
        Span { start: s.end, ..s }
    }

    /// Consumes the next word if it is the bare word `kw`.
    fn keyword(&mut self, kw: &str) -> bool {
        if let Some(Word::Value(v)) = self.words.front()
            && matches!(&v.kind, ValueKind::Var(p) if p.len() == 1 && p[0] == kw)
        {
            self.words.pop_front();
            return true;
        }
        false
    }

    /// Like `keyword`, returning where the word was.
    fn keyword_span(&mut self, kw: &str) -> Option<Span> {
        let span = self.words.front().map(Word::span)?;
        self.keyword(kw).then_some(span)
    }

    /// Reports a missing or wrong word of a closed set: did-you-mean on the word that is
    /// there (if it is a bare word), and the list of valid words.
    fn fail_choice(&mut self, span: Span, message: &str, valid: &[&str]) {
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
    fn any_keyword(&mut self) -> Option<(String, Span)> {
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

    fn value(&mut self, what: &str) -> Option<Value> {
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

    fn peek_is_value(&self) -> bool {
        matches!(self.words.front(), Some(Word::Value(v)) if !matches!(&v.kind, ValueKind::Var(p) if p.len() == 1 && is_step_keyword(&p[0])))
    }

    fn text(&mut self, what: &str) -> Option<(String, Span)> {
        let v = self.value(what)?;
        match v.literal() {
            Some(s) => Some((s, v.span)),
            None => {
                self.fail(v.span, format!("expected {what}"), "not a plain string");
                None
            }
        }
    }

    fn duration(&mut self) -> Option<Duration> {
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

    fn key_char(&mut self) -> Option<char> {
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
    fn finish(mut self) -> bool {
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

pub(crate) fn read_words(
    r: &mut Reader<'_>,
    p: Pair<'_, Rule>,
) -> (Ident, VecDeque<Word>, Option<Ident>) {
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

fn read_step(r: &mut Reader<'_>, p: Pair<'_, Rule>, ctx: StepContext) -> Option<StepKind> {
    let (verb, words, into) = read_words(r, p);
    step_from_words(r, verb, words, into, ctx)
}

fn step_from_words(
    r: &mut Reader<'_>,
    verb: Ident,
    words: VecDeque<Word>,
    into: Option<Ident>,
    ctx: StepContext,
) -> Option<StepKind> {
    // What the step would define: `-> var`, or the name after `set`. A step written wrong
    // is dropped and reported once; the variable it meant to define is not then unknown
    // at every use.
    let mut defines: Vec<String> = into.iter().map(|i| i.name.clone()).collect();
    if verb.name == "set"
        && let Some(Word::Value(Value {
            kind: ValueKind::Var(path),
            ..
        })) = words.front()
    {
        defines.push(path[0].clone());
    }
    let kind = read_verb(r, verb, words, into, ctx);
    if kind.is_none() {
        r.broken.extend(defines);
    }
    kind
}

fn read_verb(
    r: &mut Reader<'_>,
    verb: Ident,
    words: VecDeque<Word>,
    into: Option<Ident>,
    ctx: StepContext,
) -> Option<StepKind> {
    let table = if ctx == StepContext::Test {
        TEST_VERBS
    } else {
        FLOW_VERBS
    };
    let Some(&(_, usage)) = table.iter().find(|(v, _)| *v == verb.name) else {
        let names = table.iter().map(|(v, _)| *v);
        let help = match crate::suggest::did_you_mean(&verb.name, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None if ctx == StepContext::Test => {
                "a test uses call, chat, press, wait, hangup, given and expect".to_string()
            }
            None => "see docs/language.md for the list of steps".to_string(),
        };
        let what = if ctx == StepContext::Test {
            "test step"
        } else {
            "step"
        };
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
    let kind = if ctx == StepContext::Test {
        test_step(&mut w)?
    } else {
        flow_step(&mut w, ctx)?
    };
    if w.finish() { Some(kind) } else { None }
}

fn flow_step(w: &mut Words<'_, '_, '_>, ctx: StepContext) -> Option<StepKind> {
    let verb = w.verb.name.clone();
    Some(match verb.as_str() {
        "answer" => StepKind::Answer,
        "hangup" => StepKind::Hangup,
        "confirm" => StepKind::Confirm,
        "back" => StepKind::Back,
        "directory" => StepKind::Directory,
        "hot_desk_logout" => StepKind::HotDeskLogout,
        "repeat" => {
            if ctx != StepContext::Menu {
                let span = w.verb.span;
                w.fail(
                    span,
                    "`repeat` starts a menu again, so it only works inside a menu".into(),
                    "not inside a menu",
                );
                return None;
            }
            StepKind::Repeat
        }
        "play" => {
            let mut prompts = vec![w.value("a prompt name in quotes")?];
            while w.peek_is_value() {
                prompts.push(w.value("a prompt name")?);
            }
            let barge_in = w.keyword("interruptible");
            StepKind::Play { prompts, barge_in }
        }
        "say" => {
            let kind = if w.keyword("digits") {
                SayKind::Digits
            } else if let Some(number) = w.keyword_span("number") {
                // The engine reads a number digit by digit ("four, two"), which is not what
                // `say number 42` promises ("forty-two"): refused until it is.
                w.r.error(Diagnostic::not_supported(
                    number,
                    "`say number` is not supported yet".to_string(),
                    None,
                    "write `say digits`, which reads the value digit by digit",
                ));
                SayKind::Number
            } else {
                let span = w.end_span();
                w.fail_choice(
                    span,
                    "`say` needs `digits` or `number`",
                    &["digits", "number"],
                );
                return None;
            };
            StepKind::Say {
                kind,
                value: w.value("what to say")?,
            }
        }
        "ask" => {
            let mut prompts = Vec::new();
            while w.peek_is_value() {
                prompts.push(w.value("a prompt")?);
            }
            if !w.keyword("digits") {
                let span = w.end_span();
                w.fail(
                    span,
                    "`ask` needs `digits N` or `digits N..M`".into(),
                    "how many digits",
                );
                return None;
            }
            let (min, max) = match w.words.pop_front() {
                Some(Word::Range { lo, hi, span }) => {
                    if lo > hi || hi > 64 || lo == 0 {
                        w.fail(
                            span,
                            "a digit range is 1 to 64, low to high".into(),
                            "bad range",
                        );
                        return None;
                    }
                    (lo, hi)
                }
                Some(Word::Value(Value {
                    kind: ValueKind::Number(n),
                    span,
                })) => match n.parse::<u32>() {
                    Ok(k) if (1..=64).contains(&k) => (k, k),
                    _ => {
                        w.fail(span, "ask for 1 to 64 digits".into(), "bad count");
                        return None;
                    }
                },
                _ => {
                    let span = w.end_span();
                    w.fail(
                        span,
                        "`digits` needs a count like 4 or 3..8".into(),
                        "count",
                    );
                    return None;
                }
            };
            let mut terminator = None;
            let mut timeout = None;
            loop {
                if w.keyword("until") {
                    terminator = Some(w.key_char()?);
                } else if w.keyword("timeout") {
                    timeout = Some(w.duration()?);
                } else {
                    break;
                }
            }
            let Some(into) = w.into.take() else {
                let span = w.end_span();
                w.fail(
                    span,
                    "`ask` must store the digits: add `-> variable`".into(),
                    "where do the digits go?",
                );
                return None;
            };
            StepKind::Ask {
                prompts,
                min,
                max,
                terminator,
                timeout,
                into,
            }
        }
        "record" => {
            let kind = if w.keyword("name") {
                RecordKind::Name
            } else if w.keyword("greeting") {
                RecordKind::Greeting
            } else if w.keyword("message") {
                RecordKind::Message
            } else {
                let span = w.end_span();
                w.fail_choice(
                    span,
                    "`record` needs `name`, `greeting` or `message`",
                    &["name", "greeting", "message"],
                );
                return None;
            };
            let mut mailbox = None;
            let mut terminator = None;
            let mut max = None;
            loop {
                if w.keyword("for") {
                    mailbox = Some(w.value("a mailbox")?);
                } else if w.keyword("until") {
                    terminator = Some(w.key_char()?);
                } else if w.keyword("max") {
                    max = Some(w.duration()?);
                } else {
                    break;
                }
            }
            StepKind::Record {
                kind,
                mailbox,
                terminator,
                max,
            }
        }
        "extension" => {
            let number = w.value("an extension number")?;
            let ring = if w.keyword("ring") {
                Some(w.duration()?)
            } else {
                None
            };
            StepKind::Extension { number, ring }
        }
        "queue" => StepKind::Queue(w.value("a queue number")?),
        "voicemail" => StepKind::Voicemail(w.value("a mailbox number")?),
        "trunk" => {
            let (name, span) = w.text("a trunk name in quotes")?;
            if !w.keyword("to") {
                let span = w.end_span();
                w.fail(span, "`trunk` needs `to NUMBER`".into(), "to where");
                return None;
            }
            StepKind::Trunk {
                trunk: Ident { name, span },
                number: w.value("the number to dial")?,
            }
        }
        "goto" | "flow" | "call" => {
            let v = w.value("a flow name")?;
            let (flow, args) = match v.kind {
                ValueKind::Var(p) if p.len() == 1 => (
                    Ident {
                        name: p[0].clone(),
                        span: v.span,
                    },
                    Vec::new(),
                ),
                ValueKind::Call { name, args } => (name, args),
                _ => {
                    w.fail(v.span, "expected a flow name".into(), "not a flow name");
                    return None;
                }
            };
            if verb == "call" {
                StepKind::Call { flow, args }
            } else {
                StepKind::Goto { flow, args }
            }
        }
        "set" => {
            let (name, span) = match w.any_keyword() {
                Some(k) => k,
                None => {
                    let span = w.end_span();
                    w.fail(span, "`set` needs a variable name".into(), "which variable");
                    return None;
                }
            };
            if name == "caller_id" {
                // Admins write this to change the number the far end sees; it would only
                // make a variable, so it is refused until calls between people bring it.
                w.r.error(Diagnostic::not_supported(
                    span,
                    "setting the caller ID is not supported yet".to_string(),
                    Some("calls between people"),
                    "remove the step; calls go out with the number of the caller's extension \
                     or trunk",
                ));
            }
            match w.words.pop_front() {
                Some(Word::Assign(value)) => StepKind::Set {
                    var: Ident { name, span },
                    value,
                },
                _ => {
                    w.fail(span, "`set` needs `= VALUE`".into(), "missing `=`");
                    return None;
                }
            }
        }
        "queue_login" | "queue_logout" => {
            let queues = if w.keyword("all") {
                QueueSelect::All
            } else {
                QueueSelect::One(w.value("`all` or a queue number")?)
            };
            let agent = if w.keyword("for") {
                Some(w.value("the agent's extension")?)
            } else {
                None
            };
            if verb == "queue_login" {
                StepKind::QueueLogin { queues, agent }
            } else {
                StepKind::QueueLogout { queues, agent }
            }
        }
        "hot_desk_login" => StepKind::HotDeskLogin(w.value("an extension")?),
        "park" => StepKind::Park(w.value("a park orbit like \"SP1\"")?),
        "unpark" => StepKind::Unpark(w.value("a park orbit like \"SP1\"")?),
        "park_toggle" => StepKind::ParkToggle(w.value("a park orbit like \"SP1\"")?),
        "language" => {
            let (name, span) = w.text("a language like \"de\"")?;
            StepKind::Language(Ident { name, span })
        }
        "mailbox" => {
            let (op, span) = match w.any_keyword() {
                Some(k) => k,
                None => {
                    let span = w.end_span();
                    w.fail(
                        span,
                        "`mailbox` needs an operation".into(),
                        "which operation",
                    );
                    return None;
                }
            };
            let saved = |w: &mut Words<'_, '_, '_>| {
                if w.keyword("saved") {
                    Some(true)
                } else if w.keyword("new") {
                    Some(false)
                } else {
                    let span = w.end_span();
                    w.fail_choice(span, "expected `new` or `saved`", &["new", "saved"]);
                    None
                }
            };
            StepKind::Mailbox(match op.as_str() {
                "open" => MailboxOp::Open(w.value("a mailbox number")?),
                "select" => MailboxOp::Select { saved: saved(w)? },
                "say_count" => MailboxOp::SayCount { saved: saved(w)? },
                "play" => MailboxOp::Play,
                "next" => MailboxOp::Next,
                "previous" => MailboxOp::Previous,
                "save" => MailboxOp::Save,
                "delete" => MailboxOp::Delete,
                "set_pin" => MailboxOp::SetPin(w.value("the new PIN")?),
                _ => {
                    let ops = MAILBOX_OPS.iter().copied();
                    let help = match crate::suggest::did_you_mean(&op, ops) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the operations are: {}", MAILBOX_OPS.join(", ")),
                    };
                    w.fail_help(
                        span,
                        format!("unknown mailbox operation `{op}`"),
                        "not an operation",
                        help,
                    );
                    return None;
                }
            })
        }
        _ => unreachable!("every verb in FLOW_VERBS is handled"),
    })
}

fn test_step(w: &mut Words<'_, '_, '_>) -> Option<StepKind> {
    let verb = w.verb.name.clone();
    Some(match verb.as_str() {
        "hangup" => StepKind::TestHangup,
        "press" => {
            let (keys, span) = w.text("the keys in quotes, like \"1234#\"")?;
            if keys.is_empty()
                || !keys
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            {
                w.fail(
                    span,
                    format!("`{keys}` are not phone keys"),
                    "only 0-9, * and #",
                );
                return None;
            }
            StepKind::Press(keys)
        }
        "wait" => StepKind::Wait(w.duration()?),
        "call" => {
            if !w.keyword("from") {
                let span = w.end_span();
                w.fail(span, "a test call needs `from`".into(), "from whom");
                return None;
            }
            let from = if w.keyword("trunk") {
                let (name, span) = w.text("a trunk name")?;
                let number = if w.keyword("number") {
                    w.text("the caller's number")?.0
                } else {
                    "+15555550100".to_string()
                };
                TestCaller::Trunk {
                    trunk: Ident { name, span },
                    number,
                }
            } else if w.keyword("device") {
                let (mac, span) = w.text("the phone's MAC address in quotes")?;
                TestCaller::Device { mac, span }
            } else {
                let v = w.value("an extension")?;
                TestCaller::Extension(v.literal().unwrap_or_default())
            };
            if !w.keyword("dial") {
                let span = w.end_span();
                w.fail(
                    span,
                    "a test call needs `dial \"NUMBER\"`".into(),
                    "dial what",
                );
                return None;
            }
            let dial = w.text("the dialled number in quotes")?.0;
            StepKind::TestCall { from, dial }
        }
        "chat" => {
            let (ch, span) = match w.any_keyword() {
                Some(k) => k,
                None => {
                    let span = w.end_span();
                    w.fail(span, "`chat` needs a channel".into(), "which channel");
                    return None;
                }
            };
            let Some(channel) = Channel::parse(&ch) else {
                let help = match crate::suggest::did_you_mean(&ch, CHANNELS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the chat channels are: {}", CHANNELS.join(", ")),
                };
                w.fail_help(
                    span,
                    format!("unknown chat channel `{ch}`"),
                    "not a channel",
                    help,
                );
                return None;
            };
            let mut from = String::new();
            let mut to = None;
            let mut says = String::new();
            loop {
                if w.keyword("from") {
                    from = w.text("the sender")?.0;
                } else if w.keyword("to") {
                    to = Some(w.text("the number written to")?.0);
                } else if w.keyword("says") {
                    says = w.text("the message")?.0;
                } else {
                    break;
                }
            }
            StepKind::TestChat {
                channel,
                from,
                to,
                says,
            }
        }
        "given" => {
            let (what, span) = match w.any_keyword() {
                Some(k) => k,
                None => {
                    let span = w.end_span();
                    w.fail(span, "`given` needs what is true".into(), "given what");
                    return None;
                }
            };
            let ext = |w: &mut Words<'_, '_, '_>| -> Option<String> {
                let v = w.value("an extension")?;
                v.literal()
            };
            StepKind::Given(match what.as_str() {
                "mailbox" => {
                    let mailbox = ext(w)?;
                    if !w.keyword("pin") {
                        let span = w.end_span();
                        w.fail(span, "expected `pin \"1234\"`".into(), "pin");
                        return None;
                    }
                    Given::Pin {
                        mailbox,
                        pin: w.text("the PIN")?.0,
                    }
                }
                "self_id" => Given::SelfId { mailbox: ext(w)? },
                "messages" => {
                    let mailbox = ext(w)?;
                    let n = w.value("a count")?;
                    Given::Messages {
                        mailbox,
                        new: n.literal().and_then(|s| s.parse().ok()).unwrap_or(0),
                    }
                }
                "time" => {
                    let (text, span) = w.text("a time like \"2026-11-23 19:00\"")?;
                    match crate::script::WallTime::parse(&text) {
                        Ok(t) => Given::Time(t),
                        Err(e) => {
                            w.fail(
                                span,
                                format!("`{text}` is not a date and time: {e}"),
                                "not a time",
                            );
                            return None;
                        }
                    }
                }
                "agent" => {
                    let agent = ext(w)?;
                    if !w.keyword("in") {
                        let span = w.end_span();
                        w.fail(span, "expected `in QUEUE`".into(), "in");
                        return None;
                    }
                    Given::QueueLoggedIn {
                        agent,
                        queue: ext(w)?,
                    }
                }
                _ => {
                    let help =
                        match crate::suggest::did_you_mean(&what, GIVEN_FACTS.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("write it as: {}", w.usage),
                        };
                    w.fail_help(
                        span,
                        format!("unknown `given` fact `{what}`"),
                        "not a fact",
                        help,
                    );
                    return None;
                }
            })
        }
        "expect" => {
            let Some(Word::Value(first)) = w.words.pop_front() else {
                let span = w.end_span();
                w.fail(
                    span,
                    "`expect` needs a step, like `play \"vm-main\"`".into(),
                    "expect what",
                );
                return None;
            };
            let ValueKind::Var(p) = &first.kind else {
                w.fail(
                    first.span,
                    "`expect` needs a step name next".into(),
                    "not a step",
                );
                return None;
            };
            let inner_verb = Ident {
                name: p.join("."),
                span: first.span,
            };
            let words = std::mem::take(&mut w.words);
            let into = w.into.take();
            let span = inner_verb.span.to(w.end_span());
            let kind = step_from_words(w.r, inner_verb, words, into, StepContext::Menu)?;
            StepKind::Expect(Box::new(Step { kind, span }))
        }
        _ => unreachable!("every verb in TEST_VERBS is handled"),
    })
}
