//! A plan file the editor names, checked before anything on disk is touched: a plain
//! `.dial` file name directly in the plan folder — no `..`, no absolute path, no folder,
//! no hidden name — and, once on disk, not a symbolic link leading out of the folder.
//!
//! A plan is the `.dial` files directly in its folder (the watcher does not look deeper),
//! so a name with a `/` could only ever name a file the server would not run.

use super::FileError;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The longest file name most file systems take.
const MAX_NAME_BYTES: usize = 255;

/// A checked plan file name, such as `office.dial`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPath(String);

/// Where a plan file is on disk.
#[derive(Debug)]
pub struct Located {
    /// The entry in the plan folder: what a rename or delete acts on.
    pub entry: PathBuf,
    /// The file the entry is, or (for a symbolic link within the folder) points to:
    /// what is read and written.
    pub file: PathBuf,
    pub exists: bool,
}

impl PlanPath {
    /// Checks `raw` as the editor sends it (`office.dial`), with a refusal that says
    /// what is wrong and what to send instead.
    pub fn parse(raw: &str) -> Result<PlanPath, FileError> {
        let refuse = |why: &str| {
            FileError::bad_request(format!(
                "`{raw}` is not a plan file name: {why}; name a file directly in the plan \
                 folder, such as `office.dial`"
            ))
        };
        if raw.is_empty() {
            return Err(refuse("it is empty"));
        }
        if raw.starts_with('/') || raw.starts_with('\\') || raw.get(1..2) == Some(":") {
            return Err(refuse("it is an absolute path"));
        }
        if raw.split(['/', '\\']).any(|part| part == "..") {
            return Err(refuse("`..` would leave the plan folder"));
        }
        if raw.contains(['/', '\\']) {
            return Err(refuse(
                "plan files sit directly in the plan folder, not in a folder of it",
            ));
        }
        if raw.contains('\0') || raw.chars().any(char::is_control) {
            return Err(refuse("it holds a control character"));
        }
        if raw.starts_with('.') {
            return Err(refuse(
                "hidden names (starting with `.`) are not plan files",
            ));
        }
        if !raw.ends_with(".dial") || raw.len() == ".dial".len() {
            return Err(refuse("plan files end in `.dial`"));
        }
        if raw.len() > MAX_NAME_BYTES {
            return Err(refuse("it is longer than 255 bytes"));
        }
        Ok(PlanPath(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Finds the file in `root`. A symbolic link is followed only to a plan file in the
    /// same folder; one leading anywhere else is refused, so the editor never reads or
    /// writes outside the plan folder.
    pub fn locate(&self, root: &Path) -> Result<Located, FileError> {
        let root = std::fs::canonicalize(root).map_err(|e| {
            FileError::internal(format!(
                "cannot open the plan folder {}: {e}",
                root.display()
            ))
        })?;
        let entry = root.join(&self.0);
        let meta = match std::fs::symlink_metadata(&entry) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Ok(Located {
                    file: entry.clone(),
                    entry,
                    exists: false,
                });
            }
            Err(e) => return Err(FileError::internal(format!("{}: {e}", entry.display()))),
        };
        let name = &self.0;
        if meta.file_type().is_symlink() {
            // The rule the editor's checks read the folder by (`plan_overlay`).
            let file = crate::plan_overlay::file_in_folder(&root, name)
                .map_err(|refused| FileError::bad_request(refused.words(name)))?;
            return Ok(Located {
                entry,
                file,
                exists: true,
            });
        }
        if !meta.is_file() {
            return Err(FileError::bad_request(format!(
                "{name} in the plan folder is not a file (a folder or a device); rename it \
                 or pick another name"
            )));
        }
        Ok(Located {
            file: entry.clone(),
            entry,
            exists: true,
        })
    }
}

impl std::fmt::Display for PlanPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        match PlanPath::parse(raw) {
            Err(FileError::App(crate::http::AppError::BadRequest(m))) => m,
            other => panic!("`{raw}` was not refused as a bad request: {other:?}"),
        }
    }

    #[test]
    fn plain_dial_names_pass() {
        assert_eq!(
            PlanPath::parse("office.dial").unwrap().as_str(),
            "office.dial"
        );
        assert!(PlanPath::parse("tests ivr é.dial").is_ok());
    }

    #[test]
    fn escapes_folders_hidden_and_other_names_are_refused_with_the_reason() {
        assert!(refused("../office.dial").contains("`..`"));
        assert!(refused("a/../../x.dial").contains("`..`"));
        assert!(refused("/etc/passwd").contains("absolute"));
        assert!(refused("C:\\x.dial").contains("absolute"));
        assert!(refused("sub/office.dial").contains("directly in the plan folder"));
        assert!(refused(".office.dial").contains("hidden"));
        assert!(refused("office.txt").contains("end in `.dial`"));
        assert!(refused(".dial").contains("hidden"));
        assert!(refused("a\0.dial").contains("control"));
        assert!(refused("").contains("empty"));
        assert!(refused(&format!("{}.dial", "a".repeat(300))).contains("255"));
    }
}
