//! Writing, renaming and removing plan files so that the folder only ever holds the old
//! file or the new one, each change reaches the disk before it is reported, and the
//! watcher sees one change per save.
//!
//! A save writes a temporary file beside the target, syncs it, renames it over the
//! target and syncs the folder. The temporary name starts with `.` and ends in
//! `.switchboard-tmp`, not `.dial`: neither the watcher (`reload::watch`) nor a compile
//! (`plan_files`) counts it as a plan file, so only the rename — which names the `.dial`
//! file — wakes a reload.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The ending of every temporary file a save makes.
const TEMP_SUFFIX: &str = ".switchboard-tmp";

/// Replaces (or creates) `path` with `bytes` in one rename. The file keeps the mode of
/// the one it replaces.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = parent(path)?;
    let temp = temp_path(path)?;
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    sync_folder(folder)
}

/// Renames `from` to `to` (same folder) and syncs the folder.
pub fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_folder(parent(to)?)
}

/// Removes `path` and syncs its folder.
pub fn remove_durably(path: &Path) -> io::Result<()> {
    std::fs::remove_file(path)?;
    sync_folder(parent(path)?)
}

/// Makes a folder's entries (a rename, a removal) durable.
fn sync_folder(folder: &Path) -> io::Result<()> {
    File::open(folder)?.sync_all()
}

fn parent(path: &Path) -> io::Result<&Path> {
    path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no folder", path.display()),
        )
    })
}

/// `.office.dial.<pid>-<n>.switchboard-tmp` beside `path`: unique per process and save.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a file name is needed"))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Ok(parent(path)?.join(format!(".{name}.{}-{n}{TEMP_SUFFIX}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.dial");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["office.dial"]);
    }

    #[test]
    fn the_temporary_name_is_neither_a_plan_file_nor_visible() {
        let temp = temp_path(Path::new("/plans/office.dial")).unwrap();
        let name = temp.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".office.dial."), "{name}");
        assert!(name.ends_with(TEMP_SUFFIX), "{name}");
        assert_ne!(temp.extension().unwrap(), "dial");
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.dial");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
}
