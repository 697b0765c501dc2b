//! Reading a plan file for the editor: at most `MAX_FILE_BYTES`, UTF-8 text, and the
//! hash of its bytes that a later save names as the text it replaces.

use super::file_error::{Current, FileError};
use super::plan_path::PlanPath;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The largest plan file the editor opens or writes: 1 MB, far beyond any office's plan.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// A file's bytes as read now, and their hash.
pub struct OnDisk {
    pub bytes: Vec<u8>,
    pub hash: String,
}

/// The hex SHA-256 of `bytes`: a file's version, as `GET /api/files` shows it.
pub fn hash(bytes: &[u8]) -> String {
    crate::hex::encode(&Sha256::digest(bytes))
}

/// Refuses a text over `MAX_FILE_BYTES` before anything is checked or written.
pub fn check_size(name: &PlanPath, len: usize) -> Result<(), FileError> {
    if len > MAX_FILE_BYTES {
        return Err(FileError::TooLarge(format!(
            "the text for {name} is {len} bytes; plan files are at most {MAX_FILE_BYTES} \
             bytes (1 MB) — split it into several files"
        )));
    }
    Ok(())
}

/// Reads `file` (named `name` in the plan folder), refusing one over `MAX_FILE_BYTES`.
pub fn read(name: &PlanPath, file: &Path) -> Result<OnDisk, FileError> {
    let too_large = |len: u64| {
        FileError::TooLarge(format!(
            "{name} is {len} bytes on disk; the editor opens and replaces plan files of at \
             most {MAX_FILE_BYTES} bytes (1 MB) — split it into several files with another \
             editor"
        ))
    };
    let cannot = |e: std::io::Error| FileError::internal(format!("{}: {e}", file.display()));
    let f = std::fs::File::open(file).map_err(cannot)?;
    let len = f.metadata().map_err(cannot)?.len();
    if len > MAX_FILE_BYTES as u64 {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(OnDisk {
        hash: hash(&bytes),
        bytes,
    })
}

impl OnDisk {
    /// What is on disk for a conflict answer; bytes that are not UTF-8 show replaced.
    pub fn current(&self) -> Current {
        Current {
            text: String::from_utf8_lossy(&self.bytes).into_owned(),
            hash: self.hash.clone(),
        }
    }

    /// The text, or a refusal naming where the file stops being UTF-8.
    pub fn text(&self, name: &PlanPath) -> Result<String, FileError> {
        match std::str::from_utf8(&self.bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => {
                let good = &self.bytes[..e.valid_up_to()];
                let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
                Err(FileError::NotText(format!(
                    "{name} is not UTF-8 text (the first byte that is not is at line {line}, \
                     column {column}); save it as UTF-8 in your editor, then open it again"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_hex_sha256() {
        assert_eq!(
            hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_at_its_place() {
        let name = PlanPath::parse("office.dial").unwrap();
        let on_disk = OnDisk {
            hash: String::new(),
            bytes: b"extension 100\nplay caf\xe9\n".to_vec(),
        };
        match on_disk.text(&name) {
            Err(FileError::NotText(m)) => assert!(m.contains("line 2, column 9"), "{m}"),
            _ => panic!("not refused"),
        }
    }
}
