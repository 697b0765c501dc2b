//! `GET /api/flow?path=office.dial&line=12` (the flow under the cursor) or
//! `GET /api/flow?name=main_menu`: the flow as a graph — steps, menus and their keys,
//! branches, and the targets it leads to — each node with its file and line, drawn by
//! the editor's diagram (`switchboard_dsl::flow_graph`).
//!
//! Drawn from the plan folder as saved, compiled as a reload would (`editor_plan`).

use super::AppError;
use super::AppState;
use super::files::FileError;
use super::plan_tests::editor_plan::{FileLine, editor_plan};
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use switchboard_dsl::flow_graph::{self, FlowGraph};
use switchboard_dsl::{FileId, Plan};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/flow", get(flow))
}

#[derive(Deserialize)]
pub struct FlowQuery {
    /// A plan file, with `line`: the flow whose definition spans that line.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub line: Option<String>,
    /// A flow by name.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FlowView {
    pub flow: String,
    /// Where the flow is defined.
    #[serde(flatten)]
    pub at: FileLine,
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
}

#[derive(Debug, Serialize)]
pub struct NodeView {
    pub id: usize,
    /// `start`, `step`, `menu`, `branch`, `loop`, `target` or `end`.
    pub kind: &'static str,
    pub label: String,
    #[serde(flatten)]
    pub at: FileLine,
    /// The flow a `goto` or `call` target leads to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EdgeView {
    pub from: usize,
    pub to: usize,
    /// A menu key, `timeout`, `yes`, `no`, ...; `null` for "then".
    pub label: Option<String>,
}

async fn flow(
    State(state): State<AppState>,
    Query(query): Query<FlowQuery>,
) -> Result<Json<FlowView>, FileError> {
    let wanted = Wanted::read(query)?;
    let plan = editor_plan(&state, None).await?;
    let graph = match &wanted {
        Wanted::Name(name) => flow_graph::flow_graph(&plan, name)
            .ok_or_else(|| AppError::NotFound(format!("the plan has no flow named `{name}`")))?,
        Wanted::At { path, line } => {
            let file = file_id(&plan, path).ok_or_else(|| {
                AppError::NotFound(format!(
                    "`{path}` is not a file of the plan; name a `.dial` file in the plan folder"
                ))
            })?;
            let f = flow_graph::flow_at(&plan, file, *line).ok_or_else(|| {
                AppError::NotFound(format!(
                    "no flow is defined around line {line} of {path}; put the cursor inside a \
                     `flow` block"
                ))
            })?;
            flow_graph::build(&plan, f)
        }
    };
    Ok(Json(view(&plan, graph)))
}

/// What the query asks for.
enum Wanted {
    Name(String),
    At { path: String, line: u32 },
}

impl Wanted {
    fn read(q: FlowQuery) -> Result<Wanted, AppError> {
        let how = "ask `?path=office.dial&line=12` (the flow around that line) or \
                   `?name=main_menu`";
        match (q.name, q.path, q.line) {
            (Some(name), None, None) => Ok(Wanted::Name(name)),
            (None, Some(path), Some(line)) => match line.trim().parse::<u32>() {
                Ok(line) if line >= 1 => Ok(Wanted::At { path, line }),
                _ => Err(AppError::BadRequest(format!(
                    "line `{line}` is not a line number (1 or more); {how}"
                ))),
            },
            _ => Err(AppError::BadRequest(format!(
                "say which flow: {how}, not both"
            ))),
        }
    }
}

fn file_id(plan: &Plan, path: &str) -> Option<FileId> {
    plan.sources
        .iter()
        .find(|(_, f)| f.path == path)
        .map(|(id, _)| id)
}

fn view(plan: &Plan, g: FlowGraph) -> FlowView {
    FlowView {
        flow: g.flow,
        at: FileLine::of(plan, g.span),
        nodes: g
            .nodes
            .into_iter()
            .map(|n| NodeView {
                id: n.id.0,
                kind: n.kind.as_str(),
                label: n.label,
                at: FileLine::of(plan, n.span),
                flow: n.flow,
            })
            .collect(),
        edges: g
            .edges
            .into_iter()
            .map(|e| EdgeView {
                from: e.from.0,
                to: e.to.0,
                label: e.label,
            })
            .collect(),
    }
}
