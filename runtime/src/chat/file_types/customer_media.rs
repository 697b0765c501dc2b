//! The voice notes and short videos customers send through a provider (WhatsApp's Opus
//! voice notes and AAC audio, MMS audio and video clips, an iPhone's QuickTime video),
//! accepted for their files only: the chat
//! guide's list is what agents send, but an office expects to hear what a customer says.
//! Each is recognised by its content, like the guide's types, within the same 10 MB.

use super::{Kind, iso_brands, kind};

/// What a customer's file may be, in words: the guide's list and the media below.
pub const ALLOWED: &str = "PDF, DOC, DOCX, PPT, PPTX, XLS, XLSX, TXT, RTF, JPG, JPEG, PNG, \
                           GIF, BMP, WEBP, TIFF, HEIF, HEIC, OGG, OPUS, MP3, M4A, AAC, AMR, \
                           MP4, 3GP or MOV";

/// The media kinds. `.mp4` is listed twice: a video, else (its brand says audio only) an
/// audio file; the first is the one a refusal names.
pub(super) const KINDS: &[Kind] = &[
    kind(
        &["ogg", "oga", "opus"],
        "OGG audio file",
        "audio/ogg",
        false,
        |b| b.starts_with(b"OggS\0"),
    ),
    kind(&["mp3"], "MP3 audio file", "audio/mpeg", false, is_mp3),
    kind(&["m4a"], "M4A audio file", "audio/mp4", false, |b| {
        has_brand(b, |brand| is_audio_brand(brand) || is_video_brand(brand))
    }),
    kind(&["aac"], "AAC audio file", "audio/aac", false, is_aac),
    kind(&["amr"], "AMR audio file", "audio/amr", false, |b| {
        b.starts_with(b"#!AMR\n") || b.starts_with(b"#!AMR-WB\n")
    }),
    kind(&["mp4", "m4v"], "MP4 video", "video/mp4", false, |b| {
        has_brand(b, is_video_brand) && !has_brand(b, is_audio_brand)
    }),
    kind(&["mp4"], "MP4 audio file", "audio/mp4", false, |b| {
        has_brand(b, is_audio_brand)
    }),
    kind(&["3gp", "3gpp"], "3GP video", "video/3gpp", false, |b| {
        has_brand(b, is_3gp_brand)
    }),
    kind(
        &["mov", "qt"],
        "QuickTime video",
        "video/quicktime",
        false,
        is_quicktime,
    ),
];

/// AAC as phones and WhatsApp store it: a raw ADTS stream (after an ID3 tag, when a
/// recorder wrote one), or the rare ADIF header.
fn is_aac(b: &[u8]) -> bool {
    b.starts_with(b"ADIF") || is_adts_frame(after_id3(b))
}

/// An ADTS frame header: 12 sync bits and layer 0 (which is what tells it from an MP3
/// frame), a sampling-frequency index that names a rate (0 to 12), and a frame length
/// that holds at least the 7-byte header itself.
fn is_adts_frame(b: &[u8]) -> bool {
    let [0xFF, second, third, fourth, fifth, sixth, _, ..] = *b else {
        return false;
    };
    let frequency = (third >> 2) & 0x0F;
    let length =
        (usize::from(fourth & 0x03) << 11) | (usize::from(fifth) << 3) | usize::from(sixth >> 5);
    second & 0xF6 == 0xF0 && frequency <= 12 && length >= 7
}

/// What follows an ID3v2 tag at the start of `b` (a 10-byte header whose last four
/// bytes are the tag's size, 7 bits each, and a 10-byte footer when its flags say so);
/// `b` itself when it has none.
fn after_id3(b: &[u8]) -> &[u8] {
    let [b'I', b'D', b'3', _, _, flags, s0, s1, s2, s3, ..] = *b else {
        return b;
    };
    let size = [s0, s1, s2, s3]
        .iter()
        .fold(0usize, |size, byte| (size << 7) | usize::from(byte & 0x7F));
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    b.get(10 + size + footer..).unwrap_or(&[])
}

/// QuickTime: the `qt  ` brand in its `ftyp` box (what an iPhone writes), or, in files
/// older than `ftyp`, a first atom a movie starts with (a `free` or `skip` one too, which
/// old editors left as padding: the name says `.mov`, and nothing runs a movie).
fn is_quicktime(b: &[u8]) -> bool {
    const FIRST_ATOMS: [&[u8]; 6] = [b"moov", b"mdat", b"wide", b"pnot", b"free", b"skip"];
    has_brand(b, |brand| brand == b"qt  ") || (b.len() >= 8 && FIRST_ATOMS.contains(&&b[4..8]))
}

/// MP3: an ID3 tag first, or straight away an MPEG audio frame header (11 sync bits,
/// then a version, layer, bit rate and sample rate that are not the reserved values; an
/// AAC stream's header has layer 0 and is not taken for one).
fn is_mp3(b: &[u8]) -> bool {
    if b.starts_with(b"ID3") {
        return true;
    }
    let [0xFF, second, third, ..] = *b else {
        return false;
    };
    let version = (second >> 3) & 0b11;
    let layer = (second >> 1) & 0b11;
    let bitrate = third >> 4;
    let sample_rate = (third >> 2) & 0b11;
    second & 0xE0 == 0xE0 && version != 0b01 && layer != 0 && bitrate != 0xF && sample_rate != 3
}

fn has_brand(b: &[u8], wanted: impl Fn(&[u8; 4]) -> bool) -> bool {
    iso_brands(b).iter().any(wanted)
}

/// Brands of audio-only MP4 files (iTunes' M4A and audio books, Adobe's F4A/F4B).
fn is_audio_brand(brand: &[u8; 4]) -> bool {
    [b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "].contains(&brand)
}

/// Brands of MP4 video as phones and apps write it; 3GP's brands are MP4's relatives
/// and a browser plays them the same way.
fn is_video_brand(brand: &[u8; 4]) -> bool {
    [
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
        b"M4VH", b"M4VP", b"mmp4", b"dash", b"MSNV", b"f4v ",
    ]
    .contains(&brand)
        || is_3gp_brand(brand)
}

/// 3GPP and 3GPP2 brands: `3gp4`…`3gp9`, `3gg6`, `3gs6`, `3gr6`, `3g2a`…
fn is_3gp_brand(brand: &[u8; 4]) -> bool {
    brand.starts_with(b"3g")
}

#[cfg(test)]
mod tests {
    use super::super::{FileRefusal, check_customer_file, check_file};

    /// An ISO media file's start: an `ftyp` box with `major` and `compatible` brands,
    /// then the start of a `moov` box.
    fn iso(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut b = size.to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 2, 0]);
        for c in compatible {
            b.extend_from_slice(*c);
        }
        b.extend_from_slice(&[0, 0, 0, 8]);
        b.extend_from_slice(b"moov");
        b
    }

    /// The first page of a WhatsApp voice note: Ogg, carrying Opus.
    const OGG_OPUS: &[u8] = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x9b\x35\x12\x2a\
        \x00\x00\x00\x00\x7f\x2c\xf2\x6a\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\
        \x00\x00\x00";
    /// An MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz.
    const MP3_FRAME: &[u8] = &[0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00];
    /// A program: what a renamed `.exe` starts with.
    const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";

    fn accepted(name: &str, bytes: &[u8]) -> &'static str {
        match check_customer_file(name, bytes) {
            Ok(file) => file.content_type,
            Err(e) => panic!("{name} refused: {e}"),
        }
    }

    #[test]
    fn each_customer_media_format_is_recognised_by_its_header() {
        assert_eq!(accepted("voice.ogg", OGG_OPUS), "audio/ogg");
        assert_eq!(accepted("voice.opus", OGG_OPUS), "audio/ogg");
        assert_eq!(accepted("audio.mp3", MP3_FRAME), "audio/mpeg");
        assert_eq!(
            accepted("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x23"),
            "audio/mpeg"
        );
        assert_eq!(
            accepted("voice.m4a", &iso(b"M4A ", &[b"M4A ", b"mp42", b"isom"])),
            "audio/mp4"
        );
        // Android's recorder writes plain MP4 brands into an `.m4a`.
        assert_eq!(
            accepted("voice.m4a", &iso(b"mp42", &[b"isom"])),
            "audio/mp4"
        );
        assert_eq!(
            accepted("voice.amr", b"#!AMR\n\x3c\x48\xf5\x1f"),
            "audio/amr"
        );
        assert_eq!(
            accepted(
                "video.mp4",
                &iso(b"isom", &[b"isom", b"iso2", b"avc1", b"mp41"])
            ),
            "video/mp4"
        );
        assert_eq!(
            accepted("video.mp4", &iso(b"mp42", &[b"mp41"])),
            "video/mp4"
        );
        assert_eq!(accepted("clip.mp4", &iso(b"M4A ", &[b"isom"])), "audio/mp4");
        assert_eq!(
            accepted("video.3gp", &iso(b"3gp4", &[b"isom", b"3gp4"])),
            "video/3gpp"
        );
        assert_eq!(accepted("video.3gp", &iso(b"3gp5", &[])), "video/3gpp");
        // An ADTS frame header: MPEG-4 AAC LC, 44.1 kHz, stereo, 371 bytes.
        const ADTS: [u8; 7] = [0xFF, 0xF1, 0x50, 0x80, 0x2E, 0x7F, 0xFC];
        assert_eq!(accepted("voice.aac", &ADTS), "audio/aac");
        // The same after an ID3 tag of 4 bytes.
        let mut tagged = b"ID3\x04\x00\x00\x00\x00\x00\x04TIT2".to_vec();
        tagged.extend_from_slice(&ADTS);
        assert_eq!(accepted("voice.aac", &tagged), "audio/aac");
        assert_eq!(
            accepted("IMG_0042.MOV", &iso(b"qt  ", &[b"qt  "])),
            "video/quicktime"
        );
        assert_eq!(
            accepted("old.mov", b"\0\0\0\x08wide\0\0\x10\0mdat"),
            "video/quicktime"
        );
        // The guide's types stay accepted for customers too.
        assert_eq!(accepted("a.pdf", b"%PDF-1.7\n"), "application/pdf");
    }

    #[test]
    fn agents_still_cannot_send_audio_or_video() {
        for (name, bytes) in [
            ("voice.ogg", OGG_OPUS.to_vec()),
            ("audio.mp3", MP3_FRAME.to_vec()),
            ("video.mp4", iso(b"isom", &[b"avc1"])),
        ] {
            let err = check_file(name, &bytes).unwrap_err();
            assert!(matches!(err, FileRefusal::NotAllowed(_)), "{name}: {err}");
            assert!(err.to_string().contains("cannot be sent in chat"), "{err}");
        }
    }

    #[test]
    fn a_renamed_program_and_audio_only_by_name_are_refused() {
        for name in [
            "voice.ogg",
            "voice.amr",
            "audio.mp3",
            "voice.m4a",
            "video.mp4",
            "video.3gp",
            "voice.aac",
            "video.mov",
        ] {
            let err = check_customer_file(name, EXE).unwrap_err();
            assert!(matches!(err, FileRefusal::Mismatch { .. }), "{name}: {err}");
        }
        assert_eq!(
            check_customer_file("voice.ogg", b"not a voice note")
                .unwrap_err()
                .to_string(),
            "the file's content is not an OGG audio file, though its name ends .ogg"
        );
        assert_eq!(
            check_customer_file("video.mp4", OGG_OPUS)
                .unwrap_err()
                .to_string(),
            "the file's content is not an MP4 video, though its name ends .mp4"
        );
        // A HEIC photo is an ISO media file too, but not a video.
        let heic = iso(b"heic", &[b"mif1", b"heic"]);
        assert!(check_customer_file("video.mp4", &heic).is_err());
        // A JPEG starts 0xFF too; an AAC stream (layer 0) is not an MP3.
        assert!(check_customer_file("audio.mp3", &[0xFF, 0xD8, 0xFF, 0xE0]).is_err());
        assert!(check_customer_file("audio.mp3", &[0xFF, 0xF1, 0x50, 0x80]).is_err());
        // …and an MP3 frame (layer III) is not an AAC one; nor is an MP4 a QuickTime movie.
        assert!(check_customer_file("voice.aac", MP3_FRAME).is_err());
        // Sync bits alone are not a frame: too short, a rate index past 12, no length.
        for not_adts in [
            &[0xFF, 0xF1, 0x50, 0x80][..],
            &[0xFF, 0xF1, 0x74, 0x80, 0x2E, 0x7F, 0xFC],
            &[0xFF, 0xF1, 0x50, 0x80, 0x00, 0x1F, 0xFC],
        ] {
            assert!(
                check_customer_file("voice.aac", not_adts).is_err(),
                "{not_adts:?}"
            );
        }
        assert!(check_customer_file("video.mov", &iso(b"isom", &[b"avc1"])).is_err());
        assert!(
            check_customer_file("setup.exe", EXE)
                .unwrap_err()
                .to_string()
                .starts_with("files ending .exe cannot be sent in chat; it can send PDF")
        );
    }

    #[test]
    fn customer_media_over_10_mb_is_refused() {
        let mut big = OGG_OPUS.to_vec();
        big.resize(super::super::MAX_FILE_BYTES + 1, 0);
        assert!(matches!(
            check_customer_file("voice.ogg", &big),
            Err(FileRefusal::TooLarge { .. })
        ));
    }
}
