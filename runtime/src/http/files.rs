//! The plan folder's files for the editor: list, open, create, save, rename, delete, and
//! the text an earlier plan version ran on.
//!
//! Every change is checked first: the whole plan with the change laid over it
//! (`plan_overlay`) is compiled as a reload would, and a plan with errors is refused
//! (422, nothing written) unless the admin insists with `force` — then the file is
//! written and hot reload refuses it as it refuses any broken plan. A change names the
//! hash of the text it replaces, so a file changed on disk since the editor opened it is
//! never overwritten (409, with what is there now). Writes are atomic (`atomic_write`),
//! so the watcher reloads once per save.

mod atomic_write;
mod file_error;
pub(super) mod json_body;
mod on_disk;
mod plan_path;

pub(super) use file_error::FileError;

use super::AppState;
use super::headers::EDITOR_BODY_LIMIT;
use crate::plan_overlay::{Overlay, compile_overlaid};
use crate::reload::{KEPT_VERSIONS, PlanHolder};
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use json_body::JsonBody;
use plan_path::PlanPath;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::UNIX_EPOCH;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/files", get(list))
        .route("/api/files/{*path}", get(open).put(save).delete(delete))
        .route("/api/files-rename", post(rename))
        .route(
            "/api/plan/versions/{version}/files/{*path}",
            get(version_file),
        )
        .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT as usize))
}

/// One change to the plan folder at a time, from its check to its write, so two saves
/// cannot both pass a check made against the other's old text.
static CHANGING: Mutex<()> = Mutex::new(());

#[derive(Serialize)]
pub struct FileList {
    pub root: String,
    pub files: Vec<FileEntry>,
}

#[derive(Serialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub modified_unix: i64,
    /// `None` for a file over 1 MB, which is not read (the editor does not open it).
    pub hash: Option<String>,
    /// The file is over `on_disk::MAX_FILE_BYTES`: listed, but neither read nor hashed.
    pub too_large: bool,
}

#[derive(Serialize)]
pub struct OpenedFile {
    pub path: String,
    pub text: String,
    pub hash: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveRequest {
    pub text: String,
    /// The hash of the text the editor opened; `None` to create a file.
    pub base_hash: Option<String>,
    #[serde(default)]
    pub force: bool,
}

#[derive(Serialize)]
pub struct Saved {
    pub path: String,
    pub hash: String,
    /// Every finding of the whole plan with the change (warnings, or errors when forced).
    pub diagnostics: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub from: String,
    pub to: String,
    /// The hash of the text the editor opened, when it wants the rename refused if the
    /// file changed since.
    #[serde(default)]
    pub base_hash: Option<String>,
    #[serde(default)]
    pub force: bool,
}

#[derive(Serialize)]
pub struct Renamed {
    pub path: String,
    pub hash: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    pub base_hash: Option<String>,
    #[serde(default)]
    pub force: bool,
}

#[derive(Serialize)]
pub struct VersionFile {
    pub version: u64,
    pub path: String,
    pub text: String,
}

/// `GET /api/files`: the plan folder's files the editor can open.
async fn list(State(state): State<AppState>) -> Result<Json<FileList>, FileError> {
    let plans = state.plans.clone();
    blocking(move || {
        let root = plans.dialplans();
        let names = crate::plan_overlay::plan_file_names(root).map_err(FileError::internal)?;
        let mut files = Vec::new();
        for name in names {
            // Hidden files and symbolic links out of the folder are not the editor's.
            let Ok(path) = PlanPath::parse(&name) else {
                continue;
            };
            let Ok(at) = path.locate(root) else { continue };
            // A file removed while the folder is read is simply not listed.
            let Ok(meta) = std::fs::metadata(&at.file) else {
                continue;
            };
            // A file over the limit is not read whole just to be listed.
            let too_large = meta.len() > on_disk::MAX_FILE_BYTES as u64;
            let hash = if too_large {
                None
            } else {
                match on_disk::read(&path, &at.file) {
                    Ok(disk) => Some(disk.hash),
                    // Grown past the limit since `metadata`: listed like one over it.
                    Err(FileError::TooLarge(_)) => None,
                    Err(_) => continue,
                }
            };
            files.push(FileEntry {
                path: name,
                too_large: hash.is_none(),
                hash,
                size: meta.len(),
                modified_unix: meta
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs() as i64),
            });
        }
        Ok(FileList {
            root: root.display().to_string(),
            files,
        })
    })
    .await
    .map(Json)
}

/// `GET /api/files/{path}`: a file's text and hash.
async fn open(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<OpenedFile>, FileError> {
    let name = PlanPath::parse(&raw)?;
    let plans = state.plans.clone();
    blocking(move || {
        let at = name.locate(plans.dialplans())?;
        if !at.exists {
            return Err(no_such_file(&name));
        }
        let disk = on_disk::read(&name, &at.file)?;
        Ok(OpenedFile {
            text: disk.text(&name)?,
            hash: disk.hash,
            path: name.to_string(),
        })
    })
    .await
    .map(Json)
}

/// `PUT /api/files/{path}`: creates (`base_hash` null) or saves a file, checked first.
async fn save(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    JsonBody(request): JsonBody<SaveRequest>,
) -> Result<Json<Saved>, FileError> {
    let name = PlanPath::parse(&raw)?;
    on_disk::check_size(&name, request.text.len())?;
    let plans = state.plans.clone();
    blocking(move || save_now(&plans, &name, request))
        .await
        .map(Json)
}

fn save_now(plans: &PlanHolder, name: &PlanPath, request: SaveRequest) -> Result<Saved, FileError> {
    let _one_change = CHANGING.lock().unwrap_or_else(PoisonError::into_inner);
    let at = name.locate(plans.dialplans())?;
    let disk = if at.exists {
        Some(on_disk::read(name, &at.file)?)
    } else {
        None
    };
    match (&request.base_hash, &disk) {
        (None, Some(disk)) => {
            return Err(FileError::Conflict {
                error: format!(
                    "{name} already exists, so it was not created; open it to change it, or \
                     pick another name"
                ),
                current: Some(disk.current()),
            });
        }
        (Some(_), None) => return Err(gone_since_opened(name)),
        (Some(base), Some(disk)) if *base != disk.hash => {
            return Err(changed_since_opened(name, disk));
        }
        _ => {}
    }
    let hash = on_disk::hash(request.text.as_bytes());
    let overlay = Overlay::new().put(name.as_str(), request.text.as_str());
    let diagnostics = checked(plans, &overlay, request.force, &format!("saving {name}"))?;
    // The same text again changes nothing on disk, so it wakes no reload.
    if disk.is_none() {
        atomic_write::create_atomically(&at.file, request.text.as_bytes()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                appeared_meanwhile(name, &at.file, format!("{name} was not created"))
            } else {
                FileError::internal(format!("creating {}: {e}", at.file.display()))
            }
        })?;
        tracing::info!(file = %name, hash, "the editor created a plan file");
    } else if disk.as_ref().is_some_and(|d| d.hash != hash) {
        atomic_write::write_atomically(&at.file, request.text.as_bytes())
            .map_err(|e| FileError::internal(format!("writing {}: {e}", at.file.display())))?;
        tracing::info!(file = %name, hash, "the editor saved a plan file");
    }
    Ok(Saved {
        path: name.to_string(),
        hash,
        diagnostics,
    })
}

/// `POST /api/files-rename`: renames a file, checked first.
async fn rename(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RenameRequest>,
) -> Result<Json<Renamed>, FileError> {
    let from = PlanPath::parse(&request.from)?;
    let to = PlanPath::parse(&request.to)?;
    if from == to {
        return Err(FileError::bad_request(format!(
            "{from} is already named {to}; give the new name in `to`"
        )));
    }
    let plans = state.plans.clone();
    blocking(move || {
        let _one_change = CHANGING.lock().unwrap_or_else(PoisonError::into_inner);
        let root = plans.dialplans();
        let source = from.locate(root)?;
        if !source.exists {
            return Err(no_such_file(&from));
        }
        let target = to.locate(root)?;
        if target.exists {
            let there = on_disk::read(&to, &target.file)?;
            return Err(FileError::Conflict {
                error: format!(
                    "{to} already exists, so {from} was not renamed; pick another name or \
                     delete {to} first"
                ),
                current: Some(there.current()),
            });
        }
        let disk = on_disk::read(&from, &source.file)?;
        if request.base_hash.as_ref().is_some_and(|b| *b != disk.hash) {
            return Err(changed_since_opened(&from, &disk));
        }
        let text = disk.text(&from)?;
        let overlay = Overlay::new().remove(from.as_str()).put(to.as_str(), text);
        checked(
            &plans,
            &overlay,
            request.force,
            &format!("renaming {from} to {to}"),
        )?;
        atomic_write::rename_durably(&source.entry, &target.entry).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                appeared_meanwhile(&to, &target.file, format!("{from} was not renamed"))
            } else {
                FileError::internal(format!("renaming {from} to {to}: {e}"))
            }
        })?;
        tracing::info!(from = %from, to = %to, "the editor renamed a plan file");
        Ok(Renamed {
            path: to.to_string(),
            hash: disk.hash,
        })
    })
    .await
    .map(Json)
}

/// `DELETE /api/files/{path}?base_hash=...`: deletes a file, checked first.
async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, FileError> {
    let name = PlanPath::parse(&raw)?;
    let Some(base) = query.base_hash else {
        return Err(FileError::bad_request(format!(
            "say which text of {name} you are deleting: add `?base_hash=<hash>` with the \
             hash you opened it with"
        )));
    };
    let plans = state.plans.clone();
    blocking(move || {
        let _one_change = CHANGING.lock().unwrap_or_else(PoisonError::into_inner);
        let root = plans.dialplans();
        let at = name.locate(root)?;
        if !at.exists {
            return Err(no_such_file(&name));
        }
        let disk = on_disk::read(&name, &at.file)?;
        if base != disk.hash {
            return Err(changed_since_opened(&name, &disk));
        }
        let remaining = crate::plan_overlay::plan_file_names(root)
            .map_err(FileError::internal)?
            .into_iter()
            .filter(|n| n != name.as_str())
            .count();
        if remaining == 0 && !query.force {
            return Err(FileError::PlanHasErrors {
                error: format!(
                    "{name} is the plan's last file; without it the server cannot load a \
                     plan and keeps running the one it has. Nothing was deleted; create \
                     another file first, or delete with force=true"
                ),
                diagnostics: Vec::new(),
            });
        }
        let overlay = Overlay::new().remove(name.as_str());
        checked(&plans, &overlay, query.force, &format!("deleting {name}"))?;
        atomic_write::remove_durably(&at.entry)
            .map_err(|e| FileError::internal(format!("deleting {}: {e}", at.entry.display())))?;
        tracing::info!(file = %name, "the editor deleted a plan file");
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// `GET /api/plan/versions/{v}/files/{path}`: the text a recent plan version ran on.
async fn version_file(
    State(state): State<AppState>,
    Path((version, path)): Path<(String, String)>,
) -> Result<Json<VersionFile>, FileError> {
    let v: u64 = version.parse().map_err(|_| {
        FileError::bad_request(format!("`{version}` is not a plan version (a number)"))
    })?;
    let Some(ran) = state.plans.sources_of(v) else {
        return Err(FileError::not_found(format!(
            "plan version {v} is not one the server keeps: it keeps the last {KEPT_VERSIONS} \
             it ran, and runs version {} now",
            state.plans.version()
        )));
    };
    // The version's text was read by a reload, which follows any link; the editor shows
    // only what `PlanPath::locate` would open: a plan file name whose entry in the
    // folder, when it is a symbolic link, stays inside the folder.
    let name = PlanPath::parse(&path)?;
    let plans = state.plans.clone();
    blocking(move || name.locate(plans.dialplans()).map(|_| ())).await?;
    let Some(text) = ran.text(&path) else {
        return Err(FileError::not_found(format!(
            "plan version {v} had no file {path}; its files: {}",
            ran.files.join(", ")
        )));
    };
    Ok(Json(VersionFile {
        version: v,
        path,
        text: text.to_string(),
    }))
}

/// Compiles the plan with `overlay`; its diagnostics, or 422 when it has errors and the
/// admin did not insist. `doing` names the change for the refusal.
fn checked(
    plans: &PlanHolder,
    overlay: &Overlay,
    force: bool,
    doing: &str,
) -> Result<Vec<serde_json::Value>, FileError> {
    let compiled = compile_overlaid(plans, overlay).map_err(FileError::internal)?;
    let diagnostics = compiled.json_diagnostics();
    let errors = compiled.errors();
    if errors > 0 && !force {
        let errors = if errors == 1 {
            "1 error".to_string()
        } else {
            format!("{errors} errors")
        };
        return Err(FileError::PlanHasErrors {
            error: format!(
                "{doing} would leave the plan with {errors}, so nothing was written; fix \
                 {them} first, or save anyway (`\"force\": true`; hot reload will then \
                 refuse the plan and keep running the one it has)",
                them = if errors == "1 error" { "it" } else { "them" }
            ),
            diagnostics,
        });
    }
    Ok(diagnostics)
}

fn no_such_file(name: &PlanPath) -> FileError {
    FileError::not_found(format!(
        "there is no file {name} in the plan folder; GET /api/files lists them"
    ))
}

/// The 409 of a create or rename whose new name was taken, by something other than the
/// editor, between the check and the write: nothing was replaced.
fn appeared_meanwhile(name: &PlanPath, file: &std::path::Path, what: String) -> FileError {
    FileError::Conflict {
        error: format!(
            "{name} appeared in the plan folder while the change was checked, so {what} \
             and the new file was left as it is; pick another name, or open {name}"
        ),
        current: on_disk::read(name, file).ok().map(|disk| disk.current()),
    }
}

fn gone_since_opened(name: &PlanPath) -> FileError {
    FileError::Conflict {
        error: format!(
            "{name} was deleted from the plan folder since you opened it, so nothing was \
             saved; save it with base_hash null to create it again"
        ),
        current: None,
    }
}

fn changed_since_opened(name: &PlanPath, disk: &on_disk::OnDisk) -> FileError {
    FileError::Conflict {
        error: format!(
            "{name} changed on disk since you opened it, so nothing was written; compare \
             your text with `current`, then try again with its hash as base_hash"
        ),
        current: Some(disk.current()),
    }
}

/// Refuses an unsaved buffer whose name is not a plan file name (400) or whose text is
/// over 1 MB (413), in the words a save uses.
pub(super) fn check_buffer(name: &str, text: &str) -> Result<(), FileError> {
    let name = PlanPath::parse(name)?;
    on_disk::check_size(&name, text.len())
}

/// A request's unsaved buffers (`{"files": {name: text}}`) as an overlay on the plan
/// folder, each checked by `check_buffer`.
pub(super) fn buffers_overlay(buffers: BTreeMap<String, String>) -> Result<Overlay, FileError> {
    for (name, text) in &buffers {
        check_buffer(name, text)?;
    }
    Ok(Overlay::with_buffers(buffers))
}

/// Runs file-system work (and compiling) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, FileError> + Send + 'static,
) -> Result<T, FileError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FileError::internal(format!("a files task failed: {e}")))?
}
