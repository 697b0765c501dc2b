//! Test steps: `call`, `chat`, `press`, `wait`, `hangup`, `given` and `expect`, and what
//! a far end the plan rings does (`extension 102 is busy`).

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
        "expect STEP   (for example: expect play \"vm-main\")  or  expect connected",
    ),
    (
        "extension",
        "extension EXT answers [after 5s]  or  extension EXT is busy  or  \
         extension EXT never answers  or  extension EXT is unregistered",
    ),
    (
        "queue",
        "queue QUEUE answers [after 5s]  or  queue QUEUE is busy  or  queue QUEUE never answers",
    ),
    (
        "trunk",
        "trunk \"name\" answers [after 5s]  or  trunk \"name\" is busy  or  \
         trunk \"name\" never answers  or  trunk \"name\" is unregistered",
    ),
];

const TESTS: Verbs = Verbs {
    table: TEST_VERBS,
    what: "test step",
    help: "a test uses call, chat, press, wait, hangup, given and expect, and says what a \
           rung extension, queue or trunk does (`extension 102 is busy`)",
};

/// One word of a far-end phrase (`is busy`, `answers after 5s`), as the test reader and
/// `simulate --far-end` both hand it over.
#[derive(Clone, Debug, PartialEq)]
pub enum PhraseWord {
    Word(String),
    Duration(std::time::Duration),
    /// A number without a unit, where a duration belongs.
    Number(String),
    /// Anything else: a quoted string, an expression.
    Other,
}

/// Why a far-end phrase was not understood: which word (`at == words.len()` when one is
/// missing), and what to say about it.
#[derive(Debug, PartialEq)]
pub struct PhraseError {
    pub at: usize,
    pub message: String,
    pub label: &'static str,
    pub help: Option<String>,
}

/// The phrases, for help texts.
pub const FAR_END_PHRASES: &str =
    "answers, answers after 5s, is busy, never answers, is unregistered";

/// Reads what a far end does: `answers [after DURATION]`, `is busy`, `never answers` or
/// `is unregistered`. The one definition of those words, for tests and `simulate`.
pub fn far_end_phrase(words: &[PhraseWord]) -> Result<FarEndDoes, PhraseError> {
    let word = |i: usize| match words.get(i) {
        Some(PhraseWord::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    let wrong = |at: usize, message: String, help: Option<String>| PhraseError {
        at,
        message,
        label: if at < words.len() {
            "not understood here"
        } else {
            "something is missing here"
        },
        help,
    };
    let (does, used) = match (word(0), word(1)) {
        (None, _) if words.is_empty() => {
            return Err(wrong(
                0,
                "say what it does when the plan rings it".into(),
                Some(format!("one of: {FAR_END_PHRASES}")),
            ));
        }
        (Some("answers"), Some("after")) => match words.get(2) {
            Some(PhraseWord::Duration(d)) => (FarEndDoes::Answers { after: Some(*d) }, 3),
            Some(PhraseWord::Number(n)) => {
                return Err(wrong(
                    2,
                    format!("`{n}` has no unit"),
                    Some(format!(
                        "a duration needs a unit: {n}s, {n}m or {n}h (or {n}ms)"
                    )),
                ));
            }
            _ => {
                return Err(wrong(
                    2,
                    "`answers after` needs how long it rings first, like `5s`".into(),
                    None,
                ));
            }
        },
        (Some("answers"), _) => (FarEndDoes::Answers { after: None }, 1),
        (Some("is"), Some("busy")) => (FarEndDoes::Busy, 2),
        (Some("is"), Some("unregistered")) => (FarEndDoes::Unregistered, 2),
        (Some("never"), Some("answers")) => (FarEndDoes::NeverAnswers, 2),
        (Some("is"), _) => {
            return Err(wrong(
                1,
                "`is` goes with `busy` or `unregistered`".into(),
                Some("write `is busy` or `is unregistered`".into()),
            ));
        }
        (Some("never"), _) => {
            return Err(wrong(
                1,
                "`never` goes with `answers`".into(),
                Some("write `never answers`".into()),
            ));
        }
        (Some(w), _) => {
            // The phrase each likely slip meant.
            let meant = match w {
                "busy" => Some("is busy"),
                "unregistered" | "offline" => Some("is unregistered"),
                "does" | "doesnt" | "rings" | "unanswered" => Some("never answers"),
                _ => crate::suggest::did_you_mean(w, ["answers", "busy", "unregistered", "never"])
                    .map(|s| match s {
                        "busy" => "is busy",
                        "unregistered" => "is unregistered",
                        "never" => "never answers",
                        other => other,
                    }),
            };
            let help = match meant {
                Some(m) => format!("did you mean `{m}`? One of: {FAR_END_PHRASES}"),
                None => format!("one of: {FAR_END_PHRASES}"),
            };
            return Err(wrong(
                0,
                format!("`{w}` is not something a far end does"),
                Some(help),
            ));
        }
        (None, _) => {
            return Err(wrong(
                0,
                "expected what it does, like `is busy`".into(),
                Some(format!("one of: {FAR_END_PHRASES}")),
            ));
        }
    };
    if used < words.len() {
        return Err(wrong(
            used,
            "unexpected word after what the far end does".into(),
            None,
        ));
    }
    Ok(does)
}

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
        "extension" | "queue" | "trunk" => {
            let (party, name) = match verb.as_str() {
                "trunk" => {
                    let (name, span) = w.text("the trunk's name in quotes")?;
                    (FarEndParty::Trunk, Ident { name, span })
                }
                kind => {
                    let v = w.value(if kind == "queue" {
                        "a queue number"
                    } else {
                        "an extension number"
                    })?;
                    let Some(name) = v.literal() else {
                        w.fail(
                            v.span,
                            format!("expected the {kind}'s number"),
                            "not a number",
                        );
                        return None;
                    };
                    let party = if kind == "queue" {
                        FarEndParty::Queue
                    } else {
                        FarEndParty::Extension
                    };
                    (party, Ident { name, span: v.span })
                }
            };
            let does = far_end_words(w, name.span)?;
            if party == FarEndParty::Queue && does == FarEndDoes::Unregistered {
                w.fail_help(
                    name.span.to(w.end_span()),
                    "a queue does not register: its agents' phones do".into(),
                    "not for a queue",
                    format!(
                        "when no agent can take the call, write `queue {} never answers` or \
                         `queue {} is busy`",
                        name.name, name.name
                    ),
                );
                return None;
            }
            StepKind::FarEnd { party, name, does }
        }
        "expect" => {
            if matches!(w.words.front(), Some(Word::Value(Value { kind: ValueKind::Var(p), .. })) if p.len() == 1 && p[0] == "connected")
            {
                w.words.pop_front();
                return Some(StepKind::ExpectConnected);
            }
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

/// The rest of a far-end step's words, after the name at `name`, read as what the far
/// end does.
fn far_end_words(w: &mut Words<'_, '_, '_>, name: crate::source::Span) -> Option<FarEndDoes> {
    let words: Vec<Word> = w.words.drain(..).collect();
    let phrase: Vec<PhraseWord> = words
        .iter()
        .map(|word| match word {
            Word::Value(v) => match &v.kind {
                ValueKind::Var(p) if p.len() == 1 => PhraseWord::Word(p[0].clone()),
                ValueKind::Duration(d) => PhraseWord::Duration(*d),
                ValueKind::Number(n) => PhraseWord::Number(n.clone()),
                _ => PhraseWord::Other,
            },
            _ => PhraseWord::Other,
        })
        .collect();
    match far_end_phrase(&phrase) {
        Ok(does) => Some(does),
        Err(e) => {
            let span = match words.get(e.at) {
                Some(word) => word.span(),
                None => {
                    let s = words.last().map(Word::span).unwrap_or(name);
                    crate::source::Span { start: s.end, ..s }
                }
            };
            match e.help {
                Some(help) => w.fail_help(span, e.message, e.label, help),
                None => w.fail(span, e.message, e.label),
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PhraseWord, far_end_phrase};
    use crate::ast::FarEndDoes;
    use std::time::Duration;

    fn words(text: &str) -> Vec<PhraseWord> {
        text.split_whitespace()
            .map(|w| match w {
                "5s" => PhraseWord::Duration(Duration::from_secs(5)),
                "5" => PhraseWord::Number("5".into()),
                w => PhraseWord::Word(w.into()),
            })
            .collect()
    }

    #[test]
    fn every_far_end_phrase_reads_as_what_it_says() {
        let read = |t: &str| far_end_phrase(&words(t));
        assert_eq!(read("answers"), Ok(FarEndDoes::Answers { after: None }));
        assert_eq!(
            read("answers after 5s"),
            Ok(FarEndDoes::Answers {
                after: Some(Duration::from_secs(5))
            })
        );
        assert_eq!(read("is busy"), Ok(FarEndDoes::Busy));
        assert_eq!(read("never answers"), Ok(FarEndDoes::NeverAnswers));
        assert_eq!(read("is unregistered"), Ok(FarEndDoes::Unregistered));
    }

    #[test]
    fn a_wrong_phrase_names_the_word_and_the_likely_fix() {
        let err = |t: &str| far_end_phrase(&words(t)).unwrap_err();
        let e = err("busy");
        assert_eq!(e.at, 0);
        assert!(e.help.unwrap().starts_with("did you mean `is busy`?"));
        let e = err("answers after 5");
        assert_eq!((e.at, e.message.as_str()), (2, "`5` has no unit"));
        let e = err("is busy now");
        assert_eq!(e.at, 2);
        let e = err("");
        assert_eq!((e.at, e.label), (0, "something is missing here"));
    }
}
