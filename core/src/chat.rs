//! Chat routing: which queue or extension gets an incoming chat, by the plan's `chat`
//! routes (docs/language.md, section 11).
//!
//! Like the call engine this is sans-IO: the message and the office time are handed in,
//! and the answer says where the chat goes and why. Conditions and targets run in the
//! lowered program form through the same evaluator as calls (`crate::evaluate`); only
//! the `Facts` differ. Rules, where the docs leave room:
//!
//! - Only routes of the message's channel take part.
//! - A route with a number (`chat sms "+12605550100"`) only takes messages written to
//!   that number. Phone numbers compare as digits with the US country code, so
//!   `+12605550100`, `12605550100`, `2605550100` and `(260) 555-0100` are one number;
//!   anything that is not a phone number (a Facebook page name, say) must be equal as
//!   written. A message without `to` only meets routes without a number.
//! - Order: routes with `when` first (as for `dial` and `inbound` routes, "`when` routes
//!   are tried before the route without `when`"), then routes for a specific number
//!   before routes for any number, then source order. The checker (`check_chats`) only
//!   forbids two routes for the same channel and number without `when`, so among routes
//!   without `when` at most one per number and one for any number exist, and the
//!   specific one must be tried first for it to ever win.
//! - A `when` that fails (a script error or limit, a built-in that needs a call) counts
//!   as false and leaves a note: one broken condition must not stop every chat.
//! - In a condition, `msg.channel`, `msg.from`, `msg.to`, `msg.text` and `msg.language`
//!   are the message (`to` is empty when the message has none; `language` falls back to
//!   the plan's `language` setting), `language` is the chat's language and `operator`
//!   the operator setting. A chat has no `caller`, `dialled`, `mailbox` or flow
//!   variables: using one is an error (the route is skipped with a note), because an
//!   empty stand-in would make `!=` quietly true. Scripts see `msg` and `time`; their
//!   `caller`, `dialled` and `vars` are empty.
//! - Built-ins answered from the plan alone (`is_extension`, `has_voicemail`,
//!   `hot_desk_allowed`, `is_agent`, `is_manager`) work; those that need the office's
//!   state or a call (`pin_ok`, `park_occupied`, `has_message`, `has_new_messages`) fail.
//! - Targets are normally literal numbers; any other value is worked out like a value in
//!   a condition, and a target that fails skips the route with a note.

pub mod placement;
pub mod sms_number;
pub mod visibility;

use crate::evaluate::{self, Facts};
use crate::numbers::same_number;
use crate::office;
use switchboard_dsl::ast::{Channel, Poll};
use switchboard_dsl::ir::{Builtin, ChatTargetOperand};
use switchboard_dsl::script::{CallView, WallTime};
use switchboard_dsl::{Plan, Span};

/// An incoming chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub channel: Channel,
    /// Who wrote: a phone number, a Facebook id, a live-chat visitor.
    pub from: String,
    /// The number (or page) written to, where the channel has one.
    pub to: Option<String>,
    pub text: String,
    /// The customer's language when known (`"de"`); else the plan's `language` setting.
    pub language: Option<String>,
}

/// Where a chat goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatDestination {
    Queue { queue: String, poll: Poll },
    Extension(String),
}

/// The answer for one chat: where it goes, which route said so, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatRouting {
    /// `None` when no route takes the chat.
    pub destination: Option<ChatDestination>,
    /// The span of the chat route that matched.
    pub route: Option<Span>,
    /// What was tried, in order: conditions that did not hold or failed (with the script
    /// error), and the route taken.
    pub notes: Vec<String>,
}

/// Routes `msg` by the plan's `chat` routes at office time `time`.
pub fn route_chat(plan: &Plan, msg: &ChatMessage, time: WallTime) -> ChatRouting {
    let mut out = ChatRouting::default();
    let mut order: Vec<usize> = (0..plan.chats.len())
        .filter(|&i| {
            let c = &plan.chats[i];
            c.channel == msg.channel
                && c.number
                    .as_ref()
                    .is_none_or(|(n, _)| msg.to.as_deref().is_some_and(|to| same_number(n, to)))
        })
        .collect();
    order.sort_by_key(|&i| {
        let c = &plan.chats[i];
        (c.condition.is_none(), c.number.is_none(), i)
    });
    let mut facts = ChatFacts::new(plan, msg, time);
    for i in order {
        let route = &plan.chats[i];
        let at = plan.location(route.span);
        let program = &plan.program.chats[i];
        if let Some(cond) = &program.when {
            match evaluate::condition(plan, cond, &mut facts) {
                Ok(true) => {}
                Ok(false) => {
                    out.notes.push(format!("{at}: the condition does not hold"));
                    continue;
                }
                Err(e) => {
                    out.notes.push(format!(
                        "{at}: the condition failed: {e}; the route is skipped"
                    ));
                    continue;
                }
            }
        }
        match target(plan, &program.target, &mut facts) {
            Ok(d) => {
                out.notes.push(format!(
                    "{at}: {} chat{} goes to {}",
                    msg.channel.as_str(),
                    msg.to
                        .as_ref()
                        .map(|t| format!(" to {t}"))
                        .unwrap_or_default(),
                    describe(&d)
                ));
                out.destination = Some(d);
                out.route = Some(route.span);
                return out;
            }
            Err(e) => out.notes.push(format!(
                "{at}: the target failed: {e}; the route is skipped"
            )),
        }
    }
    out.notes.push(format!(
        "no chat route takes a {} chat{}",
        msg.channel.as_str(),
        msg.to
            .as_ref()
            .map(|t| format!(" to {t}"))
            .unwrap_or_default()
    ));
    out
}

fn describe(d: &ChatDestination) -> String {
    match d {
        ChatDestination::Queue { queue, poll } => match poll {
            Poll::All => format!("queue {queue} (poll all)"),
            Poll::Top(n) => format!("queue {queue} (poll top {n})"),
        },
        ChatDestination::Extension(e) => format!("extension {e}"),
    }
}

/// Where a chat route sends this chat.
fn target(
    plan: &Plan,
    target: &ChatTargetOperand,
    facts: &mut ChatFacts<'_>,
) -> Result<ChatDestination, String> {
    Ok(match target {
        ChatTargetOperand::Queue { number, poll } => ChatDestination::Queue {
            queue: evaluate::value(plan, number, facts)?,
            poll: *poll,
        },
        ChatTargetOperand::Extension(v) => {
            ChatDestination::Extension(evaluate::value(plan, v, facts)?)
        }
    })
}

/// What a chat route's values mean: the message, its language, the plan alone.
struct ChatFacts<'a> {
    plan: &'a Plan,
    msg: &'a ChatMessage,
    language: String,
    view: CallView,
}

impl<'a> ChatFacts<'a> {
    fn new(plan: &'a Plan, msg: &'a ChatMessage, time: WallTime) -> ChatFacts<'a> {
        let language = msg
            .language
            .clone()
            .unwrap_or_else(|| plan.settings.language.clone());
        let mut view = CallView {
            time,
            ..CallView::default()
        };
        for (k, v) in [
            ("channel", msg.channel.as_str().to_string()),
            ("from", msg.from.clone()),
            ("to", msg.to.clone().unwrap_or_default()),
            ("text", msg.text.clone()),
            ("language", language.clone()),
        ] {
            view.msg.insert(k.to_string(), v);
        }
        ChatFacts {
            plan,
            msg,
            language,
            view,
        }
    }
}

impl Facts for ChatFacts<'_> {
    fn variable(&self, name: &str) -> Result<String, String> {
        let field = |f: &str| -> Option<String> {
            Some(match f {
                "channel" => self.msg.channel.as_str().to_string(),
                "from" => self.msg.from.clone(),
                "to" => self.msg.to.clone().unwrap_or_default(),
                "text" => self.msg.text.clone(),
                "language" => self.language.clone(),
                _ => return None,
            })
        };
        let path: Vec<&str> = name.split('.').map(str::trim).collect();
        match path.as_slice() {
            ["msg", f] => field(f).ok_or_else(|| {
                format!("a chat message has no `{f}`; it has channel, from, to, text and language")
            }),
            ["language"] => Ok(self.language.clone()),
            ["operator"] => self
                .plan
                .settings
                .operator
                .as_ref()
                .map(|(o, _)| o.clone())
                .ok_or_else(|| "no operator is set".to_string()),
            _ => Err(format!(
                "`{name}` has no value in a chat route; use msg.channel, msg.from, msg.to, msg.text or msg.language"
            )),
        }
    }

    fn view(&self) -> CallView {
        self.view.clone()
    }

    /// The built-ins a chat can answer: those that only ask the plan.
    fn builtin(&mut self, function: Builtin, args: &[String]) -> Result<bool, String> {
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
        let plan = self.plan;
        Ok(match function {
            Builtin::IsExtension => office::is_extension(plan, arg(0)),
            Builtin::HasVoicemail => office::has_voicemail(plan, arg(0)),
            Builtin::HotDeskAllowed => office::hot_desk_allowed(plan, arg(0)),
            Builtin::IsAgent => office::is_agent(plan, arg(0)),
            Builtin::IsManager => office::is_manager(plan, arg(0)),
            Builtin::PinOk
            | Builtin::ParkOccupied
            | Builtin::HasMessage
            | Builtin::HasNewMessages => {
                return Err(format!(
                    "`{}()` needs a call or the office's state, which a chat route does not have",
                    function.name()
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use switchboard_dsl::{PromptCatalog, SourceFile, Sources, compile};

    fn plan(text: &str) -> Arc<Plan> {
        let mut s = Sources::new();
        s.add(SourceFile::new("t.dial", text));
        let c = compile(s, &PromptCatalog::unchecked());
        match c.plan {
            Some(p) => p,
            None => panic!("the plan does not compile: {:#?}", c.diagnostics),
        }
    }

    /// A shipped plan folder, compiled in (`chat.dial` needs the folder's extensions and
    /// queues); the test reads no files.
    fn shipped(files: &[(&str, &str)]) -> Arc<Plan> {
        let mut s = Sources::new();
        for (path, text) in files {
            s.add(SourceFile::new(*path, *text));
        }
        let c = compile(s, &PromptCatalog::unchecked());
        match c.plan {
            Some(p) => p,
            None => panic!("the shipped plan does not compile: {:#?}", c.diagnostics),
        }
    }

    macro_rules! plan_files {
        ($dir:literal: $($file:literal),*) => {
            &[$(($file, include_str!(concat!("../../", $dir, "/", $file)))),*]
        };
    }

    fn msg(channel: Channel, to: Option<&str>) -> ChatMessage {
        ChatMessage {
            channel,
            from: "+15551230000".into(),
            to: to.map(String::from),
            text: "hello".into(),
            language: None,
        }
    }

    fn queue(q: &str, poll: Poll) -> Option<ChatDestination> {
        Some(ChatDestination::Queue {
            queue: q.into(),
            poll,
        })
    }

    fn ext(e: &str) -> Option<ChatDestination> {
        Some(ChatDestination::Extension(e.into()))
    }

    fn route(plan: &Plan, m: &ChatMessage) -> ChatRouting {
        route_chat(plan, m, WallTime::default())
    }

    const OFFICE: &str = r#"
extension 102 "Bruno Braun" { voicemail; language "de" }
extension 103 "Carla"       { voicemail }
extension 104 "David"       { voicemail }
queue 800 "Sales"   { agents 102, 103, 104 }
queue 801 "Support" { agents 103, 104 }

chat livechat when `msg.language == "de"`  -> extension 102
chat livechat                               -> queue 801
chat whatsapp "+12605550100"                -> queue 800 poll top 3
chat facebook                               -> queue 800
chat sms      "+12605550100"                -> queue 800 poll all
chat sms      "+12605550101"                -> extension 103
"#;

    #[test]
    fn each_channel_has_its_own_routes() {
        let p = plan(OFFICE);
        assert_eq!(
            route(&p, &msg(Channel::LiveChat, None)).destination,
            queue("801", Poll::All)
        );
        assert_eq!(
            route(&p, &msg(Channel::Facebook, None)).destination,
            queue("800", Poll::All)
        );
        assert_eq!(
            route(&p, &msg(Channel::WhatsApp, Some("+12605550100"))).destination,
            queue("800", Poll::Top(3))
        );
        assert_eq!(
            route(&p, &msg(Channel::Sms, Some("+12605550100"))).destination,
            queue("800", Poll::All)
        );
        let r = route(&p, &msg(Channel::Sms, Some("+12605550101")));
        assert_eq!(r.destination, ext("103"));
        let span = r.route.unwrap();
        let text = &p.sources.get(span.file).text[span.range()];
        assert!(text.starts_with("chat sms      \"+12605550101\""), "{text}");
    }

    #[test]
    fn a_numbered_route_only_takes_its_number_in_any_spelling() {
        let p = plan(OFFICE);
        for to in ["2605550101", "12605550101", "+1 (260) 555-0101"] {
            assert_eq!(
                route(&p, &msg(Channel::Sms, Some(to))).destination,
                ext("103"),
                "{to}"
            );
        }
        // No route for that number, and none for any number: nobody gets it.
        let r = route(&p, &msg(Channel::Sms, Some("+12605550199")));
        assert_eq!(r.destination, None);
        assert_eq!(r.route, None);
        assert!(
            r.notes.last().unwrap().contains("no chat route"),
            "{:?}",
            r.notes
        );
        // A message with no `to` never meets a route for a number.
        assert_eq!(route(&p, &msg(Channel::WhatsApp, None)).destination, None);
    }

    #[test]
    fn a_specific_number_wins_over_any_number_whatever_the_order() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
chat sms                 -> extension 101
chat sms "+12605550100"  -> extension 102
"#,
        );
        assert_eq!(
            route(&p, &msg(Channel::Sms, Some("+12605550100"))).destination,
            ext("102")
        );
        assert_eq!(
            route(&p, &msg(Channel::Sms, Some("+12605550111"))).destination,
            ext("101")
        );
        assert_eq!(route(&p, &msg(Channel::Sms, None)).destination, ext("101"));
    }

    #[test]
    fn when_routes_are_tried_first() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
chat livechat                                   -> extension 101
chat livechat when msg.text == "Rechnung"       -> extension 102
"#,
        );
        let mut m = msg(Channel::LiveChat, None);
        assert_eq!(route(&p, &m).destination, ext("101"));
        m.text = "Rechnung".into();
        assert_eq!(route(&p, &m).destination, ext("102"));
    }

    #[test]
    fn a_german_chat_goes_to_bruno() {
        let p = plan(OFFICE);
        let mut m = msg(Channel::LiveChat, None);
        m.language = Some("de".into());
        let r = route(&p, &m);
        assert_eq!(r.destination, ext("102"));
        assert!(
            r.notes.last().unwrap().contains("extension 102"),
            "{:?}",
            r.notes
        );
        m.language = Some("fr".into());
        let r = route(&p, &m);
        assert_eq!(r.destination, queue("801", Poll::All));
        assert!(r.notes[0].contains("does not hold"), "{:?}", r.notes);
    }

    #[test]
    fn a_message_without_language_has_the_plan_language() {
        let p = plan(&format!("settings {{\n    language = \"de\"\n}}\n{OFFICE}"));
        assert_eq!(
            route(&p, &msg(Channel::LiveChat, None)).destination,
            ext("102")
        );
    }

    #[test]
    fn plain_comparisons_and_scripts_see_the_message_and_time() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
extension 103 "Carla" { voicemail }
script is_urgent(text) {
    text.contains("urgent")
}
chat sms when is_urgent(msg.text) and not language == "de"  -> extension 101
chat sms when `time.hour >= 18 || msg.from == "+15550000000"` -> extension 102
chat sms                                                       -> extension 103
"#,
        );
        let mut m = msg(Channel::Sms, Some("+12605550100"));
        m.text = "this is urgent".into();
        assert_eq!(route(&p, &m).destination, ext("101"));
        m.language = Some("de".into());
        assert_eq!(route(&p, &m).destination, ext("103"));
        let evening = WallTime {
            hour: 19,
            ..WallTime::default()
        };
        assert_eq!(route_chat(&p, &m, evening).destination, ext("102"));
        m.from = "+15550000000".into();
        assert_eq!(route(&p, &m).destination, ext("102"));
    }

    #[test]
    fn a_script_that_hits_the_operation_limit_counts_as_false() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
script spins(text) {
    let n = 0;
    while text == "spin" { n += 1; }
    true
}
chat livechat when spins(msg.text) -> extension 101
chat livechat                      -> extension 102
"#,
        );
        let mut m = msg(Channel::LiveChat, None);
        m.text = "spin".into();
        let r = route(&p, &m);
        assert_eq!(r.destination, ext("102"));
        let note = &r.notes[0];
        assert!(note.starts_with("t.dial:9:"), "{note}");
        assert!(note.contains("script at t.dial:6:"), "{note}");
        assert!(note.contains("hit a limit"), "{note}");
        assert!(note.contains("100000 operations"), "{note}");
        // The same route works for every other message.
        m.text = "hello".into();
        assert_eq!(route(&p, &m).destination, ext("101"));
    }

    #[test]
    fn a_failing_back_quoted_condition_counts_as_false() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
chat livechat when `msg.text == "hello" && (msg.text + "").pad(5000, "!") != ""` -> extension 101
chat livechat                                                           -> extension 102
"#,
        );
        let r = route(&p, &msg(Channel::LiveChat, None));
        assert_eq!(r.destination, ext("102"));
        assert!(r.notes[0].contains("failed"), "{:?}", r.notes);
        assert!(r.notes[0].contains("hit a limit"), "{:?}", r.notes);
    }

    #[test]
    fn variables_a_chat_does_not_have_fail_the_condition() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
chat facebook when caller != "101" -> extension 101
chat facebook when is_agent(msg.from) or has_voicemail("102") -> extension 102
"#,
        );
        let r = route(&p, &msg(Channel::Facebook, None));
        assert_eq!(r.destination, ext("102"));
        assert!(
            r.notes[0].contains("`caller` has no value"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn no_route_for_the_channel_routes_nowhere() {
        let p = plan(
            r#"
extension 101 "Alice" { voicemail }
chat livechat -> extension 101
"#,
        );
        let r = route(&p, &msg(Channel::WhatsApp, Some("+12605550100")));
        assert_eq!(r.destination, None);
        assert_eq!(r.route, None);
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    }

    #[test]
    fn the_shipped_office_routes_its_chats() {
        let p = shipped(
            plan_files!("dialplans": "chat.dial", "features.dial", "ivr.dial",
            "office.dial", "routes.dial", "tests.dial", "voicemail.dial"),
        );
        let mut de = msg(Channel::LiveChat, None);
        de.language = Some("de".into());
        assert_eq!(route(&p, &de).destination, ext("102"));
        assert_eq!(
            route(&p, &msg(Channel::LiveChat, None)).destination,
            queue("801", Poll::All)
        );
        assert_eq!(
            route(&p, &msg(Channel::WhatsApp, Some("2605550100"))).destination,
            queue("800", Poll::Top(3))
        );
        assert_eq!(
            route(&p, &msg(Channel::Sms, Some("+12605550101"))).destination,
            ext("100")
        );
    }

    #[test]
    fn the_hotline_routes_its_chats() {
        let p = shipped(plan_files!("examples/hotline": "calls.dial", "chat.dial", "team.dial"));
        let wa = |lang: Option<&str>| ChatMessage {
            language: lang.map(String::from),
            ..msg(Channel::WhatsApp, Some("+13125550188"))
        };
        assert_eq!(route(&p, &wa(Some("de"))).destination, ext("4010"));
        assert_eq!(
            route(&p, &wa(None)).destination,
            queue("7004", Poll::Top(3))
        );
        assert_eq!(
            route(&p, &msg(Channel::Sms, Some("+18885550123"))).destination,
            queue("7002", Poll::All)
        );
        assert_eq!(
            route(&p, &msg(Channel::Sms, Some("+13125550188"))).destination,
            queue("7004", Poll::Top(1))
        );
        assert_eq!(
            route(&p, &msg(Channel::Facebook, None)).destination,
            queue("7004", Poll::All)
        );
        let mut de = msg(Channel::LiveChat, None);
        de.language = Some("de".into());
        assert_eq!(route(&p, &de).destination, queue("7003", Poll::All));
        assert_eq!(
            route(&p, &msg(Channel::LiveChat, None)).destination,
            queue("7004", Poll::Top(2))
        );
    }
}
