//! `GET /api/chat/events`: server-sent events telling a person's page, as they happen,
//! what changed in the conversations they may see — so the page never polls.
//!
//! Each event is `event: chat` with data `{kind, conversation_id, message_id?}`, where
//! `kind` is what happened (`offered`, `message`, `taken`, `transferred`, `dealt_with`,
//! `archived`, `unarchived`, `deleted`, `ended`, `blocked`, `delivery` — a reply's state
//! with its provider —, `attachment` — a customer's file fetched from their provider), or
//! `gone` when the
//! conversation was taken away from this person (another agent took it, it was
//! transferred to someone else): the page drops it. The hub names, with each event, who
//! may see the conversation after it (`visible_to`) and who just lost it (`gone_for`);
//! everyone else hears nothing of it, so a stream never tells of a conversation that is
//! not the person's.
//!
//! A stream ends — and the browser's `EventSource` reconnects by itself, after which
//! the page fetches the list afresh, as on every (re)connect — when:
//! - the server stops (`Stopping`, as for `/api/events`);
//! - the session it was opened in ends: at its expiry, or once it is found gone from
//!   the store (logged out, password changed), which is looked up at most every
//!   `SESSION_FRESH` before an event and every `RECHECK` while idle — not before every
//!   event, as a busy office sends thousands a second and each look-up is a job on the
//!   store thread;
//! - it falls behind the hub's broadcast (a page that stopped reading), rather than skip
//!   events silently.

use super::Agent;
use crate::chat::ChatEvent;
use crate::http::AppState;
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
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval};
use tokio_util::sync::CancellationToken;

/// How long a session found live stays trusted before an event looks it up again.
pub const SESSION_FRESH: Duration = Duration::from_secs(1);

/// `event: chat` data.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ChatEventView {
    pub kind: &'static str,
    pub conversation_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
}

/// What `extension` is told of `event`: the event when they may see the conversation,
/// `gone` when it was just taken away from them, nothing otherwise.
pub fn view_for(extension: &str, event: &ChatEvent) -> Option<ChatEventView> {
    let listed = |list: &[String]| list.iter().any(|e| e == extension);
    if listed(&event.visible_to) {
        Some(ChatEventView {
            kind: event.kind.as_str(),
            conversation_id: event.conversation_id,
            message_id: event.message_id,
        })
    } else if listed(&event.gone_for) {
        // Not even the id of the note that took it away: they can no longer read it.
        Some(ChatEventView {
            kind: "gone",
            conversation_id: event.conversation_id,
            message_id: None,
        })
    } else {
        None
    }
}

/// What a stream does with what it received from the hub.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Tell(ChatEventView),
    /// Not this person's to hear.
    Skip,
    /// Fell behind, or the hub is gone (so is the server).
    End,
}

fn step(extension: &str, received: Result<ChatEvent, RecvError>) -> Step {
    match received {
        Ok(event) => view_for(extension, &event).map_or(Step::Skip, Step::Tell),
        Err(RecvError::Lagged(missed)) => {
            tracing::info!(
                extension,
                missed,
                "a chat event stream fell behind; ending it so the page reconnects and \
                 fetches afresh"
            );
            Step::End
        }
        Err(RecvError::Closed) => Step::End,
    }
}

/// `GET /api/chat/events`.
pub async fn events(
    State(state): State<AppState>,
    agent: Agent,
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
        // Subscribed before the answer is sent: nothing that happens after the page has
        // its answer is missed.
        events: state.chat.subscribe(),
        extension: agent.extension,
        stopping: stopping.map_or_else(CancellationToken::new, |Extension(s)| s.0),
        expired,
        // The guard has just found the session live.
        checked_at: Instant::now(),
        recheck: tokio::time::interval_at(Instant::now() + RECHECK, RECHECK),
        session,
        state,
    };
    Sse::new(stream::unfold(feed, Feed::next)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// One person's stream.
struct Feed {
    state: AppState,
    /// The hub's broadcast; lives as long as the stream.
    events: broadcast::Receiver<ChatEvent>,
    extension: String,
    stopping: CancellationToken,
    /// The session the stream was opened in (`None` for a router without the guard).
    session: Option<LiveSession>,
    /// Completes when the session expires.
    expired: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// When the session was last found live in the store.
    checked_at: Instant,
    /// Ticks every `RECHECK`, however busy the broadcast is with others' events.
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
            match step(&self.extension, received) {
                Step::Skip => continue,
                Step::End => return None,
                Step::Tell(view) => {
                    if self.checked_at.elapsed() >= SESSION_FRESH && !self.still_signed_in().await {
                        return None;
                    }
                    // Our own struct always serializes.
                    let data = serde_json::to_string(&view).unwrap_or_default();
                    return Some((Ok(Event::default().event("chat").data(data)), self));
                }
            }
        }
    }

    /// Whether the stream's session still holds, looked up in the store now.
    async fn still_signed_in(&mut self) -> bool {
        let Some(session) = &self.session else {
            return true;
        };
        let live = session_is_live(&self.state, session).await;
        if live {
            self.checked_at = Instant::now();
        }
        live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ChatEventKind;
    use switchboard_dsl::ast::Channel;

    fn taken_by_101() -> ChatEvent {
        ChatEvent {
            kind: ChatEventKind::Taken,
            conversation_id: 7,
            message_id: Some(42),
            channel: Channel::Sms,
            customer: "+13125550123".to_string(),
            visible_to: vec!["101".to_string()],
            gone_for: vec!["102".to_string()],
        }
    }

    #[test]
    fn the_taker_hears_taken_the_loser_gone_and_anyone_else_nothing() {
        let taken = ChatEventView {
            kind: "taken",
            conversation_id: 7,
            message_id: Some(42),
        };
        assert_eq!(step("101", Ok(taken_by_101())), Step::Tell(taken));
        let gone = ChatEventView {
            kind: "gone",
            conversation_id: 7,
            message_id: None,
        };
        assert_eq!(step("102", Ok(taken_by_101())), Step::Tell(gone));
        assert_eq!(step("103", Ok(taken_by_101())), Step::Skip);
    }

    #[test]
    fn a_stream_that_fell_behind_ends_rather_than_skip_events() {
        assert_eq!(step("101", Err(RecvError::Lagged(3))), Step::End);
        assert_eq!(step("101", Err(RecvError::Closed)), Step::End);
    }

    #[tokio::test]
    async fn a_receiver_that_falls_behind_the_broadcast_hears_it_lagged() {
        // What `step` relies on: tokio's broadcast tells a slow receiver it lagged
        // instead of handing it the newest events as if nothing were missed.
        let (sender, mut receiver) = broadcast::channel(2);
        for _ in 0..3 {
            sender.send(taken_by_101()).unwrap();
        }
        assert_eq!(
            step("101", receiver.recv().await),
            Step::End,
            "the first receive after falling behind"
        );
    }
}
