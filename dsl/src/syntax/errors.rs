//! Syntax errors in the admin's words: what pest expected, said plainly, with the fix for
//! the usual mistakes (a missing `->`, a word run into another, a duration without its
//! unit, an unclosed brace).

use super::{Rule, TOP_LEVEL, brackets};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use pest::error::{ErrorVariant, InputLocation};

/// Turns pest's error into a diagnostic that names what was expected in plain words.
pub(super) fn syntax_error(
    file: FileId,
    text: &str,
    offset: usize,
    e: pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = found_at(text, pos);
    let end = pos + found.len().max(1);
    let span = Span::new(file, offset + pos, offset + end.min(text.len()).max(pos));
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            names.sort_unstable();
            names.dedup();
            names
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let what = if found.is_empty() {
        "the end of the file".to_string()
    } else if found == "\n" || found == "\r\n" {
        "the end of the line".to_string()
    } else {
        format!("`{found}`")
    };
    if let Some(d) = inside_a_word(file, text, offset, pos) {
        return d;
    }
    if let Some(d) = number_without_unit(file, text, offset, pos) {
        return d;
    }
    if let Some(d) = unknown_unit(file, text, offset, pos) {
        return d;
    }
    if let Some(d) = does_not_answer(text, pos, found, span) {
        return d;
    }
    let wants_arrow = matches!(&e.variant, ErrorVariant::ParsingError { positives, .. }
        if positives.contains(&Rule::arrow));
    if let Some(d) = missing_arrow(text, pos, found, wants_arrow || expected.is_empty(), span) {
        return d;
    }
    let message = if expected.is_empty() {
        format!("unexpected {what}")
    } else {
        format!("expected {}, found {what}", join_or(&expected))
    };
    let help = hint_for(text, pos, &expected);
    let mut d = Diagnostic::error("syntax", span, message)
        .label(if expected.is_empty() {
            "not understood here".to_string()
        } else {
            format!("expected {} here", join_or(&expected))
        })
        .maybe_help(help);
    if found.is_empty()
        && let Some(open) = last_unclosed_brace(text)
    {
        d = d
            .related(
                Span::new(file, offset + open, offset + open + 1),
                "this `{` is never closed",
            )
            .help("add the missing `}`");
    }
    d
}

/// `extension 102 does not answer` in a test: `not` only joins conditions, so the phrase
/// cannot be a step's words; the test step says `never answers`.
fn does_not_answer(text: &str, pos: usize, found: &str, span: Span) -> Option<Diagnostic> {
    let before = text[..pos.min(text.len())].trim_end_matches([' ', '\t']);
    if found != "not" || !before.ends_with("does") {
        return None;
    }
    Some(
        Diagnostic::error("syntax", span, "`does not answer` cannot be written here")
            .label("`not` only joins conditions")
            .help("write `never answers`: the phone rings until the plan gives up"),
    )
}

/// A route, inbound route, chat route or menu key whose `->` is missing: `dial "999" flow
/// x` or `"1" hangup`. pest only says what else could have come (`when`, `to`), which
/// hides the real fix, so the message names the arrow and the help shows the line with it.
fn missing_arrow(
    text: &str,
    pos: usize,
    found: &str,
    wants_arrow: bool,
    span: Span,
) -> Option<Diagnostic> {
    let before = text[..pos.min(text.len())].trim_end_matches([' ', '\t']);
    // A menu key is a quoted string followed by an action; pest gives up on the menu entry
    // without naming what it wanted (`wants_arrow` is then set by the caller for an empty
    // list), so the quote right before a word is the clue.
    if !wants_arrow
        || !before.ends_with(['"', '`', ')']) && !before.ends_with(char::is_alphanumeric)
    {
        return None;
    }
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos..]
        .find(['\r', '\n'])
        .map_or(text.len(), |i| pos + i);
    // Only lines that lead somewhere take an arrow; after a step, `->` is where a result
    // is stored, and a step followed by `{` is something else gone wrong.
    let first_word = text[line_start..pos]
        .trim_start()
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    // The options `then` and `no_answer` lead somewhere too, wherever they are on a line.
    let last_word = text[line_start..pos]
        .trim_end()
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let leads_somewhere = text[line_start..pos].trim_start().starts_with('"')
        || ["dial", "inbound", "chat", "timeout", "invalid", "retries"].contains(&first_word)
        || ["then", "no_answer"].contains(&last_word);
    if !leads_somewhere {
        return None;
    }
    // `dial "1" wen ...`: a misspelt `when` or `to`, not a missing arrow.
    if let Some(k) = crate::suggest::did_you_mean(found, ["when", "to"]) {
        return Some(
            Diagnostic::error("syntax", span, format!("`{found}` is not understood here"))
                .label("not understood here")
                .help(format!("did you mean `{k}`?")),
        );
    }
    if found.is_empty() || found.starts_with(['\r', '\n']) || found.starts_with('#') {
        // Nothing follows: the arrow and its action are both missing.
        let line = text[line_start..line_end].trim_end();
        return Some(
            Diagnostic::error(
                "syntax",
                span,
                "missing `->` and what it leads to at the end of this line",
            )
            .label("`->` expected here")
            .help(format!(
                "write it as: {line} -> hangup (or the flow, extension or queue it leads to)"
            )),
        );
    }
    if !(found.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '{')) {
        return None;
    }
    let fixed = format!(
        "{} -> {}",
        text[line_start..pos].trim(),
        text[pos..line_end].trim_end()
    );
    Some(
        Diagnostic::error("syntax", span, format!("missing `->` before `{found}`"))
            .label("`->` goes before this")
            .help(format!("write it as: {fixed}")),
    )
}

/// The grammar's own words, for a misspelt one: pest matches a keyword as a prefix
/// (`invalid` of `invalide`) and then fails in the middle of the word, where its
/// "expected" list is about what follows the keyword, not the word written.
const KEYWORDS: &[&str] = &[
    "timeout", "invalid", "retries", "when", "to", "then", "else", "if", "times", "not", "and",
    "or",
];

/// An error in the middle of a word: the word as a whole is what was not understood.
fn inside_a_word(file: FileId, text: &str, offset: usize, pos: usize) -> Option<Diagnostic> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let before = &text[..pos.min(text.len())];
    if !before.ends_with(is_word) || !text[pos.min(text.len())..].starts_with(is_word) {
        return None;
    }
    let start = before.trim_end_matches(is_word).len();
    let end = text[pos..]
        .find(|c: char| !is_word(c))
        .map_or(text.len(), |i| pos + i);
    let word = &text[start..end];
    let span = Span::new(file, offset + start, offset + end);
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        // `5sec`, `2min`: a number with a unit the grammar does not know.
        let n: String = word.chars().take_while(char::is_ascii_digit).collect();
        return Some(
            Diagnostic::error("syntax", span, format!("`{word}` is not a duration"))
                .label("unknown unit")
                .help(format!(
                    "the units are ms, s, m and h: {n}s, {n}m or {n}h (or {n}ms)"
                )),
        );
    }
    let d = Diagnostic::error("syntax", span, format!("`{word}` is not understood here"))
        .label("not understood here");
    Some(
        match crate::suggest::did_you_mean(word, KEYWORDS.iter().copied()) {
            Some(k) => d.help(format!("did you mean `{k}`?")),
            None => d,
        },
    )
}

/// `timeout 5sec`: the grammar reads `5` and `sec` as two words and fails later on the
/// line, so the error is not where the mistake is. A number glued to letters that are not
/// a unit, earlier on the same line, is the likely cause.
fn unknown_unit(file: FileId, text: &str, offset: usize, pos: usize) -> Option<Diagnostic> {
    let line_start = text[..pos.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..pos.min(text.len())];
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    // Byte ranges of the words of the line, found on char boundaries.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        match (start, is_word(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                words.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    for range in words {
        let word = &line[range.clone()];
        let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let unit = &word[digits..];
        // Units people write that the grammar does not take; other letters after a number
        // (`1XX` for an unquoted pattern) are some other mistake.
        const SPELLED: &[&str] = &[
            "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hr", "hrs",
            "hour", "hours", "msec", "millis", "S", "M", "H", "MS",
        ];
        if digits == 0 || !SPELLED.contains(&unit) {
            continue;
        }
        // Only outside strings: count the quotes before the word.
        if line[..range.start].matches('"').count() % 2 == 1 {
            continue;
        }
        let n = &word[..digits];
        let s = offset + line_start + range.start;
        return Some(
            Diagnostic::error(
                "syntax",
                Span::new(file, s, s + word.len()),
                format!("`{word}` is not a duration"),
            )
            .label("unknown unit")
            .help(format!(
                "the units are ms, s, m and h: {n}s, {n}m or {n}h (or {n}ms)"
            )),
        );
    }
    None
}

/// A bare number right after `timeout`, `ring` or `max`, where the grammar wants a
/// duration (`menu "x" timeout 5 {`): pest reports the token after it, which is not where
/// the mistake is.
fn number_without_unit(file: FileId, text: &str, offset: usize, pos: usize) -> Option<Diagnostic> {
    let before = text[..pos.min(text.len())].trim_end_matches([' ', '\t']);
    let digits = before.len() - before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let start = before.len() - digits;
    let keyword = before[..start].trim_end_matches([' ', '\t']);
    let last_word = keyword
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    if keyword.len() == start || !["timeout", "ring", "max", "wait"].contains(&last_word) {
        return None;
    }
    let n = &before[start..];
    Some(Diagnostic::no_unit(
        n,
        Span::new(file, offset + start, offset + before.len()),
        "syntax",
    ))
}

/// The last `{` with no matching `}`, skipping strings and comments.
fn last_unclosed_brace(text: &str) -> Option<usize> {
    let mut open = Vec::new();
    for (i, b) in brackets(text) {
        match b {
            b'{' => open.push(i),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

/// The word or character at `pos`, for "found `...`".
fn found_at(text: &str, pos: usize) -> &str {
    let rest = &text[pos.min(text.len())..];
    let Some(c) = rest.chars().next() else {
        return "";
    };
    if c.is_alphanumeric() || c == '_' {
        let n = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..n]
    } else if rest.starts_with("\r\n") {
        &rest[..2]
    } else {
        &rest[..c.len_utf8()]
    }
}

fn hint_for(text: &str, pos: usize, expected: &[&str]) -> Option<String> {
    let rest = &text[pos.min(text.len())..];
    let word = found_at(text, pos);
    if expected.contains(&"a top-level item (extension, queue, dial, flow, ...)") {
        if let Some(s) = crate::suggest::did_you_mean(word, TOP_LEVEL.iter().copied()) {
            return Some(format!("did you mean `{s}`?"));
        }
        return Some(
            "a file holds settings, extension, queue, park, device, trunk, dial, inbound, \
             flow, script, chat and test items"
                .to_string(),
        );
    }
    if expected.contains(&DURATION) && word.starts_with(|c: char| c.is_ascii_digit()) {
        let n: String = word.chars().take_while(char::is_ascii_digit).collect();
        return Some(format!(
            "a duration needs a unit: {n}s, {n}m or {n}h (or {n}ms)"
        ));
    }
    if expected.contains(&CHANNEL) {
        let channels = CHANNELS.iter().copied();
        return Some(match crate::suggest::did_you_mean(word, channels) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the chat channels are {}", CHANNELS.join(", ")),
        });
    }
    if expected.contains(&"`}`") && (rest.is_empty()) {
        return Some("a `{` opened above is never closed; add the missing `}`".to_string());
    }
    if word == "else" {
        return Some("put `else` on the same line as the `}` before it: `} else {`".to_string());
    }
    if word == "\"" && !rest[1..].lines().next().unwrap_or("").contains('"') {
        return Some(
            "this string is never closed: add the closing `\"` on the same line".to_string(),
        );
    }
    let before = text[..pos.min(text.len())].trim_end_matches([' ', '\t']);
    if before.ends_with('"') && !word.is_empty() && expected.is_empty() {
        return Some("a menu key or route needs `->` before what it leads to".to_string());
    }
    if rest.starts_with('\'') {
        return Some("strings use double quotes: \"...\"".to_string());
    }
    if expected.contains(&"`->`") {
        return Some("a route or menu key needs `->` before what it leads to".to_string());
    }
    None
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

const DURATION: &str = "a duration like `5s`";
const CHANNEL: &str = "a chat channel (livechat, whatsapp, facebook, sms)";
/// The grammar's `channel` rule, as words for did-you-mean.
const CHANNELS: &[&str] = &["livechat", "whatsapp", "facebook", "sms"];

/// The admin's name for a grammar rule; `None` hides rules that would only confuse.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::settings
        | Rule::extension
        | Rule::extension_range
        | Rule::queue
        | Rule::park
        | Rule::device
        | Rule::trunk
        | Rule::route
        | Rule::inbound
        | Rule::flow
        | Rule::script
        | Rule::chat
        | Rule::test => "a top-level item (extension, queue, dial, flow, ...)",
        Rule::EOI => "the end of the file",
        Rule::name | Rule::ident | Rule::verb => "a name",
        Rule::number => "a number",
        Rule::duration => DURATION,
        Rule::string => "a quoted string",
        Rule::value | Rule::path | Rule::script_call | Rule::value_list => "a value",
        Rule::script_expr => "a back-quoted condition",
        Rule::setting => "a setting like `language = \"en\"`",
        Rule::option => "an option",
        Rule::option_block | Rule::block => "`{`",
        Rule::orbit => "a park orbit name like `SP1`",
        Rule::channel => CHANNEL,
        Rule::step | Rule::if_step | Rule::repeat_step | Rule::menu => "a step",
        Rule::action => "a step or a `{ ... }` block",
        Rule::when => "`when`",
        Rule::inbound_to => "`to`",
        Rule::menu_entry | Rule::menu_key => "a menu key like `\"1\" -> ...`",
        Rule::menu_timeout => "`timeout`",
        Rule::menu_invalid => "`invalid`",
        Rule::menu_opts | Rule::menu_opt | Rule::timeout_opt => "`timeout`",
        Rule::retries_opt | Rule::menu_retries => "`retries`",
        Rule::condition
        | Rule::disjunct
        | Rule::negation
        | Rule::cond_atom
        | Rule::comparison
        | Rule::not_op => "a condition",
        Rule::cmp_op => "`==` or `!=`",
        Rule::params => "`(`",
        Rule::script_body => "`{`",
        Rule::else_block => "`else`",
        Rule::assign_to | Rule::arrow => "`->`",
        Rule::range => "a range like `3..8`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backslash_in_back_quotes_does_not_hide_the_brace_after_it() {
        // Back-quotes have no escapes: the brace closes the flow.
        assert_eq!(last_unclosed_brace("flow b {\n  set x = `\"\\` }\n"), None);
        let text = "flow a {\n  play \"a\\\"{\"\n";
        assert_eq!(
            last_unclosed_brace(text),
            Some(7),
            "the brace in the string is text"
        );
    }
}
