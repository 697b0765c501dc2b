//! `GET /api/team/events`: server-sent events telling a person's page of each new
//! message in their team threads, as it is written — so the page never polls.
//!
//! Each event is `event: team` with data `{kind: "message", thread_id, message_id}`,
//! sent only to the thread's members other than the author. The stream ends like
//! `/api/chat/events` (the page's `EventSource` reconnects and fetches afresh): when the
//! server stops, when the session it was opened in ends (its expiry; a log-out found at
//! the next event or every `RECHECK` while idle), and when it falls behind the broadcast.

use crate::chat::team::TeamEvent;
use crate::http::AppState;
use crate::http::auth::SignedInPerson;
use crate::http::events::{
    KEEP_ALIVE, LiveSession, RECHECK, Stopping, session_ended, session_is_live,
};
use axum::extract::{Extension, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval};
use tokio_util::sync::CancellationToken;

/// `event: team` data.
#[derive(Serialize)]
struct TeamEventView {
    kind: &'static str,
    thread_id: i64,
    message_id: i64,
}

/// `GET /api/team/events`.
pub async fn events(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    stopping: Option<Extension<Stopping>>,
    session: Option<Extension<LiveSession>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let session = session.map(|Extension(s)| s);
    let expired: Pin<Box<dyn Future<Output = ()> + Send>> = match session.clone() {
        Some(session) => {
            let state = state.clone();
            Box::pin(async move { session_ended(&state, &session).await })
        }
        None => Box::pin(std::future::pending()),
    };
    let feed = Feed {
        // Subscribed before the answer is sent: nothing written after the page has its
        // answer is missed.
        events: state.chat.team().subscribe(),
        extension: person.extension,
        stopping: stopping.map_or_else(CancellationToken::new, |Extension(s)| s.0),
        expired,
        recheck: tokio::time::interval_at(Instant::now() + RECHECK, RECHECK),
        session,
        state,
    };
    Sse::new(stream::unfold(feed, Feed::next)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// One person's stream.
struct Feed {
    state: AppState,
    events: broadcast::Receiver<TeamEvent>,
    extension: String,
    stopping: CancellationToken,
    /// The session the stream was opened in (`None` for a router without the guard).
    session: Option<LiveSession>,
    /// Completes when the session expires.
    expired: Pin<Box<dyn Future<Output = ()> + Send>>,
    recheck: Interval,
}

impl Feed {
    /// The next event for this person; `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Feed)> {
        loop {
            let received = tokio::select! {
                () = self.stopping.cancelled() => return None,
                () = &mut self.expired => return None,
                _ = self.recheck.tick(), if self.session.is_some() => {
                    if !self.still_signed_in().await {
                        return None;
                    }
                    continue;
                }
                received = self.events.recv() => received,
            };
            let event = match received {
                Ok(event) => event,
                // Fell behind (the page reconnects and fetches afresh), or the server is
                // gone.
                Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
            };
            if !event.to.contains(&self.extension) {
                continue;
            }
            // Team messages are few (people typing): the session is looked up before
            // each, so a signed-out page hears nothing more.
            if !self.still_signed_in().await {
                return None;
            }
            let view = TeamEventView {
                kind: "message",
                thread_id: event.thread_id,
                message_id: event.message_id,
            };
            // Our own struct always serializes.
            let data = serde_json::to_string(&view).unwrap_or_default();
            return Some((Ok(Event::default().event("team").data(data)), self));
        }
    }

    async fn still_signed_in(&mut self) -> bool {
        match &self.session {
            Some(session) => session_is_live(&self.state, session).await,
            None => true,
        }
    }
}
