//! Source files, byte spans and line/column lookup.
//!
//! Spans are byte ranges into one file; line and column are computed only when a
//! diagnostic or a trace is shown, so the parser never pays for them.

use serde::Serialize;

/// Index of a file in the `Sources` it was loaded into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One dialplan file: its display path (as the admin would type it) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    /// Where the file stopped being UTF-8, if it did; such a file is reported, not parsed.
    pub invalid_utf8_at: Option<usize>,
    line_starts: Vec<u32>,
}

/// A 1-based line and a 1-based column counted in characters, as editors show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// U+FEFF at the start of a file: the UTF-8 byte-order mark.
const BYTE_ORDER_MARK: char = '\u{feff}';

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let mut text = text.into();
        // Windows editors start UTF-8 files with a byte-order mark. It says nothing about
        // the plan, and editors do not count it in columns, so it is dropped.
        if text.starts_with(BYTE_ORDER_MARK) {
            text.drain(..BYTE_ORDER_MARK.len_utf8());
        }
        let mut line_starts = vec![0u32];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        SourceFile {
            path: path.into(),
            text,
            invalid_utf8_at: None,
            line_starts,
        }
    }

    /// A file as read from disk; bytes that are not UTF-8 are kept (replaced) for display,
    /// and the first of them is remembered for the `not-utf8` diagnostic.
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> SourceFile {
        match String::from_utf8(bytes) {
            Ok(text) => SourceFile::new(path, text),
            Err(e) => {
                let mut bom = [0; 3];
                BYTE_ORDER_MARK.encode_utf8(&mut bom);
                let dropped = if e.as_bytes().starts_with(&bom) {
                    bom.len()
                } else {
                    0
                };
                let at = e.utf8_error().valid_up_to() - dropped;
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                SourceFile {
                    invalid_utf8_at: Some(at),
                    ..SourceFile::new(path, text)
                }
            }
        }
    }

    /// Line and column of a byte offset (clamped to the file).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let column = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count();
        LineCol {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize)
            .saturating_sub(1)
            .min(self.line_starts.len() - 1);
        let start = self.line_starts[i] as usize;
        let end = self
            .line_starts
            .get(i + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Every file of one plan, addressed by `FileId`.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Where a span starts, as `path:line:column`.
    pub fn location(&self, span: Span) -> String {
        let file = self.get(span.file);
        let lc = file.line_col(span.start as usize);
        format!("{}:{}:{}", file.path, lc.line, lc.column)
    }
}
