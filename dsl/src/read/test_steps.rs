//! Test steps: `call`, `chat`, `press`, `wait`, `hangup`, `given` and `expect`.

use super::reader::Reader;
use super::steps::read_flow_step;
use super::words::{StepContext, Verbs, Word, Words, read_verb};
use crate::ast::*;
use std::collections::VecDeque;

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

const TESTS: Verbs = Verbs {
    table: TEST_VERBS,
    what: "test step",
    help: "a test uses call, chat, press, wait, hangup, given and expect",
};

/// Reads a test step from its verb and words.
pub fn read_test_step(
    r: &mut Reader<'_>,
    verb: Ident,
    words: VecDeque<Word>,
    into: Option<Ident>,
) -> Option<StepKind> {
    read_verb(r, verb, words, into, &TESTS, test_step)
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
            let kind = read_flow_step(w.r, inner_verb, words, into, StepContext::Menu)?;
            StepKind::Expect(Box::new(Step { kind, span }))
        }
        _ => unreachable!("every verb in TEST_VERBS is handled"),
    })
}
