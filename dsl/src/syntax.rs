//! Text to parse tree: the pest grammar, its errors in the admin's words (`errors`), and
//! recovery.
//!
//! pest stops at the first syntax error. So that one run reports every broken item, a
//! failed file is parsed again item by item: it is cut before each line that starts (in
//! column 1) with a top-level keyword, and each piece is parsed on its own.

mod errors;

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use errors::syntax_error;
use pest::Parser;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "dialplan.pest"]
pub struct DialplanParser;

/// Blocks, parentheses and brackets nested deeper than this are refused before parsing:
/// no office needs them, and the recursive-descent parser must not overflow its stack.
pub const MAX_NESTING: usize = 64;

/// Files larger than this are refused; the biggest real plans are a few megabytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The words that start a top-level item; recovery splits a file before each.
pub const TOP_LEVEL: &[&str] = &[
    "settings",
    "extension",
    "extensions",
    "queue",
    "park",
    "device",
    "trunk",
    "dial",
    "inbound",
    "flow",
    "script",
    "chat",
    "test",
];

/// A parsed piece of a file: the pest pairs of its items and the byte offset of the piece.
pub struct Piece<'a> {
    pub offset: usize,
    pub items: Vec<Pair<'a, Rule>>,
}

/// Parses one file into pieces, reporting every syntax error it can find.
///
/// Names defined by items that failed to parse go into `broken`, so that the checks do
/// not also report every use of them as unknown.
pub fn parse_file<'a>(
    file: FileId,
    text: &'a str,
    diags: &mut Vec<Diagnostic>,
    broken: &mut std::collections::HashSet<String>,
) -> Vec<Piece<'a>> {
    if text.len() > MAX_FILE_BYTES {
        diags.push(
            Diagnostic::error(
                "file-too-large",
                Span::new(file, 0, 0),
                format!(
                    "this file is {} bytes; a dialplan file may be at most {} bytes",
                    text.len(),
                    MAX_FILE_BYTES
                ),
            )
            .label("file too large")
            .help("split the plan into several files in the same folder"),
        );
        return Vec::new();
    }
    if let Some(d) = check_nesting(file, text) {
        diags.push(d);
        return Vec::new();
    }
    match parse_piece(text, 0) {
        Ok(piece) => vec![piece],
        Err(_) => {
            let mut pieces = Vec::new();
            for (start, end) in split_points(text) {
                match parse_piece(&text[start..end], start) {
                    Ok(piece) => pieces.push(piece),
                    Err(e) => {
                        broken.extend(defined_name(&text[start..end]));
                        diags.push(syntax_error(file, &text[start..end], start, e))
                    }
                }
            }
            pieces
        }
    }
}

fn parse_piece(text: &str, offset: usize) -> Result<Piece<'_>, pest::error::Error<Rule>> {
    let mut pairs = DialplanParser::parse(Rule::file, text)?;
    let file = pairs.next().expect("the file rule always yields one pair");
    let items = file
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .collect();
    Ok(Piece { offset, items })
}

/// The name an item defines, read from its first line: `flow NAME`, `queue 800`, ...
fn defined_name(piece: &str) -> Option<String> {
    let mut words = piece.split(|c: char| c.is_whitespace() || c == '(' || c == '{');
    let kind = words.next()?;
    let name = words.find(|w| !w.is_empty())?;
    matches!(kind, "flow" | "script" | "extension" | "queue" | "trunk")
        .then(|| name.trim_matches('"').to_string())
}

/// Byte ranges starting at each line whose first word is a top-level keyword.
fn split_points(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0 {
            let word: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if TOP_LEVEL.contains(&word.as_str()) {
                starts.push(offset);
            }
        }
        offset += line.len();
    }
    let mut ranges = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        ranges.push((s, e));
    }
    ranges
}

/// Refuses nesting deeper than `MAX_NESTING`, skipping strings, back-quotes and comments.
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (i, b) in brackets(text) {
        match b {
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::error(
                            "nesting-too-deep",
                            Span::new(file, i, i + 1),
                            format!("blocks are nested more than {MAX_NESTING} levels deep"),
                        )
                        .label("too deep")
                        .help("move the inner steps into a flow of their own and `goto` it"),
                    );
                }
            }
            _ => depth = depth.saturating_sub(1),
        }
    }
    None
}

/// The brackets of `text` that are code, with their byte offsets: those inside strings,
/// back-quotes and `#` comments are skipped, by the grammar's rules. The one scanner of
/// the nesting guard and of the unclosed-brace hint, so the two can never disagree.
fn brackets(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let at = i;
            i += 1;
            match bytes[at] {
                b'"' | b'`' => {
                    let quote = bytes[at];
                    while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                        // `\` escapes in strings only; a back-quote ends at the next
                        // back-quote, so "`\`" is closed (else the brackets after it would
                        // go uncounted and reach the recursive reader).
                        i += if quote == b'"' && bytes[i] == b'\\' {
                            2
                        } else {
                            1
                        };
                    }
                    i += 1;
                }
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b @ (b'{' | b'(' | b'[' | b'}' | b')' | b']') => return Some((at, b)),
                _ => {}
            }
        }
        None
    })
}

/// A span for a pair inside a piece.
pub fn span_of(file: FileId, offset: usize, pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(file, offset + s.start(), offset + s.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_skip_strings_back_quotes_and_comments() {
        let text = "a { \"}\" `(` # ]\n ) }";
        let found: Vec<u8> = brackets(text).map(|(_, b)| b).collect();
        assert_eq!(found, b"{)}".to_vec());
    }
}
