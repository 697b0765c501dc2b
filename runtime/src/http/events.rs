//! `GET /api/events`: server-sent events telling the editor, as they happen, the plan
//! version and how the last reload went (`plan`), that the office changed (`office`) and
//! that a call started or ended (`calls`) — so no page polls.
//!
//! Each stream follows three counters (`PlanHolder::attempts`, `OfficeChanges`,
//! `CallLog::changes`) and sends an event when one moves; a burst of changes between
//! two reads becomes one event, which is all the browser needs to fetch afresh. A
//! stream never ends by itself, so the HTTP server ends every stream when it stops
//! (`end_streams_on`), or its graceful shutdown would wait for them forever.
//!
//! A stream also ends with the session it was opened in (`LiveSession`, which the guard
//! puts in the request): at the session's expiry, and as soon as it is found gone from
//! the store — logged out, or ended by `admin set-password`/`remove` — which is looked
//! up before each event and every `RECHECK` while idle. The guard checked the session
//! once, at connect; without this a stream would go on telling a signed-out browser.

use super::AppState;
use super::time;
use crate::reload::{LastAttempt, PlanHolder};
use axum::extract::{Extension, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Router, middleware};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often an idle stream sends a comment, so proxies and the browser keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How often an idle stream looks its session up in the store: a logged-out browser
/// hears nothing more, and its stream ends within this long even when nothing happens.
pub const RECHECK: Duration = Duration::from_secs(15);

/// The session a request was signed in with, as the guard found it: the SHA-256 of its
/// token (what the store keeps) and when it ends. A stream keeps it to end with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    pub token_sha256: String,
    /// Milliseconds since the Unix epoch.
    pub expires_ms: u64,
    /// A person's extension (`None` for an admin): the session opens nothing once the
    /// running plan no longer defines it, so the stream ends at the reload that took it.
    pub person: Option<String>,
}

/// Whether `session` still opens anything: not expired by the server's clock and still
/// in the store (a log-out, `admin set-password` or `remove` deletes it). A store that
/// cannot answer counts as ended: a stream must not outlive a session it cannot see.
pub(super) async fn session_is_live(state: &AppState, session: &LiveSession) -> bool {
    let now = state.auth.settings().clock.now_ms();
    if now >= session.expires_ms || out_of_the_plan(state, session) {
        return false;
    }
    let digest = session.token_sha256.clone();
    matches!(
        state
            .store
            .run_sqlite(move |store| store.session(&digest, now))
            .await,
        Ok(Ok(Some(_)))
    )
}

/// Completes when `session` expires by the server's clock, or when a reload takes a
/// person's extension out of the plan (a session ended in the store is
/// `session_is_live`'s to find).
pub(super) async fn session_ended(state: &AppState, session: &LiveSession) {
    let now = state.auth.settings().clock.now_ms();
    let left = session.expires_ms.saturating_sub(now);
    let expired = tokio::time::sleep(Duration::from_millis(left));
    if session.person.is_none() {
        return expired.await;
    }
    // Subscribed before the first look, so a reload between the two is not missed.
    let mut versions = state.plans.versions();
    let left_the_plan = async {
        while !out_of_the_plan(state, session) {
            if versions.changed().await.is_err() {
                // The holder is gone, and with it the server: only expiry is left.
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = expired => {}
        () = left_the_plan => {}
    }
}

/// Whether `session` is a person's whose extension the running plan no longer defines.
fn out_of_the_plan(state: &AppState, session: &LiveSession) -> bool {
    session.person.as_deref().is_some_and(|extension| {
        super::auth::SignedInPerson::in_plan(&state.plans.plan(), extension).is_none()
    })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/events", get(events))
}

/// `event: plan` data.
#[derive(Serialize)]
pub struct PlanEvent {
    pub version: u64,
    /// RFC 3339, UTC.
    pub loaded_at: String,
    pub last_attempt: LastAttempt,
}

/// Cancelled when the HTTP server stops: every open event stream ends.
#[derive(Clone)]
pub(super) struct Stopping(pub(super) CancellationToken);

/// `app` with its event streams ending when `cancel` completes, and the future to hand
/// the server as its own stop signal (it completes once the streams are told).
pub fn end_streams_on(
    app: Router,
    cancel: impl Future<Output = ()> + Send + 'static,
) -> (Router, impl Future<Output = ()> + Send + 'static) {
    let token = CancellationToken::new();
    let stopping = Stopping(token.clone());
    let app = app.layer(middleware::from_fn(
        move |mut request: axum::extract::Request, next: middleware::Next| {
            request.extensions_mut().insert(stopping.clone());
            next.run(request)
        },
    ));
    let cancel = async move {
        cancel.await;
        token.cancel();
    };
    (app, cancel)
}

async fn events(
    State(state): State<AppState>,
    stopping: Option<Extension<Stopping>>,
    session: Option<Extension<LiveSession>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feed = Feed {
        session: session.map(|Extension(s)| s),
        attempts: state.plans.attempts(),
        office: Some(state.office_changes.subscribe()),
        calls: Some(state.calls.changes()),
        stopping: stopping.map_or_else(CancellationToken::new, |Extension(s)| s.0),
        first: true,
        state,
    };
    Sse::new(stream::unfold(feed, Feed::next)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// One stream's place: the counters it follows and whether it has said hello.
struct Feed {
    state: AppState,
    attempts: watch::Receiver<u64>,
    /// `None` once the counter's owner is gone.
    office: Option<watch::Receiver<u64>>,
    calls: Option<watch::Receiver<u64>>,
    stopping: CancellationToken,
    /// The session the stream was opened in; the stream ends with it.
    session: Option<LiveSession>,
    first: bool,
}

impl Feed {
    /// The next event; `None` ends the stream (the server is stopping, or the session
    /// ended).
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Feed)> {
        if self.first {
            // On connect: where the plan is now, so the page needs no other request. The
            // guard has just found the session live.
            self.first = false;
            self.attempts.borrow_and_update();
            let event = plan_event(&self.state.plans);
            return Some((Ok(event), self));
        }
        let event = self.changed().await?;
        match &self.session {
            Some(session) if !session_is_live(&self.state, session).await => None,
            _ => Some((Ok(event), self)),
        }
    }

    /// The next change to tell of; `None` when the stream is to end.
    async fn changed(&mut self) -> Option<Event> {
        let session = self.session.clone();
        let expired = async {
            match &session {
                Some(session) => session_ended(&self.state, session).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(expired);
        loop {
            tokio::select! {
                () = self.stopping.cancelled() => return None,
                () = &mut expired => return None,
                () = tokio::time::sleep(RECHECK), if session.is_some() => {
                    if let Some(session) = &session
                        && !session_is_live(&self.state, session).await
                    {
                        return None;
                    }
                }
                changed = self.attempts.changed() => {
                    // The holder is gone: so is the server.
                    changed.ok()?;
                    self.attempts.borrow_and_update();
                    return Some(plan_event(&self.state.plans));
                }
                generation = changed(&mut self.office) => match generation {
                    Some(generation) => {
                        return Some(json_event("office", &serde_json::json!({ "generation": generation })));
                    }
                    None => self.office = None,
                },
                count = changed(&mut self.calls) => match count {
                    Some(_) => return Some(json_event("calls", &serde_json::json!({}))),
                    None => self.calls = None,
                },
            }
        }
    }
}

/// The counter's new value when it moves; `None` when its sender is gone. Never
/// completes for a counter already gone.
async fn changed(receiver: &mut Option<watch::Receiver<u64>>) -> Option<u64> {
    match receiver {
        Some(r) => match r.changed().await {
            Ok(()) => Some(*r.borrow_and_update()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

fn plan_event(plans: &PlanHolder) -> Event {
    let current = plans.current();
    json_event(
        "plan",
        &PlanEvent {
            version: current.version,
            loaded_at: time::rfc3339(current.loaded_at),
            last_attempt: (*plans.last_attempt()).clone(),
        },
    )
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    // Our own structs always serialize; an empty object is the fallback, not an error.
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_string());
    Event::default().event(name).data(data)
}
