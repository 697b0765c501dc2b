//! Plan folders and prompt folders on disk, read into what `compile` takes.
//!
//! A folder holding `.dial` files is one plan; a folder holding only sub-folders (like
//! `examples/`) holds one plan per sub-folder; a single `.dial` file is a plan of its own.

use std::io;
use std::path::{Path, PathBuf};
use switchboard_dsl::{Compiled, PromptCatalog, SourceFile, Sources, compile};

/// One plan to compile: where it was found and its `.dial` files in name order.
#[derive(Debug, Clone)]
pub struct PlanFiles {
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Finds the plans under each path, in the order given.
pub fn find_plans(paths: &[PathBuf]) -> io::Result<Vec<PlanFiles>> {
    let mut plans = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_file() {
            plans.push(PlanFiles {
                root: p.clone(),
                files: vec![p.clone()],
            });
        } else {
            collect_dir(p, &mut plans)?;
        }
    }
    Ok(plans)
}

fn collect_dir(dir: &Path, plans: &mut Vec<PlanFiles>) -> io::Result<()> {
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            subdirs.push(path);
        } else if path.extension().is_some_and(|e| e == "dial") {
            files.push(path);
        }
    }
    files.sort();
    subdirs.sort();
    if !files.is_empty() {
        plans.push(PlanFiles {
            root: dir.to_path_buf(),
            files,
        });
        return Ok(());
    }
    for d in subdirs {
        collect_dir(&d, plans)?;
    }
    Ok(())
}

/// Reads a plan's files; bytes that are not UTF-8 become a diagnostic in `compile`.
pub fn read_sources(plan: &PlanFiles) -> io::Result<Sources> {
    let mut sources = Sources::new();
    for f in &plan.files {
        let bytes = std::fs::read(f)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", f.display())))?;
        sources.add(SourceFile::from_bytes(f.display().to_string(), bytes));
    }
    Ok(sources)
}

/// The `prompts/` folder nearest to a plan: beside it, or in a folder above it.
pub fn find_prompts_dir(plan_root: &Path) -> Option<PathBuf> {
    let start = if plan_root.is_file() {
        plan_root.parent()?.to_path_buf()
    } else {
        plan_root.to_path_buf()
    };
    let start = std::path::absolute(&start).ok()?;
    start
        .ancestors()
        .map(|d| d.join("prompts"))
        .find(|p| p.is_dir())
}

/// Every `prompts/<language>/**/*.wav`, named without the extension (`digits/1`).
pub fn read_prompt_catalog(dir: &Path) -> io::Result<PromptCatalog> {
    let mut catalog = PromptCatalog::unchecked();
    catalog.enabled = true;
    for entry in std::fs::read_dir(dir)? {
        let lang_dir = entry?.path();
        if !lang_dir.is_dir() {
            continue;
        }
        let lang = lang_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        catalog.languages.entry(lang.clone()).or_default();
        add_wavs(&lang_dir, &lang_dir, &lang, &mut catalog)?;
    }
    Ok(catalog)
}

fn add_wavs(base: &Path, dir: &Path, lang: &str, catalog: &mut PromptCatalog) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            add_wavs(base, &path, lang, catalog)?;
        } else if path.extension().is_some_and(|e| e == "wav") {
            let rel = path.strip_prefix(base).unwrap_or(&path).with_extension("");
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            catalog.add(lang, &name);
        }
    }
    Ok(())
}

/// A plan compiled from disk, and whether its prompts could be checked.
pub struct LoadedPlan {
    pub compiled: Compiled,
    /// False when no `prompts/` folder was found: prompt names were not checked.
    pub prompts_checked: bool,
}

/// Reads a plan's files and its prompt catalog (from `prompts`, else the nearest
/// `prompts/` beside or above the plan) and compiles them: the one way from disk to a
/// plan, for `check`, `test`, `simulate` and the server.
pub fn compile_plan(plan: &PlanFiles, prompts: Option<&Path>) -> Result<LoadedPlan, String> {
    let sources = read_sources(plan).map_err(|e| e.to_string())?;
    let dir = prompts
        .map(Path::to_path_buf)
        .or_else(|| find_prompts_dir(&plan.root));
    let catalog = match &dir {
        Some(d) => read_prompt_catalog(d).map_err(|e| format!("{}: {e}", d.display()))?,
        None => PromptCatalog::unchecked(),
    };
    Ok(LoadedPlan {
        compiled: compile(sources, &catalog),
        prompts_checked: dir.is_some(),
    })
}
