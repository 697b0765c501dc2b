//! Files and folders only the server's own user may read: recordings are people's
//! voices and the store holds credential digests and PIN hashes, so the data folder is
//! created `0700` and its files `0600`, whatever the umask. A folder or file an older
//! version (or an admin) left looser is tightened, and the caller logs that it was.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of a private folder: the owner may list, enter and write it; nobody else
/// may do anything.
pub const DIR_MODE: u32 = 0o700;

/// The mode of a private file.
pub const FILE_MODE: u32 = 0o600;

/// What `dir` or `tighten` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Created now, or already private.
    Private,
    /// It existed with this looser mode and was narrowed to the private one.
    Tightened { was: u32 },
}

/// Creates `path` and its missing parents `0700`, and tightens `path` itself when it
/// already existed with group or other bits (its parents are the admin's business).
pub fn dir(path: &Path) -> io::Result<Found> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)?;
    tighten(path, DIR_MODE)
}

/// Narrows an existing `path` to `mode` when group or other may do anything with it.
/// Only the group and other bits are looked at: the owner's are left as they are.
pub fn tighten(path: &Path, mode: u32) -> io::Result<Found> {
    let was = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if was & 0o077 == 0 {
        return Ok(Found::Private);
    }
    std::fs::set_permissions(path, Permissions::from_mode(mode))?;
    Ok(Found::Tightened { was })
}

/// `OpenOptions` that create a file `0600`. An existing file keeps its mode: pair it
/// with `tighten` where one may already be there.
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Logs a tightening, so an admin sees why a folder's mode changed under them.
pub fn log(path: &Path, found: Found) {
    if let Found::Tightened { was } = found {
        tracing::warn!(
            "{} was readable by others (mode {was:o}): tightened to owner only",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_private_and_loose_ones_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b");
        assert_eq!(dir(&deep).unwrap(), Found::Private);
        assert_eq!(mode(&deep), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);

        std::fs::set_permissions(&deep, Permissions::from_mode(0o755)).unwrap();
        assert_eq!(dir(&deep).unwrap(), Found::Tightened { was: 0o755 });
        assert_eq!(mode(&deep), 0o700);

        let file = deep.join("f");
        options().write(true).create(true).open(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            tighten(&file, FILE_MODE).unwrap(),
            Found::Tightened { was: 0o644 }
        );
        assert_eq!(mode(&file), 0o600);
        assert_eq!(tighten(&file, FILE_MODE).unwrap(), Found::Private);
    }
}
