//! `POST /api/simulate`: walk one call through the plan (the editor's unsaved buffers
//! laid over the plan folder), replayed from the caller's actions so far, each step with
//! its source line, the prompts it played and the action it followed.
//!
//! Stateless: the browser sends every action so far and the server walks the call again
//! from the start, with the same `simulation` module `switchboard simulate` uses. The
//! engine is deterministic, so each answer extends the last. Bounds keep one request
//! cheap: at most `MAX_ACTIONS` actions and `MAX_WAIT` of waiting in all.

mod request;

use super::AppState;
use super::files::json_body::JsonBody;
use super::files::{FileError, blocking};
use super::headers::EDITOR_BODY_LIMIT;
use super::plan_tests::editor_plan::{FileLine, editor_plan};
use crate::simulation::{Action, Simulation, unknown_caller};
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use request::{Checked, SimulateRequest};
use serde::Serialize;
use switchboard_core::call::Awaiting;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/simulate", post(simulate))
        .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT as usize))
}

#[derive(Debug, Serialize)]
pub struct Simulated {
    pub steps: Vec<SimStep>,
    pub ended: bool,
    /// `keys` (an `ask`, a menu), `time` (a ring, a queue, a recording) or `null`.
    pub waiting_for: Option<&'static str>,
    /// What the call waits for, in words: `the caller's keys`, `someone to answer`.
    pub waiting: &'static str,
    /// The step the call waits at, to light in the editor; `null` once it ended.
    pub current: Option<FileLine>,
    /// Each action as understood, and why nothing happened when nothing did (a far
    /// end the call was not ringing).
    pub actions: Vec<ActionDone>,
}

#[derive(Debug, Serialize)]
pub struct SimStep {
    pub text: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// `route`, `step`, `play`, `digits`, `branch`, `ignored`, `error` or `ended`.
    pub kind: &'static str,
    /// The first prompt it played (`GET /api/prompts/{language}/{prompt}`), if any.
    pub prompt: Option<String>,
    /// Every prompt it played, in order.
    pub prompts: Vec<String>,
    pub language: Option<String>,
    /// The index of the action it followed; `null` before the first.
    pub after_action: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct ActionDone {
    /// `press 1234#`, `wait 6s`, `extension 102 is busy`.
    pub text: String,
    pub nothing_happened: Option<String>,
}

async fn simulate(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<SimulateRequest>,
) -> Result<Json<Simulated>, FileError> {
    // The request is checked before the plan is compiled: a bad one costs nothing.
    let checked = request.check()?;
    let plan = editor_plan(&state, checked.files.clone()).await?;
    if let Some(why) = unknown_caller(&plan, &checked.caller) {
        return Err(FileError::bad_request(format!(
            "caller: {why}; name a caller the plan defines ({})",
            request::callers_defined(&plan)
        )));
    }
    blocking(move || Ok(Json(walk(plan, checked)))).await
}

fn walk(plan: std::sync::Arc<switchboard_dsl::Plan>, c: Checked) -> Simulated {
    let mut sim = Simulation::start(plan, c.time, c.caller, &c.dial);
    let actions: Vec<ActionDone> = c
        .actions
        .iter()
        .map(|a: &Action| ActionDone {
            text: a.to_string(),
            nothing_happened: sim.act(a).err(),
        })
        .collect();
    let plan = sim.plan().clone();
    let steps = sim
        .steps()
        .into_iter()
        .map(|s| {
            let at = s.span.map(|span| FileLine::of(&plan, span));
            SimStep {
                text: s.text,
                file: at.as_ref().map(|a| a.file.clone()),
                line: at.map(|a| a.line),
                kind: s.kind,
                prompt: s.prompts.first().cloned(),
                prompts: s.prompts,
                language: s.language,
                after_action: s.after_action,
            }
        })
        .collect();
    let call = sim.call();
    Simulated {
        steps,
        ended: call.is_ended(),
        waiting_for: match call.awaiting() {
            Awaiting::Keys => Some("keys"),
            Awaiting::Time => Some("time"),
            Awaiting::Nothing => None,
        },
        waiting: call.waiting_for(),
        current: sim.current().map(|span| FileLine::of(&plan, span)),
        actions,
    }
}
