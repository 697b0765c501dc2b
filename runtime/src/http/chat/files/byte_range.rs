//! The one byte range a `Range: bytes=…` header asks of a chat file. A browser's
//! `<audio>`/`<video>` asks for ranges to seek (and to read an MP4's index when it is at
//! the file's end); without `206` answers Chromium cannot seek in it. One range is enough for a
//! player; a request for several gets the whole file, which HTTP allows.

/// What to answer a request for a file of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file, `200`: no `Range`, one this server ignores, or several ranges.
    Whole,
    /// Bytes `first..=last`, `206`.
    Part { first: u64, last: u64 },
    /// A range wholly past the end, `416`.
    Unsatisfiable,
}

/// The range `header` (a `Range` value) asks of `len` bytes.
pub fn wanted(header: Option<&str>, len: u64) -> Wanted {
    // A stored file is never empty, but its bytes are read from disk: a truncated one has
    // no last byte to count back from.
    if len == 0 {
        return Wanted::Whole;
    }
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((from, to)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (from.trim().is_empty(), number(from), number(to)) {
        // `bytes=-500`: the last 500 bytes (all of them when the file is shorter).
        (true, _, Some(0)) => Wanted::Unsatisfiable,
        (true, _, Some(suffix)) => Wanted::Part {
            first: len.saturating_sub(suffix),
            last: len - 1,
        },
        (false, Some(first), _) if first >= len => Wanted::Unsatisfiable,
        // `bytes=100-`: from byte 100 to the end.
        (false, Some(first), None) if to.trim().is_empty() => Wanted::Part {
            first,
            last: len - 1,
        },
        (false, Some(first), Some(last)) if first <= last => Wanted::Part {
            first,
            last: last.min(len - 1),
        },
        // Not a range this grammar allows: ignored, as HTTP says.
        _ => Wanted::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::{Wanted, wanted};

    fn part(first: u64, last: u64) -> Wanted {
        Wanted::Part { first, last }
    }

    #[test]
    fn the_ranges_a_player_asks_for() {
        assert_eq!(wanted(None, 1000), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-"), 1000), part(0, 999));
        assert_eq!(wanted(Some("bytes=100-199"), 1000), part(100, 199));
        assert_eq!(wanted(Some("bytes=900-5000"), 1000), part(900, 999));
        assert_eq!(wanted(Some("bytes=-100"), 1000), part(900, 999));
        assert_eq!(wanted(Some("bytes=-5000"), 1000), part(0, 999));
        assert_eq!(wanted(Some("bytes=1000-"), 1000), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 1000), Wanted::Unsatisfiable);
    }

    #[test]
    fn an_empty_file_is_served_whole_whatever_the_range() {
        for header in ["bytes=-5", "bytes=0-", "bytes=0-9"] {
            assert_eq!(wanted(Some(header), 0), Wanted::Whole, "{header}");
        }
    }

    #[test]
    fn ranges_it_does_not_serve_get_the_whole_file() {
        for header in [
            "bytes=0-1,5-9",
            "bytes=9-5",
            "bytes=a-b",
            "bytes=-",
            "items=0-1",
            "bytes=+1-2",
        ] {
            assert_eq!(wanted(Some(header), 1000), Wanted::Whole, "{header}");
        }
    }
}
