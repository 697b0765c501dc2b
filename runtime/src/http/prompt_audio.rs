//! `GET /api/prompts/{lang}/{*name}`: a recorded prompt's WAV from the prompts folder,
//! for the simulator to play in the browser.
//!
//! Only a prompt of the catalog is served (`prompts/<lang>/<name>.wav`, as the plan
//! names it), and only from inside the prompts folder: a name with `..` or an absolute
//! path is refused before the disk is touched, and a file that resolves outside the
//! folder (a symbolic link) is refused after.

use super::AppError;
use super::AppState;
use crate::plan_files::read_prompt_catalog;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::path::PathBuf;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/prompts/{lang}/{*name}", get(prompt))
}

async fn prompt(
    State(state): State<AppState>,
    Path((lang, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let name = name.strip_suffix(".wav").unwrap_or(&name).to_string();
    check_name(&lang, &name)?;
    let root = state.plans.prompts().to_path_buf();
    let file = tokio::task::spawn_blocking(move || locate(root, &lang, &name))
        .await
        .map_err(|e| AppError::Internal(format!("finding a prompt stopped: {e}")))??;
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|e| AppError::Internal(format!("cannot read {}: {e}", file.display())))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}

/// Refuses a language or name that could leave the prompts folder: a prompt is named by
/// plain parts joined by `/` (`digits/1`).
fn check_name(lang: &str, name: &str) -> Result<(), AppError> {
    let plain = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && !part.contains(['\\', ':', '\0'])
            && !part.chars().any(char::is_control)
    };
    if !plain(lang) || lang.contains('/') {
        return Err(AppError::BadRequest(format!(
            "`{lang}` is not a prompt language; ask for /api/prompts/<language>/<prompt>, \
             like /api/prompts/en/vm-enter-pin"
        )));
    }
    if name.starts_with('/') || !name.split('/').all(plain) {
        return Err(AppError::BadRequest(format!(
            "`{name}` is not a prompt name: a name is the prompt as the plan writes it \
             (`vm-enter-pin`, `digits/1`), without `..` or a leading `/`"
        )));
    }
    Ok(())
}

/// The prompt's file, if the catalog has it and it is inside the prompts folder.
fn locate(root: PathBuf, lang: &str, name: &str) -> Result<PathBuf, AppError> {
    let catalog = read_prompt_catalog(&root).map_err(|e| {
        AppError::Internal(format!(
            "cannot read the prompts folder {}: {e}",
            root.display()
        ))
    })?;
    if !catalog.has(lang, name) {
        return Err(AppError::NotFound(format!(
            "there is no prompt `{name}` in language `{lang}`; the prompts folder has \
             {lang}/{name}.wav for each prompt a plan plays"
        )));
    }
    let root = std::fs::canonicalize(&root).map_err(|e| {
        AppError::Internal(format!(
            "cannot open the prompts folder {}: {e}",
            root.display()
        ))
    })?;
    let file = root.join(lang).join(format!("{name}.wav"));
    let real = std::fs::canonicalize(&file)
        .map_err(|e| AppError::Internal(format!("cannot open {}: {e}", file.display())))?;
    if !real.starts_with(&root) {
        return Err(AppError::Forbidden(format!(
            "prompt {lang}/{name} is a link to a file outside the prompts folder, which is \
             not served; copy the recording into the folder instead"
        )));
    }
    Ok(real)
}
