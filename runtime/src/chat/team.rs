//! Colleagues' chat (issue 11, item 6): one-to-one threads between two extensions and
//! one thread per queue for its agents and managers.
//!
//! Who may read and write a thread is decided here, against the running plan, on every
//! request: a direct thread's two extensions (both still in the plan), a group thread's
//! queue members (its agents and managers in the plan now, so a plan reload moves people
//! in and out without touching the store). A thread the person is not a member of is
//! answered like one that does not exist. Each action is one transaction on the store
//! thread; a new message is announced (`TeamChat::subscribe`) after it is committed, to
//! the members other than its author. A message may carry a file instead of text
//! (`team/files.rs`), checked and stored as the customers' chat files are.

mod files;

pub use files::{NO_FILE, TeamFileError};

use super::MAX_TEXT_CHARS;
use super::hub::name_of;
use crate::reload::PlanHolder;
use crate::sqlite_store::{StoreThread, TeamMessageRow, TeamThreadKind, TeamThreadRow};
use crate::wall_clock::now_ms;
use serde::Serialize;
use std::sync::Arc;
use switchboard_core::office::{agent_queues, manages};
use switchboard_core::store::StoreError;
use switchboard_dsl::Plan;
use tokio::sync::broadcast;

/// A page of messages: enough to fill a thread view.
pub const PAGE: usize = 50;

const EVENTS_BUFFERED: usize = 4096;

/// Why a team action was refused.
#[derive(Debug)]
pub enum TeamError {
    /// No such thread or extension, or not the person's: answered as not found.
    NotFound(String),
    /// The request is wrong; the words say how.
    Invalid(String),
    /// Over a limit (a message's length): answered 413 as the customers' chat does.
    TooLarge(String),
    Store(StoreError),
}

impl From<StoreError> for TeamError {
    fn from(e: StoreError) -> TeamError {
        TeamError::Store(e)
    }
}

/// A committed new message, for the members who did not write it.
#[derive(Clone, Debug)]
pub struct TeamEvent {
    pub thread_id: i64,
    pub message_id: i64,
    pub to: Vec<String>,
}

/// A thread as a member sees it in their list.
#[derive(Serialize, Debug, Clone)]
pub struct ThreadSummary {
    pub id: i64,
    /// `direct` or `group`.
    pub kind: &'static str,
    /// The other extension of a direct thread, the queue of a group.
    pub with: String,
    /// The colleague's or the queue's name (its number when it has none).
    pub name: String,
    pub members: Vec<String>,
    pub last: Option<MessageView>,
    pub unread: u64,
}

/// A message with its author's name.
#[derive(Serialize, Debug, Clone)]
pub struct MessageView {
    pub id: i64,
    pub author: String,
    pub author_name: String,
    pub text: String,
    pub attachment: Option<serde_json::Value>,
    pub at: u64,
}

fn view(plan: &Plan, row: TeamMessageRow) -> MessageView {
    MessageView {
        id: row.id,
        author_name: name_of(plan, &row.author).unwrap_or_else(|| row.author.clone()),
        author: row.author,
        text: row.text,
        attachment: row.attachment,
        at: row.at,
    }
}

/// The queues `extension` belongs to (agent or manager), in plan order.
fn queues_of(plan: &Plan, extension: &str) -> Vec<String> {
    let agent = agent_queues(plan, extension);
    plan.queues
        .iter()
        .filter(|q| agent.contains(&q.number.as_str()) || manages(plan, extension, &q.number))
        .map(|q| q.number.clone())
        .collect()
}

/// The members of `thread` in the running plan.
fn members(plan: &Plan, thread: &TeamThreadKind) -> Vec<String> {
    match thread {
        TeamThreadKind::Direct(a, b) => [a, b]
            .into_iter()
            .filter(|e| plan.extension(e).is_some())
            .cloned()
            .collect(),
        TeamThreadKind::Group(queue) => plan
            .extensions
            .iter()
            .filter(|e| queues_of(plan, &e.number).contains(queue))
            .map(|e| e.number.clone())
            .collect(),
    }
}

fn summary(plan: &Plan, me: &str, thread: &TeamThreadRow) -> (&'static str, String, String) {
    match &thread.kind {
        TeamThreadKind::Direct(a, b) => {
            let other = if a == me { b } else { a };
            let name = name_of(plan, other).unwrap_or_else(|| other.clone());
            ("direct", other.clone(), name)
        }
        TeamThreadKind::Group(queue) => {
            let name = plan
                .queue(queue)
                .and_then(|q| q.name.clone())
                .unwrap_or_else(|| queue.clone());
            ("group", queue.clone(), name)
        }
    }
}

/// Checks a message's text: not blank (`Invalid`), at most `MAX_TEXT_CHARS` (`TooLarge`,
/// in the customers' chat's words: the same limit is told the same way).
pub fn check_text(text: &str) -> Result<(), TeamError> {
    if text.trim().is_empty() {
        return Err(TeamError::Invalid(
            "the message has no text; write something in `text`".to_string(),
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(TeamError::TooLarge(format!(
            "the text is {chars} characters long; a team message is at most \
             {MAX_TEXT_CHARS} characters, so split it in two"
        )));
    }
    Ok(())
}

/// The colleagues' chat service; one per server (`ChatHub::team`).
pub struct TeamChat {
    store: StoreThread,
    plans: Arc<PlanHolder>,
    events: broadcast::Sender<TeamEvent>,
}

impl TeamChat {
    pub fn new(store: StoreThread, plans: Arc<PlanHolder>) -> TeamChat {
        TeamChat {
            store,
            plans,
            events: broadcast::channel(EVENTS_BUFFERED).0,
        }
    }

    /// Every new message from now on, after it is committed.
    pub fn subscribe(&self) -> broadcast::Receiver<TeamEvent> {
        self.events.subscribe()
    }

    /// `me`'s group threads (one per queue of theirs, created on first sight) and direct
    /// threads with colleagues still in the plan; groups first, then the newest talk.
    pub async fn threads(&self, me: &str) -> Result<Vec<ThreadSummary>, TeamError> {
        let plan = self.plans.plan();
        let me = me.to_string();
        let queues = queues_of(&plan, &me);
        self.store
            .run_sqlite(move |s| {
                s.chat("list the team threads", |tx| {
                    let now = now_ms();
                    let mut threads = Vec::new();
                    for queue in &queues {
                        threads.push(tx.team_group_thread(queue, now)?);
                    }
                    threads.extend(
                        tx.team_direct_threads_of(&me)?
                            .into_iter()
                            .filter(|t| members(&plan, &t.kind).len() == 2),
                    );
                    let mut out = Vec::new();
                    for thread in threads {
                        let (kind, with, name) = summary(&plan, &me, &thread);
                        out.push(ThreadSummary {
                            id: thread.id,
                            kind,
                            with,
                            name,
                            members: members(&plan, &thread.kind),
                            last: tx.team_last_message(thread.id)?.map(|m| view(&plan, m)),
                            unread: tx.team_unread(thread.id, &me)?,
                        });
                    }
                    // Groups first (plan order), then direct threads, newest talk first.
                    out.sort_by_key(|t| {
                        (
                            t.kind == "direct",
                            std::cmp::Reverse(t.last.as_ref().map(|m| m.id)),
                        )
                    });
                    Ok::<_, TeamError>(out)
                })
            })
            .await?
    }

    /// The direct thread of `me` and `with`, started the first time.
    pub async fn direct(&self, me: &str, with: &str) -> Result<ThreadSummary, TeamError> {
        let plan = self.plans.plan();
        if with == me {
            return Err(TeamError::Invalid(
                "that is your own extension; a direct thread is with a colleague".to_string(),
            ));
        }
        if plan.extension(with).is_none() {
            return Err(TeamError::NotFound(format!(
                "there is no extension {with} in the office's plan; GET /api/people lists \
                 your colleagues"
            )));
        }
        let (me, with) = (me.to_string(), with.to_string());
        self.store
            .run_sqlite(move |s| {
                s.chat("start a direct team thread", |tx| {
                    let thread = tx.team_direct_thread(&me, &with, now_ms())?;
                    let (kind, with, name) = summary(&plan, &me, &thread);
                    Ok::<_, TeamError>(ThreadSummary {
                        id: thread.id,
                        kind,
                        with,
                        name,
                        members: members(&plan, &thread.kind),
                        last: tx.team_last_message(thread.id)?.map(|m| view(&plan, m)),
                        unread: tx.team_unread(thread.id, &me)?,
                    })
                })
            })
            .await?
    }

    /// A page of thread `id`'s messages older than `before`, oldest first.
    pub async fn messages(
        &self,
        me: &str,
        id: i64,
        before: Option<i64>,
    ) -> Result<Vec<MessageView>, TeamError> {
        let plan = self.plans.plan();
        let me = me.to_string();
        self.store
            .run_sqlite(move |s| {
                s.chat("read a team thread", |tx| {
                    member_thread(tx, &plan, &me, id)?;
                    Ok::<_, TeamError>(
                        tx.team_messages(id, before, PAGE)?
                            .into_iter()
                            .map(|m| view(&plan, m))
                            .collect(),
                    )
                })
            })
            .await?
    }

    /// Posts `text` to thread `id` as `me`, then tells the other members.
    pub async fn post(&self, me: &str, id: i64, text: String) -> Result<MessageView, TeamError> {
        check_text(&text)?;
        let plan = self.plans.plan();
        let author = me.to_string();
        let (message, to) = self
            .store
            .run_sqlite(move |s| {
                s.chat("post a team message", |tx| {
                    let thread = member_thread(tx, &plan, &author, id)?;
                    let row = tx.team_post(id, &author, &text, None, now_ms())?;
                    let to = others(&plan, &thread, &author);
                    Ok::<_, TeamError>((view(&plan, row), to))
                })
            })
            .await??;
        self.announce(id, &message, to);
        Ok(message)
    }

    /// Tells the members in `to` of `message`, committed in thread `thread_id`.
    fn announce(&self, thread_id: i64, message: &MessageView, to: Vec<String>) {
        // Nobody listening is not an error: the pages read the thread when they open.
        let _ = self.events.send(TeamEvent {
            thread_id,
            message_id: message.id,
            to,
        });
    }

    /// Marks thread `id` read by `me` up to its newest message.
    pub async fn mark_read(&self, me: &str, id: i64) -> Result<(), TeamError> {
        let plan = self.plans.plan();
        let me = me.to_string();
        self.store
            .run_sqlite(move |s| {
                s.chat("mark a team thread read", |tx| {
                    member_thread(tx, &plan, &me, id)?;
                    let last = tx.team_last_message_id(id)?;
                    tx.team_mark_read(id, &me, last)?;
                    Ok::<_, TeamError>(())
                })
            })
            .await?
    }
}

/// The members of `thread` other than `author`: who is told of a new message.
fn others(plan: &Plan, thread: &TeamThreadRow, author: &str) -> Vec<String> {
    members(plan, &thread.kind)
        .into_iter()
        .filter(|m| m != author)
        .collect()
}

/// Thread `id` when `me` is one of its members in the running plan; not found otherwise
/// (the same words whether it exists or not).
fn member_thread(
    tx: &crate::sqlite_store::ChatTx<'_>,
    plan: &Plan,
    me: &str,
    id: i64,
) -> Result<TeamThreadRow, TeamError> {
    tx.team_thread(id)?
        .filter(|t| members(plan, &t.kind).iter().any(|m| m == me))
        .ok_or_else(|| {
            TeamError::NotFound(format!(
                "you have no team thread {id}; GET /api/team/threads lists yours"
            ))
        })
}
