//! `POST /api/tests`: run the plan's `test` blocks (the editor's unsaved buffers laid
//! over the plan folder) and answer each outcome, a failure with the step that failed and
//! the call's trace, every entry linked to its file and line.
//!
//! The same `run_tests` as `switchboard test`, in the same simulated office, so the
//! editor and the shell always agree.

pub(super) mod editor_plan;

use super::AppState;
use super::files::json_body::JsonBody;
use super::files::{FileError, blocking};
use super::headers::EDITOR_BODY_LIMIT;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use editor_plan::{Buffers, FileLine, editor_plan};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_core::test_run::{Failure, run_tests};
use switchboard_dsl::Plan;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tests", post(tests))
        .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT as usize))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestsRequest {
    /// Unsaved buffers standing in for their files.
    #[serde(default)]
    pub files: Option<Buffers>,
}

#[derive(Debug, Serialize)]
pub struct TestReport {
    pub passed: usize,
    pub failed: usize,
    pub tests: Vec<TestResult>,
}

#[derive(Debug, Serialize)]
pub struct TestResult {
    pub name: String,
    /// Where the test is written.
    #[serde(flatten)]
    pub at: FileLine,
    pub passed: bool,
    pub failure: Option<TestFailure>,
}

#[derive(Debug, Serialize)]
pub struct TestFailure {
    /// `expected play vm-main, but the call did: play goodbye; hangup`.
    pub message: String,
    /// The test step that failed.
    #[serde(flatten)]
    pub at: FileLine,
    pub expected: String,
    /// What the call did instead, since the last expectation that held.
    pub instead: Vec<String>,
    /// The call's whole trace.
    pub trace: Vec<TraceLine>,
}

/// One trace entry: its words and the plan line that made it (none for the call's own
/// bookkeeping, such as the caller hanging up).
#[derive(Debug, Serialize)]
pub struct TraceLine {
    pub text: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

async fn tests(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<TestsRequest>,
) -> Result<Json<TestReport>, FileError> {
    let plan = editor_plan(&state, request.files).await?;
    Ok(Json(blocking(move || Ok(report(&plan))).await?))
}

/// Runs every test of `plan`, in source order.
pub fn report(plan: &Arc<Plan>) -> TestReport {
    // `run_tests` answers one outcome per test, in the plan's order.
    let tests: Vec<TestResult> = run_tests(plan)
        .into_iter()
        .zip(&plan.tests)
        .map(|(outcome, test)| TestResult {
            name: outcome.name,
            at: FileLine::of(plan, test.span),
            passed: outcome.failure.is_none(),
            failure: outcome.failure.map(|f| failure(plan, f)),
        })
        .collect();
    let passed = tests.iter().filter(|t| t.passed).count();
    TestReport {
        passed,
        failed: tests.len() - passed,
        tests,
    }
}

fn failure(plan: &Plan, f: Failure) -> TestFailure {
    let did = if f.instead.is_empty() {
        "but the call did nothing more".to_string()
    } else {
        format!("but the call did: {}", f.instead.join("; "))
    };
    TestFailure {
        message: format!("expected {}, {did}", f.expected),
        at: FileLine::of(plan, f.span),
        expected: f.expected,
        instead: f.instead,
        trace: f
            .trace
            .iter()
            .map(|e| {
                let at = e.span.map(|s| FileLine::of(plan, s));
                TraceLine {
                    text: e.what.to_string(),
                    file: at.as_ref().map(|a| a.file.clone()),
                    line: at.map(|a| a.line),
                }
            })
            .collect(),
    }
}
