//! Writing, renaming and removing plan files so that the folder only ever holds the old
//! file or the new one, each change reaches the disk before it is reported, and the
//! watcher sees one change per save.
//!
//! A save writes a temporary file beside the target, syncs it, renames it over the
//! target and syncs the folder. The temporary name starts with `.` and ends in
//! `.switchboard-tmp`, not `.dial`: neither the watcher (`reload::watch`) nor a compile
//! (`plan_files`) counts it as a plan file, so only the rename — which names the `.dial`
//! file — wakes a reload.
//!
//! Creating and renaming never replace a file, even one that appeared after the editor
//! looked: a new file is linked under its name (`hard_link`, which refuses a name that
//! exists) rather than renamed over it, and a rename links the new name before removing
//! the old. Once the change is made, a failed sync of the folder is logged, not reported
//! as a failure: the change happened, and the editor must know its new hash.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The ending of every temporary file a save makes.
const TEMP_SUFFIX: &str = ".switchboard-tmp";

/// Replaces (or creates) `path` with `bytes` in one rename. The file keeps the mode of
/// the one it replaces.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_then_sync(path, bytes, sync_folder)
}

fn write_then_sync(
    path: &Path,
    bytes: &[u8],
    sync: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
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
    settle(folder, sync);
    Ok(())
}

/// Creates `path` with `bytes`, never replacing a file: the text is written to a
/// temporary file, synced, then linked under the name, which fails with
/// `ErrorKind::AlreadyExists` when a file of that name appeared since the caller looked.
pub fn create_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = parent(path)?;
    let temp = temp_path(path)?;
    let linked = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    // Whether or not the link was made, the temporary name goes: the file lives on under
    // `path` when it was.
    let _ = std::fs::remove_file(&temp);
    linked?;
    settle(folder, sync_folder);
    Ok(())
}

/// Renames `from` to `to` (same folder), never replacing a file: `to` is linked first,
/// which fails with `ErrorKind::AlreadyExists` when a file of that name appeared since
/// the caller looked, then `from` is removed and the folder synced.
pub fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to)?;
    if let Err(e) = std::fs::remove_file(from) {
        // Undo the link, so the folder is as it was and the rename reported failed.
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    settle(parent(to)?, sync_folder);
    Ok(())
}

/// Removes `path` and syncs its folder.
pub fn remove_durably(path: &Path) -> io::Result<()> {
    std::fs::remove_file(path)?;
    settle(parent(path)?, sync_folder);
    Ok(())
}

/// Syncs `folder` after a change that is already made: the change is visible and is
/// what the editor must be told of, so a failed sync is logged, not reported as a failed
/// save (which would make the editor think the old text is still there).
fn settle(folder: &Path, sync: impl FnOnce(&Path) -> io::Result<()>) {
    if let Err(e) = sync(folder) {
        tracing::warn!(
            "a plan file was changed in {} but syncing the folder to disk failed: {e}; the \
             change may be lost if the machine loses power now",
            folder.display()
        );
    }
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_folder_sync_after_the_rename_is_still_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.dial");
        std::fs::write(&path, "old").unwrap();
        let failing = |_: &Path| Err(io::Error::other("the disk said no"));
        write_then_sync(&path, b"new", failing).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(names(dir.path()), ["office.dial"]);
    }

    #[test]
    fn a_create_never_replaces_a_file_that_appeared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.dial");
        create_atomically(&path, b"first").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        let err = create_atomically(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        assert_eq!(names(dir.path()), ["new.dial"], "no temporary file is left");
    }

    #[test]
    fn a_rename_never_replaces_a_file_that_appeared() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a.dial");
        let to = dir.path().join("b.dial");
        std::fs::write(&from, "a").unwrap();
        std::fs::write(&to, "b").unwrap();
        let err = rename_durably(&from, &to).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&from).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "b");
        std::fs::remove_file(&to).unwrap();
        rename_durably(&from, &to).unwrap();
        assert_eq!(names(dir.path()), ["b.dial"]);
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "a");
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
