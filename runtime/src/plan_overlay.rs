//! The plan the server runs, with the editor's unsaved buffers laid over it.
//!
//! The editor checks, tests and simulates text that is not saved yet, and checks a save,
//! a rename or a delete before doing it. Each of those reads the server's plan folder and
//! prompts folder as hot reload does (`PlanHolder::dialplans`, `PlanHolder::prompts`),
//! replaces, adds or takes away the files the editor names, and hands the result to the
//! same `switchboard_dsl::compile` — so what the editor shows is what a reload would do.
//!
//! Files are named by their name in the plan folder (`office.dial`), which is also the
//! path every diagnostic and trace of an overlaid plan carries. Only files found in the
//! folder are read from disk; a buffer's name is never opened, so checking a buffer
//! cannot read a file outside the folder.

use crate::plan_files::read_prompt_catalog;
use crate::reload::PlanHolder;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use switchboard_dsl::ide::Analysis;
use switchboard_dsl::render::json_diagnostic;
use switchboard_dsl::{Diagnostic, FileId, Plan, PromptCatalog, SourceFile, Sources, compile};

/// The editor's changes to the plan folder, by file name: the text standing in for the
/// file on disk (or for a file not on disk yet), or `None` for a file taken away.
#[derive(Clone, Debug, Default)]
pub struct Overlay {
    changes: BTreeMap<String, Option<String>>,
}

impl Overlay {
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// `name`'s text is `text`, saved or not.
    pub fn put(mut self, name: impl Into<String>, text: impl Into<String>) -> Overlay {
        self.changes.insert(name.into(), Some(text.into()));
        self
    }

    /// `name` is no longer part of the plan (deleted, or renamed away).
    pub fn remove(mut self, name: impl Into<String>) -> Overlay {
        self.changes.insert(name.into(), None);
        self
    }

    /// Every buffer of `buffers` stands in for its file.
    pub fn with_buffers(buffers: impl IntoIterator<Item = (String, String)>) -> Overlay {
        buffers
            .into_iter()
            .fold(Overlay::new(), |o, (name, text)| o.put(name, text))
    }
}

/// The plan folder's text with an overlay applied, and the prompt catalog, ready to
/// compile or to answer an editor's questions.
pub struct PlanText {
    /// The file names in `FileId` order (name order, as `plan_files` reads a folder).
    pub files: Vec<String>,
    pub sources: Arc<Sources>,
    pub prompts: PromptCatalog,
}

/// A compiled overlaid plan: the plan when there are no errors, and every finding.
pub struct OverlaidPlan {
    pub plan: Option<Arc<Plan>>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Arc<Sources>,
    /// The file names in `FileId` order.
    pub files: Vec<String>,
}

/// Reads the plan folder `plans` runs, with `overlay` applied, and its prompt catalog.
/// Errors name the folder that could not be read.
pub fn read(plans: &PlanHolder, overlay: &Overlay) -> Result<PlanText, String> {
    read_folder(plans.dialplans(), plans.prompts(), overlay)
}

/// `read`, then `switchboard_dsl::compile`: the plan a reload would load if the overlay
/// were saved.
pub fn compile_overlaid(plans: &PlanHolder, overlay: &Overlay) -> Result<OverlaidPlan, String> {
    Ok(read(plans, overlay)?.compile())
}

/// `read` for a plan folder and prompts folder given by path.
pub fn read_folder(
    dialplans: &Path,
    prompts: &Path,
    overlay: &Overlay,
) -> Result<PlanText, String> {
    let mut texts: BTreeMap<String, SourceFile> = BTreeMap::new();
    for name in plan_file_names(dialplans)? {
        if overlay.changes.contains_key(&name) {
            continue;
        }
        let path = dialplans.join(&name);
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // Bytes that are not UTF-8 become `compile`'s `not-utf8` finding, as on reload.
        texts.insert(name.clone(), SourceFile::from_bytes(name, bytes));
    }
    for (name, change) in &overlay.changes {
        if let Some(text) = change {
            texts.insert(name.clone(), SourceFile::new(name.clone(), text.clone()));
        }
    }
    let catalog = read_prompt_catalog(prompts).map_err(|e| {
        format!(
            "cannot read the prompts folder {}: {e}; set --prompts",
            prompts.display()
        )
    })?;
    let mut sources = Sources::new();
    let files = texts.keys().cloned().collect();
    for (_, file) in texts {
        sources.add(file);
    }
    Ok(PlanText {
        files,
        sources: Arc::new(sources),
        prompts: catalog,
    })
}

/// The `.dial` files directly in `folder`, by name: what `plan_files` makes a plan of.
pub fn plan_file_names(folder: &Path) -> Result<Vec<String>, String> {
    let cannot =
        |e: std::io::Error| format!("cannot read the plan folder {}: {e}", folder.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(cannot)? {
        let path = entry.map_err(cannot)?.path();
        if path.is_dir() || path.extension().is_none_or(|e| e != "dial") {
            continue;
        }
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

impl PlanText {
    /// The same `compile` as `switchboard check` and the server's reload.
    pub fn compile(self) -> OverlaidPlan {
        let compiled = compile((*self.sources).clone(), &self.prompts);
        OverlaidPlan {
            plan: compiled.plan,
            diagnostics: compiled.diagnostics,
            sources: compiled.sources,
            files: self.files,
        }
    }

    /// The plan read for an editor's questions (completion, definition, hover, outline).
    pub fn analysis(&self) -> Analysis {
        Analysis::new(self.sources.clone(), &self.prompts)
    }

    pub fn file_id(&self, name: &str) -> Option<FileId> {
        file_id(&self.files, name)
    }
}

impl OverlaidPlan {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn file_id(&self, name: &str) -> Option<FileId> {
        file_id(&self.files, name)
    }

    /// Every finding as `switchboard check --format json` writes it.
    pub fn json_diagnostics(&self) -> Vec<serde_json::Value> {
        self.diagnostics
            .iter()
            .map(|d| serde_json::to_value(json_diagnostic(d, &self.sources)).unwrap_or_default())
            .collect()
    }
}

fn file_id(files: &[String], name: &str) -> Option<FileId> {
    files
        .iter()
        .position(|f| f == name)
        .map(|i| FileId(i as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = "extension 100 \"Front Desk\"\n";

    fn folder() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), OFFICE).unwrap();
        std::fs::write(plans.join("notes.txt"), "not a plan file").unwrap();
        (dir, plans, prompts)
    }

    #[test]
    fn a_buffer_replaces_its_file_and_adds_a_new_one() {
        let (_dir, plans, prompts) = folder();
        let overlay = Overlay::new()
            .put(
                "office.dial",
                "extension 100 \"Front Desk\"\nextension 101\n",
            )
            .put("more.dial", "extension 102\n");
        let text = read_folder(&plans, &prompts, &overlay).unwrap();
        assert_eq!(text.files, ["more.dial", "office.dial"]);
        let office = text.file_id("office.dial").unwrap();
        assert!(text.sources.get(office).text.contains("extension 101"));
        let compiled = text.compile();
        assert!(compiled.plan.is_some(), "{:?}", compiled.diagnostics);
        assert_eq!(compiled.plan.unwrap().extensions.len(), 3);
    }

    #[test]
    fn a_removed_file_leaves_the_plan_and_findings_name_files_by_their_name() {
        let (_dir, plans, prompts) = folder();
        std::fs::write(
            plans.join("queues.dial"),
            "queue 800 \"Sales\" {\n    agents 100\n}\n",
        )
        .unwrap();
        let overlay = Overlay::new().remove("office.dial");
        let compiled = read_folder(&plans, &prompts, &overlay).unwrap().compile();
        assert_eq!(compiled.files, ["queues.dial"]);
        assert!(compiled.errors() > 0, "agent 100 is defined nowhere now");
        let first = &compiled.json_diagnostics()[0];
        assert_eq!(first["file"], "queues.dial");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let (dir, _plans, prompts) = folder();
        let missing = dir.path().join("nowhere");
        let err = read_folder(&missing, &prompts, &Overlay::new())
            .err()
            .unwrap();
        assert!(err.contains("nowhere"), "{err}");
    }
}
