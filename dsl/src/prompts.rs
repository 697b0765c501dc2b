//! The recorded prompts a plan may play, per language, as the caller found them on disk.

use std::collections::{BTreeMap, BTreeSet};

/// Prompt names (`vm-main`, `digits/1`) available in each language set (`en`, `de`).
#[derive(Clone, Debug, Default)]
pub struct PromptCatalog {
    pub languages: BTreeMap<String, BTreeSet<String>>,
    /// When false, prompts are not checked at all (a plan checked without its prompts).
    pub enabled: bool,
}

impl PromptCatalog {
    /// A catalog that accepts any prompt: for checking a plan away from its prompts folder.
    pub fn unchecked() -> PromptCatalog {
        PromptCatalog::default()
    }

    pub fn add(&mut self, language: &str, prompt: &str) {
        self.enabled = true;
        self.languages
            .entry(language.to_string())
            .or_default()
            .insert(prompt.to_string());
    }

    pub fn has_language(&self, language: &str) -> bool {
        !self.enabled || self.languages.contains_key(language)
    }

    pub fn has(&self, language: &str, prompt: &str) -> bool {
        !self.enabled
            || self
                .languages
                .get(language)
                .is_some_and(|set| set.contains(prompt))
    }

    pub fn names(&self, language: &str) -> impl Iterator<Item = &str> {
        self.languages
            .get(language)
            .into_iter()
            .flat_map(|s| s.iter().map(String::as_str))
    }
}

/// Prompts the engine plays on its own for a step, so they must exist wherever the step
/// is used. The names are the contract between the engine and the `prompts/` folder.
pub fn system_prompts(step: &crate::ast::StepKind) -> impl Iterator<Item = &'static str> {
    use crate::ast::{MailboxOp, StepKind};
    // Leaving a message: the default greeting says the extension's digits.
    const VOICEMAIL: &[&str] = &["vm-unavailable", "vm-is-unavailable", "beep", "vm-saved"];
    let (named, digits): (&'static [&'static str], &'static [&'static str]) = match step {
        StepKind::Say { .. } => (&[], DIGITS),
        StepKind::Record { .. } => (&["beep"], &[]),
        StepKind::Confirm => (&["vm-review", "vm-saved"], &[]),
        // An extension that does not answer sends the caller to its voicemail.
        StepKind::Voicemail(_) | StepKind::Extension { .. } => (VOICEMAIL, &DIGITS[..10]),
        // A name found is connected like `extension`, so voicemail may follow.
        StepKind::Directory => (
            &[
                "dir-intro",
                "dir-no-match",
                "dir-confirm",
                "vm-unavailable",
                "vm-is-unavailable",
                "beep",
                "vm-saved",
            ],
            &DIGITS[..10],
        ),
        // Callers hear hold music while the agents ring.
        StepKind::Queue(_) => (&["queue-full", HOLD_MUSIC], &[]),
        StepKind::QueueLogin { .. } => (&["queue-logged-in", "not-allowed"], &[]),
        StepKind::QueueLogout { .. } => (&["queue-logged-out", "not-allowed"], &[]),
        // A phone nobody is logged in to hears `not-allowed` for anything but logging in.
        StepKind::HotDeskLogin(_) => (
            &[
                "hotdesk-logged-in",
                "hotdesk-not-allowed",
                "not-allowed",
                "vm-locked",
                "vm-pin-was-locked",
            ],
            &[],
        ),
        // A PIN check may find the mailbox locked after too many wrong PINs, or tell its
        // owner that it was.
        StepKind::If { branches, .. } if branches.iter().any(|(c, _)| checks_a_pin(c)) => {
            (&["vm-locked", "vm-pin-was-locked"], &[])
        }
        StepKind::HotDeskLogout => (&["hotdesk-logged-out", "hotdesk-not-allowed"], &[]),
        StepKind::Park(_) | StepKind::ParkToggle(_) => (&["park-parked", "park-empty"], &[]),
        StepKind::Unpark(_) => (&["park-empty"], &[]),
        StepKind::Mailbox(MailboxOp::Play) => (&["vm-message", "vm-no-messages"], &[]),
        // "You have" <count> "messages".
        StepKind::Mailbox(MailboxOp::SayCount { .. }) => {
            (&["vm-you-have", "vm-messages"], &DIGITS[..10])
        }
        StepKind::Mailbox(MailboxOp::SetPin(_)) => (&["vm-pin-changed", "vm-bad-pin"], &[]),
        _ => (&[], &[]),
    };
    named.iter().chain(digits).copied()
}

/// Whether a condition calls `pin_ok`, whose lock-out plays prompts of its own.
fn checks_a_pin(c: &crate::ast::Condition) -> bool {
    use crate::ast::{Condition, ValueKind};
    match c {
        Condition::Or(cs) | Condition::And(cs) => cs.iter().any(checks_a_pin),
        Condition::Not(c) => checks_a_pin(c),
        Condition::Call(v) => {
            matches!(&v.kind, ValueKind::Call { name, .. } if name.name == "pin_ok")
        }
        Condition::Compare { .. } | Condition::Script(_) => false,
    }
}

/// The music a caller hears while waiting in a queue, and a party hears while held.
pub const HOLD_MUSIC: &str = "hold-music";

/// The digit prompts `say` and the default greeting are built from.
pub const DIGITS: &[&str] = &[
    "digits/0",
    "digits/1",
    "digits/2",
    "digits/3",
    "digits/4",
    "digits/5",
    "digits/6",
    "digits/7",
    "digits/8",
    "digits/9",
    "digits/star",
    "digits/pound",
];
