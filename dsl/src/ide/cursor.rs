//! What is at a place in the text: the word under (or just before) the cursor and the
//! words before it on the same line.
//!
//! This reads the line as words rather than asking the parser, because the admin is
//! typing: the line under the cursor is usually unfinished and would not parse. A step is
//! one line and a reference's kind is told by the word before it (`goto main_menu`,
//! `queue 800`, `trunk "main"`), so the line is all the context needed.

use std::ops::Range;

/// One word of a line: a bare word, a quoted text (quotes included) or punctuation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    /// Byte range in the whole file.
    pub range: Range<usize>,
}

impl<'a> Token<'a> {
    /// The word without its quotes, as names are defined (`trunk "main"` defines `main`).
    pub fn unquoted(&self) -> &'a str {
        self.text.trim_start_matches('"').trim_end_matches('"')
    }

    pub fn is_quoted(&self) -> bool {
        self.text.starts_with('"')
    }
}

/// The cursor's place on its line.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    /// The token the cursor is in or touches at its end, if any.
    pub token: Option<Token<'a>>,
    /// The tokens before it on the line, nearest last.
    pub before: Vec<Token<'a>>,
}

impl<'a> Cursor<'a> {
    /// The word just before the cursor's token, which says what kind of name it is.
    pub fn previous(&self) -> Option<&'a str> {
        self.before.last().map(|t| t.text)
    }

    /// True where a step's verb goes: the start of a line, or after `{`, `->` or `then`.
    pub fn at_step_start(&self) -> bool {
        matches!(
            self.previous(),
            None | Some("{") | Some("->") | Some("then")
        )
    }

    /// The part of the token before the cursor: what completion filters on.
    pub fn typed(&self, offset: usize) -> &'a str {
        match &self.token {
            Some(t) => &t.text[..offset.saturating_sub(t.range.start).min(t.text.len())],
            None => "",
        }
    }
}

/// `offset` within `text` and on a char boundary, moved back if it was not.
pub fn floor(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Reads the line around `offset` in `text`.
pub fn at(text: &str, offset: usize) -> Cursor<'_> {
    let offset = floor(text, offset);
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let mut before = Vec::new();
    let mut token = None;
    for t in tokens(&text[start..end], start) {
        if t.range.end < offset || (t.range.end == offset && !is_word(t.text)) {
            before.push(t);
        } else if t.range.start <= offset {
            token = Some(t);
            break;
        } else {
            break;
        }
    }
    Cursor { token, before }
}

/// A token a name can be: a bare word or a quoted text.
fn is_word(text: &str) -> bool {
    text.starts_with('"') || text.chars().next().is_some_and(is_word_char)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The tokens of one line, stopping at a `#` comment; `base` is the line's offset.
fn tokens(line: &str, base: usize) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        let end = if c.is_whitespace() {
            chars.next();
            continue;
        } else if c == '#' {
            break;
        } else if c == '"' {
            chars.next();
            // An unclosed quote runs to the end of the line: the admin is still typing it.
            let mut end = line.len();
            for (j, d) in chars.by_ref() {
                if d == '"' {
                    end = j + 1;
                    break;
                }
            }
            end
        } else if is_word_char(c) {
            let mut end = line.len();
            while let Some(&(j, d)) = chars.peek() {
                if !is_word_char(d) {
                    end = j;
                    break;
                }
                chars.next();
            }
            end
        } else if line[i..].starts_with("->") {
            chars.next();
            chars.next();
            i + 2
        } else {
            chars.next();
            i + c.len_utf8()
        };
        out.push(Token {
            text: &line[i..end],
            range: base + i..base + end,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `|` marks the cursor; returns (token, previous word).
    fn check(marked: &str) -> (Option<String>, Option<String>) {
        let offset = marked.find('|').unwrap();
        let text = marked.replace('|', "");
        let c = at(&text, offset);
        (
            c.token.as_ref().map(|t| t.text.to_string()),
            c.previous().map(str::to_string),
        )
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn the_word_under_the_cursor_and_the_one_before() {
        assert_eq!(
            check("  goto main_m|enu\n"),
            (some("main_menu"), some("goto"))
        );
        assert_eq!(
            check("  goto main_menu|\n"),
            (some("main_menu"), some("goto"))
        );
        assert_eq!(check("  goto |\n"), (None, some("goto")));
        assert_eq!(check("|answer"), (some("answer"), None));
    }

    #[test]
    fn quoted_names_are_one_word_even_unclosed() {
        assert_eq!(
            check("  trunk \"ma|in\" to 1"),
            (some("\"main\""), some("trunk"))
        );
        assert_eq!(check("  play \"wel|"), (some("\"wel"), some("play")));
    }

    #[test]
    fn arrows_and_comments() {
        assert_eq!(check("\"1\" -> q|"), (some("q"), some("->")));
        assert_eq!(check("answer # goto m|"), (None, some("answer")));
    }
}
