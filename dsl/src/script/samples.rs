//! The sample calls every script is tried on when the plan is checked.
//!
//! Together they hold every kind of value a script can see: a desk phone and an outside
//! caller (with and without a name), office hours, evenings, weekends and midnight, a
//! short and an international number dialled, every plan variable empty and set, and a
//! chat message on each channel. A script that fails on one of them because of how it is
//! written (a number compared with text, a property that does not exist) would fail on a
//! real call, so `check` reports it where it is written.

use super::view::{CallView, WallTime};
use std::collections::BTreeMap;

/// The fields of `msg`, the chat message a chat route's script sees. A call's script sees
/// the same fields, empty, so `msg.text` never fails for want of a field.
pub const MSG_FIELDS: &[&str] = &["channel", "from", "to", "text", "language"];

/// Values the sample calls give the parameters of a `script`: captures and variables
/// are always text.
pub const PARAMETER_SAMPLES: &[&str] = &["101", "", "+12605550100", "1234#"];

/// The sample calls, with `variables` (every variable the plan defines) set in some of
/// them and empty in others.
pub fn calls<'a>(variables: impl IntoIterator<Item = &'a str> + Clone) -> Vec<CallView> {
    let times = [
        // Monday morning, Friday evening, Saturday noon, Sunday midnight, New Year's Eve.
        (2026, 11, 23, 10, 0, 1),
        (2026, 11, 27, 18, 30, 5),
        (2026, 11, 28, 12, 0, 6),
        (2026, 11, 29, 0, 0, 7),
        (2026, 12, 31, 23, 59, 4),
    ];
    let callers = [
        ("101", "101", "Alice Smith"),
        ("", "+12605550123", ""),
        ("102", "102", ""),
        ("", "anonymous", ""),
        ("103", "103", "Bruno"),
    ];
    let dialled = ["999", "+12605550100", "*4102", "101", ""];
    let messages = [
        ("livechat", "visitor-1", "", "Hello, I need help", "en"),
        ("sms", "+12605550123", "+12605550100", "STOP", "en"),
        ("whatsapp", "+12605550123", "+12605550100", "Hallo", "de"),
        ("facebook", "1234567890", "", "", ""),
        ("", "", "", "", ""),
    ];
    let set_values = ["1234", "", "2", "+12605550123", "yes"];
    (0..times.len())
        .map(|i| {
            let (year, month, day, hour, minute, weekday) = times[i];
            let (extension, number, name) = callers[i];
            let (channel, from, to, text, language) = messages[i];
            CallView {
                caller_extension: extension.into(),
                caller_number: number.into(),
                caller_name: name.into(),
                dialled: dialled[i].into(),
                time: WallTime {
                    year,
                    month,
                    day,
                    hour,
                    minute,
                    weekday,
                },
                vars: variables
                    .clone()
                    .into_iter()
                    .map(|v| (v.to_string(), set_values[i].to_string()))
                    .collect(),
                msg: MSG_FIELDS
                    .iter()
                    .zip([channel, from, to, text, language])
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            }
        })
        .collect()
}
