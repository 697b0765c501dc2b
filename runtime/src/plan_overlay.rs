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
use std::path::{Path, PathBuf};
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
    let root = std::fs::canonicalize(dialplans)
        .map_err(|e| format!("cannot read the plan folder {}: {e}", dialplans.display()))?;
    for name in plan_file_names(dialplans)? {
        if overlay.changes.contains_key(&name) {
            continue;
        }
        let path = match file_in_folder(&root, &name) {
            Ok(path) => path,
            Err(refusal) => {
                // The editor reads nothing outside the plan folder; the admin learns why
                // the file is missing from what the editor checks.
                tracing::warn!("the editor skips {}", refusal.words(&name));
                continue;
            }
        };
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

/// Why a plan folder entry that is a symbolic link is not followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// The link points to nothing.
    Dangling,
    /// The link leads out of the folder, or to something that is not a plan file in it.
    Elsewhere(PathBuf),
}

impl LinkRefusal {
    /// Words for the entry `name` that was refused, naming where it leads and the fix.
    pub fn words(&self, name: &str) -> String {
        match self {
            LinkRefusal::Dangling => format!(
                "{name}: it is a symbolic link to a file that does not exist; remove the \
                 link or make it a plain file"
            ),
            LinkRefusal::Elsewhere(target) => format!(
                "{name}: it is a symbolic link to {}, which is not a plan file in the plan \
                 folder; the editor only opens and writes files inside it — copy the file \
                 into the folder instead",
                target.display()
            ),
        }
    }
}

/// The file the entry `name` of the plan folder `root` (canonical) is read from: the entry
/// itself, or, for a symbolic link, the plan file in the same folder it points to. A link
/// leading anywhere else — out of the folder, to a hidden or non-`.dial` file, to
/// nothing — is refused, so the editor never reads or writes outside the folder.
pub fn file_in_folder(root: &Path, name: &str) -> Result<PathBuf, LinkRefusal> {
    let entry = root.join(name);
    let is_link = std::fs::symlink_metadata(&entry).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(entry);
    }
    let target = std::fs::canonicalize(&entry).map_err(|_| LinkRefusal::Dangling)?;
    let inside = target.parent() == Some(root)
        && target
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".dial") && !n.starts_with('.') && n != ".dial");
    if !inside || !target.is_file() {
        return Err(LinkRefusal::Elsewhere(target));
    }
    Ok(target)
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

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_folder_is_not_read_but_one_within_it_is() {
        let (dir, plans, prompts) = folder();
        let outside = dir.path().join("secret.dial");
        std::fs::write(&outside, "extension 900 \"Outside\"\n").unwrap();
        std::os::unix::fs::symlink(&outside, plans.join("leak.dial")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.dial"), plans.join("dangling.dial"))
            .unwrap();
        std::fs::write(plans.join("staff.txt"), "extension 901\n").unwrap();
        std::os::unix::fs::symlink("staff.txt", plans.join("staff.dial")).unwrap();
        let text = read_folder(&plans, &prompts, &Overlay::new()).unwrap();
        assert_eq!(text.files, ["office.dial"]);
        assert!(
            !(0..text.files.len()).any(|i| text
                .sources
                .get(FileId(i as u32))
                .text
                .contains("Outside"))
        );

        let root = std::fs::canonicalize(&plans).unwrap();
        let refused = file_in_folder(&root, "leak.dial").unwrap_err();
        assert!(refused.words("leak.dial").contains("secret.dial"));
        assert_eq!(
            file_in_folder(&root, "dangling.dial"),
            Err(LinkRefusal::Dangling)
        );

        // A link to a plan file beside it is that file.
        std::fs::remove_file(plans.join("staff.dial")).unwrap();
        std::os::unix::fs::symlink("office.dial", plans.join("alias.dial")).unwrap();
        assert_eq!(
            file_in_folder(&root, "alias.dial").unwrap(),
            root.join("office.dial")
        );
        let text = read_folder(&plans, &prompts, &Overlay::new()).unwrap();
        assert_eq!(text.files, ["alias.dial", "office.dial"]);
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
