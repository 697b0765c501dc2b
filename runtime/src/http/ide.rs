//! Check-as-you-type and the editor's questions (completion, definition, hover, the
//! outline) over the admin's unsaved text, answered by `switchboard_dsl::ide` — the same
//! answers `switchboard lsp` gives — on the plan folder with the buffers laid over it
//! (`plan_overlay`).
//!
//! Positions the editor sends and gets back here are 1-based lines and 1-based columns
//! counted in UTF-16 code units, as CodeMirror counts (`switchboard_dsl::ide::position`).
//! Diagnostics are `switchboard_dsl::render::json_diagnostic`, as everywhere.

use super::AppState;
use super::files::json_body::JsonBody;
use super::files::{FileError, blocking, buffers_overlay, check_buffer};
use super::headers::EDITOR_BODY_LIMIT;
use crate::plan_overlay::{Overlay, PlanText, compile_overlaid, read};
use crate::reload::PlanHolder;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;
use switchboard_dsl::ide::{self, Analysis, NameKind, SymbolKind};
use switchboard_dsl::{FileId, Span};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/check", post(check))
        .route("/api/complete", post(complete))
        .route("/api/definition", post(definition))
        .route("/api/hover", post(hover))
        .route("/api/symbols", get(symbols))
        .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT as usize))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Unsaved buffers by file name; each stands in for its file on disk.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

#[derive(Serialize)]
pub struct CheckAnswer {
    pub diagnostics: Vec<serde_json::Value>,
    /// How long reading and compiling took on the server.
    pub elapsed_ms: f64,
}

/// A question about a place in a buffer: the buffer's text overlays its file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtRequest {
    pub path: String,
    pub text: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in UTF-16 code units.
    pub column: u32,
}

/// A place as the editor counts: 1-based line, 1-based UTF-16 column.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub line: u32,
    pub column: u32,
}

/// A span as the editor counts.
#[derive(Serialize)]
pub struct Place {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

#[derive(Serialize)]
pub struct CompleteAnswer {
    /// Where the completed word starts: it replaces the text from here to the cursor.
    pub from: At,
    pub items: Vec<CompletionItem>,
}

#[derive(Serialize)]
pub struct CompletionItem {
    pub label: String,
    pub kind: &'static str,
    pub detail: Option<String>,
}

#[derive(Serialize)]
pub struct DefinitionAnswer {
    pub path: String,
    #[serde(flatten)]
    pub place: Place,
}

#[derive(Serialize)]
pub struct HoverAnswer {
    pub text: String,
    #[serde(flatten)]
    pub place: Place,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolsQuery {
    pub path: String,
}

#[derive(Serialize)]
pub struct SymbolAnswer {
    pub name: String,
    pub kind: &'static str,
    pub line: u32,
    pub column: u32,
}

/// `POST /api/check`: every finding of the plan with the buffers over it.
async fn check(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CheckRequest>,
) -> Result<Json<CheckAnswer>, FileError> {
    let overlay = buffers_overlay(request.files)?;
    let plans = state.plans.clone();
    blocking(move || {
        let started = Instant::now();
        let compiled = compile_overlaid(&plans, &overlay).map_err(FileError::internal)?;
        let diagnostics = compiled.json_diagnostics();
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        Ok(CheckAnswer {
            diagnostics,
            elapsed_ms: (elapsed * 10.0).round() / 10.0,
        })
    })
    .await
    .map(Json)
}

/// `POST /api/complete`: what may be typed at the cursor.
async fn complete(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<AtRequest>,
) -> Result<Json<CompleteAnswer>, FileError> {
    at_cursor(&state, request, |a, file, offset| {
        let text = &a.sources().get(file).text;
        let from = ide::position(text, a.analysis.completion_start(file, offset));
        let items = a
            .analysis
            .completions(file, offset)
            .into_iter()
            .map(|c| CompletionItem {
                label: c.label,
                kind: name_kind(c.kind),
                detail: c.detail,
            })
            .collect();
        CompleteAnswer {
            from: At {
                line: from.line + 1,
                column: from.character + 1,
            },
            items,
        }
    })
    .await
    .map(Json)
}

/// `POST /api/definition`: where the name at the cursor is defined, or `null`.
async fn definition(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<AtRequest>,
) -> Result<Json<Option<DefinitionAnswer>>, FileError> {
    at_cursor(&state, request, |a, file, offset| {
        let files = a.files();
        a.analysis
            .definition(file, offset)
            .map(|span| DefinitionAnswer {
                path: files[span.file.0 as usize].clone(),
                place: place(a, span),
            })
    })
    .await
    .map(Json)
}

/// `POST /api/hover`: what the word at the cursor is, or `null`.
async fn hover(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<AtRequest>,
) -> Result<Json<Option<HoverAnswer>>, FileError> {
    at_cursor(&state, request, |a, file, offset| {
        a.analysis.hover(file, offset).map(|h| HoverAnswer {
            place: place(a, h.span),
            text: h.text,
        })
    })
    .await
    .map(Json)
}

/// `GET /api/symbols?path=office.dial`: the outline of a file as saved.
async fn symbols(
    State(state): State<AppState>,
    Query(query): Query<SymbolsQuery>,
) -> Result<Json<Vec<SymbolAnswer>>, FileError> {
    let plans = state.plans.clone();
    blocking(move || {
        let name = query.path;
        check_buffer(&name, "")?;
        let asked = Asked::read(&plans, Overlay::new())?;
        let file = asked.file(&name)?;
        let sources = asked.analysis.sources();
        Ok(asked
            .analysis
            .symbols(file)
            .into_iter()
            .map(|s| {
                let at = ide::range(sources, s.name_span).start;
                SymbolAnswer {
                    name: s.name,
                    kind: symbol_kind(s.kind),
                    line: at.line + 1,
                    column: at.character + 1,
                }
            })
            .collect())
    })
    .await
    .map(Json)
}

/// The plan read for a question, with the file names in `FileId` order.
struct Asked {
    text: PlanText,
    analysis: Analysis,
}

impl Asked {
    fn read(plans: &PlanHolder, overlay: Overlay) -> Result<Asked, FileError> {
        let text = read(plans, &overlay).map_err(FileError::internal)?;
        let analysis = text.analysis();
        Ok(Asked { text, analysis })
    }

    fn files(&self) -> &[String] {
        &self.text.files
    }

    fn sources(&self) -> &switchboard_dsl::Sources {
        self.analysis.sources()
    }

    fn file(&self, name: &str) -> Result<FileId, FileError> {
        self.text.file_id(name).ok_or_else(|| {
            FileError::not_found(format!(
                "there is no file {name} in the plan folder; GET /api/files lists them"
            ))
        })
    }
}

/// Reads the plan with the request's buffer over its file and asks `question` at the
/// cursor's byte offset.
async fn at_cursor<T: Send + 'static>(
    state: &AppState,
    request: AtRequest,
    question: impl FnOnce(&Asked, FileId, usize) -> T + Send + 'static,
) -> Result<T, FileError> {
    check_buffer(&request.path, &request.text)?;
    if request.line == 0 || request.column == 0 {
        return Err(FileError::bad_request(format!(
            "line {} column {} is not a place: lines and columns count from 1",
            request.line, request.column
        )));
    }
    let plans = state.plans.clone();
    blocking(move || {
        let overlay = Overlay::new().put(request.path.as_str(), request.text.as_str());
        let asked = Asked::read(&plans, overlay)?;
        let file = asked.file(&request.path)?;
        let offset = ide::offset(
            &asked.sources().get(file).text,
            ide::Position {
                line: request.line - 1,
                character: request.column - 1,
            },
        );
        Ok(question(&asked, file, offset))
    })
    .await
}

fn place(asked: &Asked, span: Span) -> Place {
    let r = ide::range(asked.sources(), span);
    Place {
        line: r.start.line + 1,
        column: r.start.character + 1,
        end_line: r.end.line + 1,
        end_column: r.end.character + 1,
    }
}

fn name_kind(kind: NameKind) -> &'static str {
    match kind {
        NameKind::Flow => "flow",
        NameKind::Extension => "extension",
        NameKind::Queue => "queue",
        NameKind::Trunk => "trunk",
        NameKind::Prompt => "prompt",
        NameKind::Variable => "variable",
        NameKind::StepWord => "step",
    }
}

fn symbol_kind(kind: SymbolKind) -> &'static str {
    match kind {
        SymbolKind::Flow => "flow",
        SymbolKind::Extension => "extension",
        SymbolKind::Queue => "queue",
        SymbolKind::Trunk => "trunk",
        SymbolKind::Test => "test",
    }
}
