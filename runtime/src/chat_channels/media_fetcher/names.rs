//! Names for the customers' files: the provider's own when it gives one, else what the
//! file is with the extension of its type (`photo.jpg`, `voice.ogg`), so the chat files'
//! checks (by name and content) apply to it as to any other file.

/// A name for a file the customer's provider gave none: what it is, and the extension
/// of its type (`photo.jpg`, `voice.ogg`, `voice.amr`, `voice.aac`, `audio.mp3`,
/// `video.mp4`, `video.mov`, `document.pdf`). Audio is a voice note but for MP3, which is music or a recording.
pub fn named_by_type(mime: Option<&str>) -> String {
    let mime = mime
        .and_then(|m| m.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let (top, sub) = mime.split_once('/').unwrap_or(("", ""));
    let stem = match top {
        "image" => "photo",
        "audio" if matches!(mime.as_str(), "audio/mpeg" | "audio/mp3") => "audio",
        "audio" => "voice",
        "video" => "video",
        "text" | "application" => "document",
        _ => "file",
    };
    let ext = match mime.as_str() {
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/svg+xml" => "svg",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "text/plain" => "txt",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
        "audio/3gpp" | "video/3gpp" => "3gp",
        "video/quicktime" => "mov",
        _ => sub.split('+').next().unwrap_or(""),
    };
    let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).collect();
    if ext.is_empty() {
        stem.to_string()
    } else {
        format!("{stem}.{ext}")
    }
}

/// The file name a link ends with (`…/report.pdf?sig=…` → `report.pdf`), when it has one
/// with an extension; otherwise `file`, named by the answer's type later.
pub fn named_by_link(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    let plain = !last.is_empty()
        && last
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    match last.rsplit_once('.') {
        Some((stem, ext)) if plain && !stem.is_empty() && !ext.is_empty() => last.to_string(),
        _ => "file".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_without_a_name_are_named_by_what_they_are() {
        assert_eq!(named_by_type(Some("image/jpeg")), "photo.jpg");
        assert_eq!(named_by_type(Some("image/png")), "photo.png");
        assert_eq!(named_by_type(Some("audio/ogg; codecs=opus")), "voice.ogg");
        assert_eq!(named_by_type(Some("video/mp4")), "video.mp4");
        assert_eq!(named_by_type(Some("audio/amr")), "voice.amr");
        assert_eq!(named_by_type(Some("audio/mpeg")), "audio.mp3");
        assert_eq!(named_by_type(Some("audio/mp4")), "voice.m4a");
        assert_eq!(named_by_type(Some("audio/x-m4a")), "voice.m4a");
        assert_eq!(named_by_type(Some("video/3gpp")), "video.3gp");
        assert_eq!(named_by_type(Some("audio/aac")), "voice.aac");
        assert_eq!(named_by_type(Some("video/quicktime")), "video.mov");
        assert_eq!(named_by_type(Some("application/pdf")), "document.pdf");
        assert_eq!(named_by_type(None), "file");
    }

    #[test]
    fn a_links_own_file_name_is_kept_when_it_is_plain() {
        assert_eq!(
            named_by_link("https://cdn.example/x/report.pdf?sig=1"),
            "report.pdf"
        );
        assert_eq!(named_by_link("https://cdn.example/x/ME123"), "file");
        assert_eq!(named_by_link("https://cdn.example/a%20b.pdf"), "file");
    }
}
