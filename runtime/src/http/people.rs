//! The office's people as a signed-in person sees them: `GET /api/me` (who I am and my
//! queues) and `GET /api/people?q=` (colleagues by name or number, for Transfer).
//!
//! Both read the running plan, which says who the people are and which queues they work
//! in; `/api/me` adds from the store whether the person is logged in to each queue. The
//! guard lets only a person's session here (`auth::guard`), and hands the handlers who
//! it is (`SignedInPerson`).

use super::auth::SignedInPerson;
use super::{AppError, AppState};
use axum::extract::{Extension, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::office::{agent_queues, manages};
use switchboard_core::store::Store;

/// At most this many people answer a search: enough to pick from, and a short answer
/// for an empty search in a large office.
pub const MAX_PEOPLE: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/people", get(people))
}

/// `GET /api/me`.
#[derive(Serialize)]
struct Me {
    extension: String,
    name: String,
    /// The queues the person is an agent or a manager of, in plan order.
    queues: Vec<MyQueue>,
}

#[derive(Serialize)]
struct MyQueue {
    queue: String,
    name: Option<String>,
    /// Logged in as an agent of the queue (false for a manager who is not one).
    logged_in: bool,
    /// A manager of the queue (may edit its chat templates, log its agents in and out).
    manager: bool,
}

async fn me(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
) -> Result<Json<Me>, AppError> {
    let plan = state.plans.plan();
    let as_agent: Vec<String> = agent_queues(&plan, &person.extension)
        .into_iter()
        .map(str::to_string)
        .collect();
    let mine: Vec<(String, Option<String>, bool, bool)> = plan
        .queues
        .iter()
        .filter_map(|q| {
            let agent = as_agent.contains(&q.number);
            let manager = manages(&plan, &person.extension, &q.number);
            (agent || manager).then(|| (q.number.clone(), q.name.clone(), agent, manager))
        })
        .collect();
    let extension = person.extension.clone();
    let queues = state
        .store
        .run_sqlite(move |store| {
            mine.into_iter()
                .map(|(queue, name, agent, manager)| {
                    let logged_in = agent && store.queue_logged_in(&extension, &queue)?;
                    Ok(MyQueue {
                        queue,
                        name,
                        logged_in,
                        manager,
                    })
                })
                .collect::<Result<Vec<_>, switchboard_core::store::StoreError>>()
        })
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(Me {
        extension: person.extension,
        name: person.name,
        queues,
    }))
}

/// `GET /api/people`'s query.
#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

/// One of `GET /api/people`'s answers.
#[derive(Serialize, Debug, PartialEq, Eq)]
struct Person {
    extension: String,
    name: String,
}

/// `GET /api/people?q=bru`: the plan's extensions whose name or number holds `q` (any
/// case; an empty `q` matches everyone), in plan order, at most `MAX_PEOPLE`.
async fn people(State(state): State<AppState>, Query(search): Query<Search>) -> Json<Vec<Person>> {
    let plan = state.plans.plan();
    let wanted = search.q.trim().to_lowercase();
    let found = plan
        .extensions
        .iter()
        .filter(|e| {
            e.number.contains(&wanted)
                || e.name
                    .as_deref()
                    .is_some_and(|name| name.to_lowercase().contains(&wanted))
        })
        .take(MAX_PEOPLE)
        .map(|e| Person {
            extension: e.number.clone(),
            name: e.name.clone().unwrap_or_else(|| e.number.clone()),
        })
        .collect();
    Json(found)
}
