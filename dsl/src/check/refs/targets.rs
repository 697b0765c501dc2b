//! References to the things a step acts on: prompts (recorded in every language the plan
//! uses, system prompts included), extensions, queues, mailboxes and park orbits.

use super::Ctx;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::prompts::system_prompts;
use crate::suggest::did_you_mean;
use std::collections::BTreeSet;

impl Ctx<'_> {
    /// A prompt must be recorded in every language the plan uses: one finding per prompt,
    /// naming each language it is missing in.
    pub(super) fn prompt(&mut self, v: &Value) {
        let Some(name) = v.literal() else {
            return self.value(v);
        };
        let missing: Vec<String> = self
            .languages
            .iter()
            .filter(|lang| !self.prompts.has(lang, &name))
            .cloned()
            .collect();
        let Some(first) = missing.first() else {
            return;
        };
        let candidates: Vec<&str> = self.prompts.names(first).collect();
        let help = match did_you_mean(&name, candidates) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "record it as {} (8 kHz, 16-bit, mono)",
                join_and(missing.iter().map(|l| format!("prompts/{l}/{name}.wav")))
            ),
        };
        self.diags.push(
            Diagnostic::error(
                "missing-prompt",
                v.span,
                format!(
                    "prompt `{name}` has no recording in {}",
                    join_and(missing.iter().map(|l| format!("prompts/{l}/")))
                ),
            )
            .label(format!(
                "no {}",
                join_and(missing.iter().map(|l| format!("prompts/{l}/{name}.wav")))
            ))
            .help(help),
        );
    }

    /// The prompts a step plays on its own. Each missing one is reported once, at the first
    /// step that needs it: every `extension` step needs the same voicemail prompts, and a
    /// language missing them should not give one finding per step.
    pub(super) fn system_prompts(&mut self, s: &Step) {
        let mut names: Vec<&str> = Vec::new();
        let mut langs: BTreeSet<String> = BTreeSet::new();
        for name in system_prompts(&s.kind) {
            for lang in &self.languages {
                if !self.prompts.has(lang, name)
                    && self.reported_system.insert((name, lang.clone()))
                {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                    langs.insert(lang.clone());
                }
            }
        }
        if names.is_empty() {
            return;
        }
        let shown = match names.len() {
            1..=3 => join_and(names.iter().map(|n| format!("`{n}`"))),
            n => format!(
                "{} and {} more",
                names[..2]
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                n - 2
            ),
        };
        let dirs = join_and(langs.iter().map(|l| format!("prompts/{l}/")));
        let which = if names.len() == 1 {
            "which has"
        } else {
            "which have"
        };
        self.diags.push(
            Diagnostic::error(
                "missing-prompt",
                s.span,
                format!("this step plays {shown}, {which} no recording in {dirs}"),
            )
            .label("needs system prompts")
            .help(format!(
                "record these into {dirs} (8 kHz, 16-bit, mono): {}",
                names
                    .iter()
                    .map(|n| format!("{n}.wav"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }

    pub(super) fn extension(&mut self, v: &Value) {
        match v.literal() {
            Some(n) if self.symbols.is_dialable(&n) => {}
            Some(n) => {
                let all: Vec<&str> = self
                    .symbols
                    .extensions
                    .keys()
                    .chain(self.symbols.queues.iter())
                    .map(String::as_str)
                    .collect();
                self.unknown("extension", &n, v.span, all.into_iter())
            }
            None => self.value(v),
        }
    }

    pub(super) fn queue(&mut self, v: &Value) {
        match v.literal() {
            Some(n) if self.symbols.queues.contains(&n) => {}
            Some(n) => self.unknown(
                "queue",
                &n,
                v.span,
                self.symbols.queues.iter().map(String::as_str),
            ),
            None => self.value(v),
        }
    }

    pub(super) fn mailbox(&mut self, v: &Value) {
        match v.literal() {
            Some(n) => match self.symbols.extensions.get(&n) {
                Some(true) => {}
                Some(false) => self.diags.push(
                    Diagnostic::error(
                        "no-voicemail",
                        v.span,
                        format!("extension `{n}` has no voicemail"),
                    )
                    .label("no mailbox")
                    .help(format!("add `voicemail` to the options of extension {n}")),
                ),
                None => self.unknown(
                    "mailbox",
                    &n,
                    v.span,
                    self.symbols.extensions.keys().map(String::as_str),
                ),
            },
            None => self.value(v),
        }
    }

    pub(super) fn orbit(&mut self, v: &Value) {
        match &v.kind {
            ValueKind::Text(parts) => {
                if let Some(name) = v.literal() {
                    if !self.symbols.orbits.contains(&name) {
                        self.unknown(
                            "park orbit",
                            &name,
                            v.span,
                            self.symbols.orbits.iter().map(String::as_str),
                        );
                    }
                } else {
                    // "SP{slot}": at least one orbit must start with the fixed part.
                    let prefix = match parts.first() {
                        Some(TextPart::Lit(s)) => s.as_str(),
                        _ => "",
                    };
                    if !self.symbols.orbits.iter().any(|o| o.starts_with(prefix)) {
                        self.unknown(
                            "park orbit",
                            &format!("{prefix}..."),
                            v.span,
                            self.symbols.orbits.iter().map(String::as_str),
                        );
                    }
                    self.value(v);
                }
            }
            _ => self.value(v),
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
