//! Which files may be sent in chat, checked by name AND by content: the chat guide's
//! types ("Send images and files") and nothing else. A file whose bytes are not what its
//! name says (a program renamed `.pdf`) is refused, so a download never hands a person
//! something other than what they see.
//!
//! Customers' files fetched from a provider (WhatsApp, Messenger, MMS) pass a wider check,
//! `check_customer_file`: the same list plus voice notes and short videos
//! (`customer_media`), which customers send all the time and agents are expected to hear.

mod customer_media;

/// The largest file sent in chat (10 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The longest file name kept; a longer one is shortened, its extension kept.
pub const MAX_NAME_CHARS: usize = 200;

/// What the chat guide lets people send, in its words.
pub const ALLOWED: &str = "PDF, DOC, DOCX, PPT, PPTX, XLS, XLSX, TXT, RTF, JPG, JPEG, PNG, \
                           GIF, BMP, WEBP, TIFF, HEIF or HEIC";

/// A file that passed the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedFile {
    /// The sanitised name: no folders, no control characters, at most 200 characters.
    pub name: String,
    /// The type it is served with, from its (checked) kind, never from the uploader.
    pub content_type: &'static str,
    /// An image (shown inline); other files are downloads.
    pub image: bool,
}

/// Why a file is refused; nothing is stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// 400.
    #[error("the file is empty: choose a file with something in it")]
    Empty,
    /// 400.
    #[error("the file has no name: send it with ?name=, e.g. ?name=report.pdf")]
    NoName,
    /// 413.
    #[error("the file is {size} bytes; files up to 10 MB ({MAX_FILE_BYTES} bytes) can be sent")]
    TooLarge { size: usize },
    /// 415: a type the guide does not list.
    #[error("{0}")]
    NotAllowed(String),
    /// 415: the content is not what the name says.
    #[error("the file's content is not a{article} {kind}, though its name ends .{ext}")]
    Mismatch {
        article: &'static str,
        kind: &'static str,
        ext: String,
    },
}

impl FileRefusal {
    /// The HTTP status a refusal is answered with, wherever a file is sent (a customer's
    /// conversation, a team thread): the one each variant names.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            FileRefusal::Empty | FileRefusal::NoName => StatusCode::BAD_REQUEST,
            FileRefusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            FileRefusal::NotAllowed(_) | FileRefusal::Mismatch { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
        }
    }
}

/// One allowed kind: its extensions, its words, its type and how its content starts.
struct Kind {
    extensions: &'static [&'static str],
    words: &'static str,
    content_type: &'static str,
    image: bool,
    content: fn(&[u8]) -> bool,
}

const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

const KINDS: &[Kind] = &[
    kind(&["pdf"], "PDF", "application/pdf", false, |b| {
        b.starts_with(b"%PDF-")
    }),
    kind(
        &["doc"],
        "Word document",
        "application/msword",
        false,
        |b| b.starts_with(OLE),
    ),
    kind(
        &["xls"],
        "Excel workbook",
        "application/vnd.ms-excel",
        false,
        |b| b.starts_with(OLE),
    ),
    kind(
        &["ppt"],
        "PowerPoint presentation",
        "application/vnd.ms-powerpoint",
        false,
        |b| b.starts_with(OLE),
    ),
    kind(
        &["docx"],
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        false,
        |b| zip_has_entry_under(b, "word/"),
    ),
    kind(
        &["xlsx"],
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        false,
        |b| zip_has_entry_under(b, "xl/"),
    ),
    kind(
        &["pptx"],
        "PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        false,
        |b| zip_has_entry_under(b, "ppt/"),
    ),
    kind(
        &["txt"],
        "text file (UTF-8)",
        "text/plain; charset=utf-8",
        false,
        |b| !b.contains(&0) && std::str::from_utf8(b).is_ok(),
    ),
    kind(&["rtf"], "RTF document", "application/rtf", false, |b| {
        b.starts_with(b"{\\rtf")
    }),
    kind(&["jpg", "jpeg"], "JPEG image", "image/jpeg", true, |b| {
        b.starts_with(&[0xFF, 0xD8, 0xFF])
    }),
    kind(&["png"], "PNG image", "image/png", true, |b| {
        b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A])
    }),
    kind(&["gif"], "GIF image", "image/gif", true, |b| {
        b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")
    }),
    kind(&["bmp"], "BMP image", "image/bmp", true, |b| {
        b.starts_with(b"BM")
    }),
    kind(&["webp"], "WEBP image", "image/webp", true, |b| {
        b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP"
    }),
    kind(&["tif", "tiff"], "TIFF image", "image/tiff", true, |b| {
        b.starts_with(b"II*\0") || b.starts_with(b"MM\0*")
    }),
    kind(&["heic"], "HEIC image", "image/heic", true, is_heif),
    kind(&["heif"], "HEIF image", "image/heif", true, is_heif),
];

const fn kind(
    extensions: &'static [&'static str],
    words: &'static str,
    content_type: &'static str,
    image: bool,
    content: fn(&[u8]) -> bool,
) -> Kind {
    Kind {
        extensions,
        words,
        content_type,
        image,
        content,
    }
}

/// HEIF/HEIC: an ISO box `ftyp` at offset 4 with one of the still-image brands.
fn is_heif(b: &[u8]) -> bool {
    b.len() >= 12
        && &b[4..8] == b"ftyp"
        && [&b"heic"[..], b"heix", b"mif1", b"msf1"].contains(&&b[8..12])
}

/// The brands of an ISO media file (MP4, M4A, 3GP, HEIF): its first box is `ftyp`, whose
/// major brand (bytes 8..12) and compatible brands (from byte 16 to the box's end) say
/// what it holds. Empty when `b` does not start with an `ftyp` box.
fn iso_brands(b: &[u8]) -> Vec<[u8; 4]> {
    if b.len() < 16 || &b[4..8] != b"ftyp" {
        return Vec::new();
    }
    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let end = size.clamp(16, b.len());
    let compatible = b[16..end].chunks_exact(4);
    std::iter::once(&b[8..12])
        .chain(compatible)
        .map(|brand| [brand[0], brand[1], brand[2], brand[3]])
        .collect()
}

/// Whether `b` is a ZIP archive whose central directory names an entry under `folder`
/// (`word/document.xml` for a DOCX). Reads the directory itself: the end record, then
/// each entry's name; a damaged archive answers false.
fn zip_has_entry_under(b: &[u8], folder: &str) -> bool {
    if !b.starts_with(b"PK\x03\x04") || b.len() < 22 {
        return false;
    }
    let u16_at = |i: usize| {
        b.get(i..i + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let u32_at = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    // The end record is in the last 22 + 65,535 (its comment) bytes.
    let lowest = b.len().saturating_sub(22 + 65_535);
    let Some(end) = (lowest..=b.len() - 22)
        .rev()
        .find(|&i| b[i..].starts_with(b"PK\x05\x06"))
    else {
        return false;
    };
    let (Some(entries), Some(mut at)) = (u16_at(end + 10), u32_at(end + 16)) else {
        return false;
    };
    for _ in 0..entries {
        if !b.get(at..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return false;
        }
        let (Some(name_len), Some(extra), Some(comment)) =
            (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32))
        else {
            return false;
        };
        let Some(name) = b.get(at + 46..at + 46 + name_len) else {
            return false;
        };
        if name.starts_with(folder.as_bytes()) {
            return true;
        }
        at += 46 + name_len + extra + comment;
    }
    false
}

/// Checks an upload named `name` with content `bytes`: allowed by name and by content,
/// not empty, not over 10 MB.
pub fn check_file(name: &str, bytes: &[u8]) -> Result<CheckedFile, FileRefusal> {
    check_against(name, bytes, &[KINDS], ALLOWED)
}

/// Checks a customer's file fetched from a provider as `check_file` does, accepting the
/// customers' voice notes and videos too (OGG, MP3, M4A, AAC, AMR, MP4, 3GP, MOV), by content.
pub fn check_customer_file(name: &str, bytes: &[u8]) -> Result<CheckedFile, FileRefusal> {
    check_against(
        name,
        bytes,
        &[KINDS, customer_media::KINDS],
        customer_media::ALLOWED,
    )
}

/// The checks of `check_file` against the kinds of `lists`: the first kind whose
/// extension is the name's and whose content is the bytes' wins; `allowed` is the list
/// in words for a refusal.
fn check_against(
    name: &str,
    bytes: &[u8],
    lists: &[&[Kind]],
    allowed: &str,
) -> Result<CheckedFile, FileRefusal> {
    let name = sanitise_name(name).ok_or(FileRefusal::NoName)?;
    if bytes.is_empty() {
        return Err(FileRefusal::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileRefusal::TooLarge { size: bytes.len() });
    }
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => {
            return Err(FileRefusal::NotAllowed(format!(
                "the file's name {name:?} has no extension; chat can send {allowed} files"
            )));
        }
    };
    // One extension may name two kinds (`.mp4`: audio, else video); the content decides.
    let mut named = lists
        .iter()
        .flat_map(|list| list.iter())
        .filter(|k| k.extensions.contains(&ext.as_str()))
        .peekable();
    let Some(first) = named.peek().copied() else {
        return Err(FileRefusal::NotAllowed(format!(
            "files ending .{ext} cannot be sent in chat; it can send {allowed} files"
        )));
    };
    let Some(kind) = named.find(|k| (k.content)(bytes)) else {
        // Letters read with a vowel sound take "an": an HEIC, an MP3, an RTF.
        let article = if first
            .words
            .starts_with(['A', 'E', 'I', 'O', 'U', 'H', 'M', 'R'])
        {
            "n"
        } else {
            ""
        };
        return Err(FileRefusal::Mismatch {
            article,
            kind: first.words,
            ext,
        });
    };
    Ok(CheckedFile {
        name,
        content_type: kind.content_type,
        image: kind.image,
    })
}

/// The last path part of `name`, without control characters or surrounding spaces,
/// shortened to 200 characters keeping its extension; `None` when nothing is left.
pub fn sanitise_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim().to_string();
    if clean.is_empty() {
        return None;
    }
    if clean.chars().count() <= MAX_NAME_CHARS {
        return Some(clean);
    }
    let ext = clean
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.chars().count() <= 10)
        .unwrap_or("");
    let keep = MAX_NAME_CHARS
        - if ext.is_empty() {
            0
        } else {
            ext.chars().count() + 1
        };
    let stem: String = clean.chars().take(keep).collect();
    Some(if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_folders_and_stay_short() {
        assert_eq!(sanitise_name("../../etc/passwd.txt").unwrap(), "passwd.txt");
        assert_eq!(
            sanitise_name("C:\\Users\\a\\report.pdf").unwrap(),
            "report.pdf"
        );
        assert_eq!(sanitise_name("/"), None);
        let long = format!("{}.pdf", "a".repeat(300));
        let short = sanitise_name(&long).unwrap();
        assert_eq!(short.chars().count(), MAX_NAME_CHARS);
        assert!(short.ends_with(".pdf"));
    }

    #[test]
    fn a_png_named_pdf_is_refused_in_words() {
        let png = b"\x89PNG\r\n\x1a\n0000";
        let err = check_file("report.pdf", png).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file's content is not a PDF, though its name ends .pdf"
        );
        assert!(check_file("photo.PNG", png).unwrap().image);
    }

    #[test]
    fn a_zip_without_word_entries_is_not_a_docx() {
        // An empty archive: just the end record.
        let mut empty = b"PK\x03\x04".to_vec();
        empty.extend_from_slice(b"PK\x05\x06");
        empty.extend_from_slice(&[0; 18]);
        assert!(matches!(
            check_file("a.docx", &empty),
            Err(FileRefusal::Mismatch { .. })
        ));
    }
}
