//! The `settings { ... }` block: office-wide defaults, each key checked for its type.

use crate::ast::{Setting, ValueKind};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Settings {
    /// How many digits an extension number has; every extension is checked against it.
    pub extension_digits: Option<usize>,
    /// The extension that `operator` means in a flow.
    pub operator: Option<(String, Span)>,
    /// The default prompt set, `prompts/<language>/`.
    pub language: String,
    pub timezone: String,
    /// How long an extension rings before its no-answer action.
    pub ring: Duration,
    /// How long to wait for the next digit when collecting digits.
    pub digit_timeout: Duration,
    /// Longest voicemail message or greeting.
    pub max_recording: Duration,
    /// A message shorter than this (a caller who hung up at the beep) is discarded, never
    /// counted; zero keeps every message.
    pub min_message: Duration,
    /// How many digits a voicemail PIN has at least.
    pub pin_min_digits: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            extension_digits: None,
            operator: None,
            language: "en".to_string(),
            timezone: "UTC".to_string(),
            ring: Duration::from_secs(20),
            digit_timeout: Duration::from_secs(5),
            max_recording: Duration::from_secs(180),
            min_message: Duration::from_secs(1),
            pin_min_digits: 4,
        }
    }
}

pub const KEYS: &[&str] = &[
    "extension_digits",
    "operator",
    "language",
    "timezone",
    "ring",
    "digit_timeout",
    "max_recording",
    "min_message",
    "pin_min_digits",
];

/// Reads every `settings` entry of every file; a key set twice is an error.
pub fn read(entries: &[Setting], diags: &mut Vec<Diagnostic>) -> Settings {
    let mut s = Settings::default();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for e in entries {
        let key = e.key.name.as_str();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            diags.push(
                Diagnostic::error(
                    "duplicate-setting",
                    e.key.span,
                    format!("`{key}` is set twice"),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("keep one of them"),
            );
            continue;
        }
        seen.push((key, e.key.span));
        let v = &e.value;
        let text = v.literal();
        let wrong = |what: &str, example: &str| {
            Diagnostic::error("bad-setting", v.span, format!("`{key}` must be {what}"))
                .label(format!("not {what}"))
                .help(format!("for example: {key} = {example}"))
        };
        match key {
            "extension_digits" | "pin_min_digits" => match &v.kind {
                ValueKind::Number(n)
                    if n.parse::<usize>().is_ok_and(|d| {
                        if key == "pin_min_digits" {
                            (4..=8).contains(&d)
                        } else {
                            (1..=12).contains(&d)
                        }
                    }) =>
                {
                    let d = n.parse().unwrap();
                    if key == "extension_digits" {
                        s.extension_digits = Some(d);
                    } else {
                        s.pin_min_digits = d;
                    }
                }
                _ if key == "pin_min_digits" => diags.push(wrong("a number from 4 to 8", "4")),
                _ => diags.push(wrong("a number from 1 to 12", "3")),
            },
            "operator" => match (&v.kind, text) {
                (ValueKind::Number(_) | ValueKind::Text(_), Some(t)) => {
                    s.operator = Some((t, v.span))
                }
                _ => diags.push(wrong("an extension number", "100")),
            },
            "language" => match (&v.kind, text) {
                (ValueKind::Text(_), Some(t)) if is_language(&t) => s.language = t,
                _ => diags.push(wrong("a language code in quotes", "\"en\"")),
            },
            "timezone" => match (&v.kind, text) {
                (ValueKind::Text(_), Some(t)) if is_timezone(&t) => s.timezone = t,
                (ValueKind::Text(_), Some(t)) => diags.push(unknown_timezone(&t, v.span)),
                _ => diags.push(wrong("a time zone name in quotes", "\"America/Chicago\"")),
            },
            "ring" | "digit_timeout" | "max_recording" => match v.kind {
                ValueKind::Duration(d) if !d.is_zero() => match key {
                    "ring" => s.ring = d,
                    "digit_timeout" => s.digit_timeout = d,
                    _ => s.max_recording = d,
                },
                ValueKind::Number(ref n) => {
                    diags.push(Diagnostic::no_unit(n, v.span, "bad-setting"))
                }
                _ => diags.push(wrong("a duration", "20s")),
            },
            // Zero keeps every message; a minimum over a minute would throw real ones away.
            "min_message" => match v.kind {
                ValueKind::Duration(d) if d <= Duration::from_secs(60) => s.min_message = d,
                ValueKind::Number(ref n) => {
                    diags.push(Diagnostic::no_unit(n, v.span, "bad-setting"))
                }
                _ => diags.push(wrong("a duration of at most 1m", "1s")),
            },
            _ => {
                let help = match crate::suggest::did_you_mean(key, KEYS.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("the settings are: {}", KEYS.join(", ")),
                };
                diags.push(
                    Diagnostic::error(
                        "unknown-setting",
                        e.key.span,
                        format!("unknown setting `{key}`"),
                    )
                    .label("not a setting")
                    .help(help),
                );
            }
        }
    }
    s
}

/// Two or three lowercase letters, optionally with a region: `en`, `de`, `pt-BR`.
pub fn is_language(s: &str) -> bool {
    let (lang, region) = s.split_once('-').unwrap_or((s, ""));
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && (region.is_empty()
            || region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase()))
}

/// A time zone of the IANA database bundled into the binary (`UTC`, `America/Chicago`).
/// The server reads office time through the same bundled database, so `check` and every
/// server agree on every name, whatever the machine has installed — and a zone that
/// passes here is the zone the server uses, never a silent fall-back to UTC.
pub fn is_timezone(s: &str) -> bool {
    jiff::tz::db().get(s).is_ok()
}

fn unknown_timezone(name: &str, span: crate::source::Span) -> Diagnostic {
    let names = jiff::tz::db().available();
    let names: Vec<String> = names.map(|n| n.to_string()).collect();
    let help = match crate::suggest::did_you_mean(name, names.iter().map(String::as_str)) {
        Some(near) => format!("did you mean \"{near}\"?"),
        None => "write an IANA time zone name, like \"America/Chicago\", \"America/New_York\" or \"UTC\"".to_string(),
    };
    Diagnostic::error("bad-setting", span, format!("`{name}` is not a time zone"))
        .label("no such time zone")
        .help(help)
}
