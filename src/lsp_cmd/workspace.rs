//! The plans an editor has open: the files on disk with the editor's unsaved buffers laid
//! over them, compiled the way `switchboard check` compiles a folder.
//!
//! A file's plan is the folder it sits in, as `plan_files` decides for `check` and the
//! server (a folder of `.dial` files is one plan), so the editor shows exactly what
//! `switchboard check` on that folder would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_dsl::ide::Analysis;
use switchboard_dsl::{Compiled, PromptCatalog, SourceFile, Sources, compile};
use switchboard_runtime::plan_files;

/// The editor's unsaved text, by file path.
#[derive(Default)]
pub struct Workspace {
    buffers: HashMap<PathBuf, String>,
}

/// One plan folder read with the buffers over it: its files in `FileId` order.
pub struct Plan {
    pub files: Vec<PathBuf>,
    pub sources: Arc<Sources>,
    pub prompts: PromptCatalog,
}

impl Workspace {
    pub fn set_buffer(&mut self, path: PathBuf, text: String) {
        self.buffers.insert(path, text);
    }

    /// The editor closed the file: from now on its plan reads it from disk.
    pub fn drop_buffer(&mut self, path: &Path) {
        self.buffers.remove(path);
    }

    /// The plan `file` belongs to: every `.dial` file of its folder, a buffer standing in
    /// for the file on disk (or for a file not saved yet).
    pub fn plan_of(&self, file: &Path) -> Plan {
        let folder = file.parent().unwrap_or(Path::new("."));
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_plan_file(p))
            .collect();
        files.extend(
            self.buffers
                .keys()
                .filter(|p| p.parent() == Some(folder) && is_plan_file(p))
                .cloned(),
        );
        files.sort();
        files.dedup();
        let mut sources = Sources::new();
        for f in &files {
            let name = f.display().to_string();
            let file = match self.buffers.get(f) {
                Some(text) => SourceFile::new(name, text.clone()),
                // A file that cannot be read now (deleted under the editor) is empty
                // rather than the end of the server.
                None => SourceFile::from_bytes(name, std::fs::read(f).unwrap_or_default()),
            };
            sources.add(file);
        }
        // Without a prompts folder prompt names are not checked, as with `check`.
        let prompts = plan_files::find_prompts_dir(folder)
            .and_then(|d| plan_files::read_prompt_catalog(&d).ok())
            .unwrap_or_else(PromptCatalog::unchecked);
        Plan {
            files,
            sources: Arc::new(sources),
            prompts,
        }
    }
}

/// A `.dial` file; an editor may open others in the same folder (a README), which are not
/// part of the plan.
fn is_plan_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "dial")
}

impl Plan {
    /// The `FileId` of a path in this plan.
    pub fn file_id(&self, path: &Path) -> Option<switchboard_dsl::FileId> {
        self.files
            .iter()
            .position(|f| f == path)
            .map(|i| switchboard_dsl::FileId(i as u32))
    }

    /// The same `compile` as `switchboard check` and the server's reload.
    pub fn compile(&self) -> Compiled {
        compile((*self.sources).clone(), &self.prompts)
    }

    pub fn analysis(&self) -> Analysis {
        Analysis::new(self.sources.clone(), &self.prompts)
    }
}
