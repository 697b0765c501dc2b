//! Chat routes: `chat CHANNEL ["NUMBER"] [when COND] -> queue N [poll all|top K] | extension N`.

use super::conditions::read_condition;
use super::reader::Reader;
use super::values::string_contents;
use super::words::{Word, read_words};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::Rule;
use pest::iterators::Pair;

const USAGE: &str = "chat CHANNEL [\"NUMBER\"] -> queue NUMBER [poll all | poll top N]  \
                     or  chat CHANNEL -> extension NUMBER";

/// The words after `poll`.
const POLLS: &[&str] = &["all", "first", "top"];
const USAGE_POLL: &str = "`poll all`, `poll first` or `poll top N`";

pub fn read_chat(r: &mut Reader<'_>, item: Pair<'_, Rule>, span: Span) -> Option<ChatRoute> {
    let mut channel = Channel::LiveChat;
    let mut number = None;
    let mut condition = None;
    let mut target = None;
    for p in item.into_inner() {
        match p.as_rule() {
            Rule::channel => channel = Channel::parse(p.as_str()).unwrap_or(Channel::LiveChat),
            Rule::string => number = Some((string_contents(&p).to_string(), r.span(&p))),
            Rule::when => condition = Some(read_condition(r, p.into_inner().next().unwrap())),
            Rule::action => target = read_target(r, p),
            _ => {}
        }
    }
    if let Some((n, nspan)) = &number
        && matches!(channel, Channel::Sms | Channel::WhatsApp)
        && !is_us_e164(n)
    {
        r.error(
            Diagnostic::error(
                "bad-number",
                *nspan,
                format!("`{n}` is not a US number in +1 and 10 digits"),
            )
            .label("not +1NXXNXXXXXX")
            .help("write the number as +1 followed by the area code and number, like \"+12605550100\""),
        );
    }
    let (target, target_span) = target?;
    Some(ChatRoute {
        channel,
        number,
        condition,
        target,
        target_span,
        span,
    })
}

/// `+1` then ten digits, the area code and exchange not starting with 0 or 1.
pub fn is_us_e164(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() == 12
        && n.starts_with("+1")
        && b[2..].iter().all(u8::is_ascii_digit)
        && b[2] >= b'2'
        && b[5] >= b'2'
}

fn read_target(r: &mut Reader<'_>, action: Pair<'_, Rule>) -> Option<(ChatTarget, Span)> {
    let span = r.span(&action);
    let steps: Vec<_> = action.into_inner().collect();
    let bad = |r: &mut Reader<'_>, span: Span, msg: &str| {
        r.error(
            Diagnostic::error("bad-chat-target", span, msg.to_string())
                .label("not a chat target")
                .help(format!("write it as: {USAGE}")),
        );
        None
    };
    let [step] = steps.as_slice() else {
        return bad(r, span, "a chat goes to one queue or one extension");
    };
    if step.as_rule() != Rule::step {
        return bad(r, span, "a chat goes to one queue or one extension");
    }
    let (verb, mut words, _) = read_words(r, step.clone());
    let next_value = |words: &mut std::collections::VecDeque<Word>| match words.pop_front() {
        Some(Word::Value(v)) => Some(v),
        _ => None,
    };
    let target = match verb.name.as_str() {
        "queue" => {
            let Some(number) = next_value(&mut words) else {
                return bad(r, span, "`queue` needs a queue number");
            };
            let mut poll = Poll::All;
            if let Some(Word::Value(v)) = words.front()
                && matches!(&v.kind, ValueKind::Var(p) if p[0] == "poll")
            {
                words.pop_front();
                let how = next_value(&mut words);
                poll = match how.as_ref().map(|v| &v.kind) {
                    Some(ValueKind::Var(p)) if p[0] == "all" => Poll::All,
                    Some(ValueKind::Var(p)) if p[0] == "first" => Poll::Top(1),
                    Some(ValueKind::Var(p)) if p[0] == "top" => {
                        match next_value(&mut words)
                            .and_then(|v| v.literal())
                            .and_then(|n| n.parse().ok())
                        {
                            Some(k) if k >= 1 => Poll::Top(k),
                            _ => {
                                return bad(
                                    r,
                                    span,
                                    "`poll top` needs a number of agents, like `poll top 3`",
                                );
                            }
                        }
                    }
                    other => {
                        // The word after `poll` is one of a closed set: name the near one.
                        let word = match other {
                            Some(ValueKind::Var(p)) => p.join("."),
                            _ => String::new(),
                        };
                        let at = how.as_ref().map_or(span, |v| v.span);
                        let help = match crate::suggest::did_you_mean(&word, POLLS.iter().copied())
                        {
                            Some(s) => format!("did you mean `poll {s}`? Write {USAGE_POLL}"),
                            None => format!("write {USAGE_POLL}"),
                        };
                        r.error(
                            Diagnostic::error(
                                "bad-chat-target",
                                at,
                                "`poll` is followed by `all`, `first` or `top N`",
                            )
                            .label("not a way to poll")
                            .help(help),
                        );
                        return None;
                    }
                };
            }
            ChatTarget::Queue { number, poll }
        }
        "extension" => match next_value(&mut words) {
            Some(v) => ChatTarget::Extension(v),
            None => return bad(r, span, "`extension` needs an extension number"),
        },
        _ => return bad(r, verb.span, "a chat goes to a `queue` or an `extension`"),
    };
    if let Some(w) = words.front() {
        let s = match w {
            Word::Value(v) | Word::Assign(v) => v.span,
            Word::Range { span, .. } => *span,
        };
        return bad(r, s, "unexpected word in a chat target");
    }
    Some((target, span))
}
