//! Rhai's own words turned into the admin's: what went wrong and what to write instead.
//!
//! Admins who write a condition mostly know another language — the dial language's `#`
//! comments and `or`/`and`, a spreadsheet's `=` — so the commonest slips get a message
//! that names the fix; anything else keeps Rhai's message, without its position (the
//! diagnostic shows the place).

use rhai::EvalAltResult;

/// The message and help for a script Rhai cannot read. `at` is the byte offset of the
/// error inside `code`.
pub fn syntax(code: &str, at: u32, rhai_message: &str) -> (String, String) {
    let rhai_message = strip_position(rhai_message);
    let at = (at as usize).min(code.len());
    let rest = code.get(at..).unwrap_or("");
    let before = code.get(..at).unwrap_or("");
    let word = leading_word(rest);
    let previous_word = before.trim_end().rsplit(|c: char| !is_word(c)).next();
    if let Some(word) = disabled_word(&rhai_message)
        && let Some(help) = super::sandbox::left_out(word)
    {
        return (
            format!("`{word}` is not available in scripts"),
            help.to_string(),
        );
    }
    if rest.starts_with('#') || rhai_message.contains("'#'") {
        return (
            "`#` does not start a comment in a script".into(),
            "scripts are Rhai: write comments with `//`".into(),
        );
    }
    for (dial, rhai) in [("or", "||"), ("and", "&&"), ("not", "!")] {
        if word == dial || previous_word == Some(dial) {
            return (
                format!("`{dial}` is not a word in scripts"),
                format!("scripts are Rhai: write `{rhai}` instead of `{dial}`"),
            );
        }
    }
    if rhai_message.contains("'='") || rest.starts_with('=') && !rest.starts_with("==") {
        return (
            "`=` sets a variable; it does not compare".into(),
            "to compare, write `==` (and `!=` for not equal)".into(),
        );
    }
    (
        format!("Rhai: {rhai_message}"),
        "this is Rhai code; see docs/language.md, section Scripts".into(),
    )
}

/// The word of Rhai's "reserved keyword 'print' is disabled".
/// Also "'import' is a reserved keyword", which Rhai says of a disabled statement word.
fn disabled_word(rhai_message: &str) -> Option<&str> {
    let rest = rhai_message
        .strip_suffix("' is disabled")
        .or_else(|| rhai_message.strip_suffix("' is a reserved keyword"))?;
    Some(&rest[rest.rfind('\'')? + 1..])
}

/// A failed run's message, without Rhai's position.
pub fn run_message(e: &EvalAltResult) -> String {
    match e {
        EvalAltResult::ErrorFunctionNotFound(signature, _) => function_not_found(signature),
        EvalAltResult::ErrorPropertyNotFound(name, _) => {
            format!("there is no `{name}` here")
        }
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => run_message(inner),
        other => strip_position(&other.to_string()),
    }
}

/// The help line for a failed run, from its message.
pub fn run_help(message: &str) -> String {
    if message.contains("a number and text") || message.contains("text and a number") {
        "text and numbers do not compare: write a number in quotes to compare text, or use `parse_int(...)` to turn text into a number".into()
    } else if message.starts_with("there is no `") {
        "the call's values are `caller.extension`, `caller.number`, `caller.name`, `dialled`, `time.hour`/`minute`/`weekday`/`day`/`month`/`year`, `vars.NAME` for the plan's variables and `msg.text`/`channel`/`from`/`to`/`language` in chat routes".into()
    } else {
        "a script must return a value for every call; check the names and values it uses".into()
    }
}

/// Whether a failure comes from the script's own text — it would fail for any call that
/// reaches it — rather than from one call's values (a division by zero, a number that
/// does not parse).
pub fn is_the_scripts_own(e: &EvalAltResult) -> bool {
    match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => is_the_scripts_own(inner),
        EvalAltResult::ErrorFunctionNotFound(..)
        | EvalAltResult::ErrorPropertyNotFound(..)
        | EvalAltResult::ErrorVariableNotFound(..)
        | EvalAltResult::ErrorIndexingType(..)
        | EvalAltResult::ErrorMismatchDataType(..)
        | EvalAltResult::ErrorMismatchOutputType(..)
        | EvalAltResult::ErrorFor(..)
        | EvalAltResult::ErrorDotExpr(..)
        | EvalAltResult::ErrorUnboundThis(..) => true,
        _ => false,
    }
}

/// Rhai appends " (line 2, position 5)" to messages; the diagnostic shows the place instead.
pub fn strip_position(s: &str) -> String {
    match s.rfind(" (line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// "Function not found: > (i64, &str | ImmutableString | String)" in the admin's words.
fn function_not_found(signature: &str) -> String {
    let (name, args) = match signature.split_once(" (") {
        Some((name, args)) => (name.trim(), args.trim_end_matches(')')),
        None => (signature.trim(), ""),
    };
    let kinds: Vec<&str> = split_top_level(args).map(kind_of).collect();
    let is_operator = !name.starts_with(|c: char| c.is_alphabetic() || c == '_');
    match kinds.as_slice() {
        [a, b] if is_operator => format!("`{name}` cannot take {} and {}", article(a), kind(b)),
        [] => format!("`{name}` needs something to work on"),
        _ if is_operator => format!("`{name}` cannot take {}", kinds.join(" and ")),
        _ => format!(
            "`{name}` does not take {}",
            kinds
                .iter()
                .map(|k| article(k))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn split_top_level(args: &str) -> impl Iterator<Item = &str> {
    args.split(", ").map(str::trim).filter(|a| !a.is_empty())
}

/// Rhai's Rust type names as the admin knows the values.
fn kind_of(rust_type: &str) -> &'static str {
    let t = rust_type.trim();
    if t.contains("String") || t.contains("str") || t == "char" {
        "text"
    } else if t == "i64" || t == "i32" || t == "f64" || t == "f32" || t.contains("INT") {
        "number"
    } else if t == "bool" {
        "true/false"
    } else if t.contains("Map") {
        "map"
    } else if t.contains("Array") || t.contains("Vec") {
        "array"
    } else if t == "()" {
        "nothing"
    } else {
        "value"
    }
}

fn article(kind: &str) -> String {
    match kind {
        "text" | "nothing" | "true/false" => kind.to_string(),
        "array" => "an array".into(),
        _ => format!("a {kind}"),
    }
}

fn kind(k: &str) -> String {
    article(k)
}

fn leading_word(s: &str) -> &str {
    let end = s.find(|c: char| !is_word(c)).unwrap_or(s.len());
    &s[..end]
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_compared_with_text_is_named_in_plain_words() {
        assert_eq!(
            function_not_found("> (i64, &str | ImmutableString | String)"),
            "`>` cannot take a number and text"
        );
        assert_eq!(
            function_not_found("== (&str | ImmutableString | String, i64)"),
            "`==` cannot take text and a number"
        );
    }
}
