//! What a call did, step by step, with the place in the plan that made it happen.
//!
//! Traces are how an admin sees a call: `switchboard simulate` prints them, `switchboard
//! test` shows them for a failed test, and the server keeps them per call.

use switchboard_dsl::{Plan, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The step (or route) responsible; `None` for the call's own bookkeeping.
    pub span: Option<Span>,
    pub what: Traced,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Traced {
    /// The number dialled matched this route (pattern) or inbound route.
    Route(String),
    /// A step ran, with its values worked out: `trunk main +18884564566`.
    Step {
        verb: &'static str,
        args: Vec<String>,
    },
    /// Media was sent to the caller: prompt names, or `recording:NAME`.
    Played(Vec<String>),
    /// Digits were collected, and how the collection ended.
    Digits { digits: String, ended: &'static str },
    /// A decision: a menu key, a timeout, a condition.
    Branch(String),
    /// An event that made no sense in the call's state; it changed nothing.
    Ignored(String),
    /// Something failed (a script, the store); what the call did about it follows.
    Error(String),
    /// The call is over.
    Ended(String),
}

/// The branch a call takes when someone it rang picks up (what `expect connected` finds).
pub const ANSWERED: &str = "answered";

/// Whether a branch says someone picked up: `answered`, or `104 answered` when the
/// agent of a queue who took the call is known (never `nobody answered`).
pub fn is_answered(branch: &str) -> bool {
    branch == ANSWERED
        || branch
            .strip_suffix(" answered")
            .is_some_and(|who| !who.is_empty() && who.bytes().all(|b| b.is_ascii_digit()))
}

/// What a secret (a PIN) is shown as, one per character: a trace still says how many
/// keys were typed, never which.
pub const MASK: char = '*';

/// A secret as everything the engine shows writes it.
pub fn masked(secret: &str) -> String {
    secret.chars().map(|_| MASK).collect()
}

impl TraceEntry {
    /// One line for people: `voicemail.dial:7  ask vm-enter-pin`.
    /// An entry no step made (the caller hung up) has no place in front.
    pub fn render(&self, plan: &Plan) -> String {
        match self.span {
            Some(s) => format!("{} {}", plan.location(s), self.what),
            None => self.what.to_string(),
        }
    }
}

impl std::fmt::Display for Traced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Traced::Route(r) => write!(f, "route {r}"),
            Traced::Step { verb, args } => {
                write!(f, "{verb}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            Traced::Played(media) => write!(f, "play {}", media.join(" ")),
            Traced::Digits { digits, ended } => write!(f, "digits \"{digits}\" ({ended})"),
            Traced::Branch(b) => write!(f, "-> {b}"),
            Traced::Ignored(e) => write!(f, "ignored: {e}"),
            Traced::Error(e) => write!(f, "error: {e}"),
            Traced::Ended(e) => write!(f, "ended: {e}"),
        }
    }
}
