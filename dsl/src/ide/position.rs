//! Byte offsets to and from editor positions: a 0-based line and a column counted in
//! UTF-16 code units, which is what the Language Server Protocol and CodeMirror count.
//!
//! Spans are byte ranges; an editor that counted bytes or characters would put a
//! diagnostic after an `é` or an emoji in the wrong place, so every conversion goes here.

/// A 0-based line and a 0-based column in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

/// Where a span starts and ends in its file.
pub fn range(sources: &crate::Sources, span: crate::Span) -> std::ops::Range<Position> {
    let text = &sources.get(span.file).text;
    position(text, span.start as usize)..position(text, span.end as usize)
}

/// The position of a byte offset in `text` (clamped to the text and to a char boundary).
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() as u32,
        character: before[line_start..].encode_utf16().count() as u32,
    }
}

/// The byte offset of a position; a line past the end is the end of the text and a
/// column past the end of its line is the end of that line, as the protocol asks.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut units = 0;
    for (i, c) in text[start..line_end].char_indices() {
        if units >= pos.character {
            return start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn columns_count_utf16_code_units() {
        // `é` is 2 bytes and 1 unit; `😀` is 4 bytes and 2 units.
        let text = "a\nxé😀y\n";
        let y = text.find('y').unwrap();
        assert_eq!(position(text, y), pos(1, 4));
        assert_eq!(offset(text, pos(1, 4)), y);
        assert_eq!(offset(text, pos(1, 1)), text.find('é').unwrap());
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\ncd";
        assert_eq!(offset(text, pos(0, 99)), 2);
        assert_eq!(offset(text, pos(9, 0)), text.len());
        assert_eq!(position(text, 99), pos(1, 2));
    }
}
