//! The plan an editor request runs on: the plan folder with the request's unsaved buffers
//! laid over it (`plan_overlay`), compiled as a reload would. Tests, the simulator and the
//! diagram only run a plan the server could load, so one with errors is refused with its
//! diagnostics (422), for the editor to show.

use crate::http::AppState;
use crate::http::files::{FileError, blocking, buffers_overlay};
use crate::plan_overlay::compile_overlaid;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_dsl::{Plan, Span, render};

/// Unsaved buffers by file name in the plan folder (`office.dial`), as the editor sends them.
pub type Buffers = BTreeMap<String, String>;

/// Compiles the plan folder with `buffers` over it, off the async threads.
pub async fn editor_plan(
    state: &AppState,
    buffers: Option<Buffers>,
) -> Result<Arc<Plan>, FileError> {
    // Buffer names are checked as the files routes check them: a `.dial` file directly in
    // the plan folder.
    let overlay = buffers_overlay(buffers.unwrap_or_default())?;
    let plans = state.plans.clone();
    let compiled =
        blocking(move || compile_overlaid(&plans, &overlay).map_err(FileError::internal)).await?;
    match compiled.plan.clone() {
        Some(plan) => Ok(plan),
        None => {
            let errors = compiled.errors();
            Err(FileError::PlanHasErrors {
                error: format!(
                    "the plan has {errors} error{}; fix {} (see `diagnostics`) and try again",
                    if errors == 1 { "" } else { "s" },
                    if errors == 1 { "it" } else { "them" },
                ),
                diagnostics: compiled.json_diagnostics(),
            })
        }
    }
}

/// A place in the plan as the editor links to it: the file in the plan folder and the
/// 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileLine {
    pub file: String,
    pub line: u32,
}

impl FileLine {
    pub fn of(plan: &Plan, span: Span) -> FileLine {
        let place = render::place(span, &plan.sources);
        FileLine {
            file: place.file,
            line: place.line,
        }
    }
}
