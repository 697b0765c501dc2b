//! Flow steps: what each verb of a flow means, read from its words.

use super::reader::Reader;
use super::words::{StepContext, Verbs, Word, Words, read_verb};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use std::collections::VecDeque;

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

/// The verbs a flow (or a menu branch, or a test's `expect`) may use.
const FLOWS: Verbs = Verbs {
    table: FLOW_VERBS,
    what: "step",
    help: "see docs/language.md for the list of steps",
};

/// Reads a flow step from its verb and words; `ctx` is `Flow` or `Menu`.
pub fn read_flow_step(
    r: &mut Reader<'_>,
    verb: Ident,
    words: VecDeque<Word>,
    into: Option<Ident>,
    ctx: StepContext,
) -> Option<StepKind> {
    read_verb(r, verb, words, into, &FLOWS, |w| flow_step(w, ctx))
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
