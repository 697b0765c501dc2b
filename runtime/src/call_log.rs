//! Live and recent calls with their traces, for `GET /api/calls`.
//!
//! The SIP side records each call as it starts, appends its trace entries as the engine
//! emits them, and finishes it with its outcome. Finished calls are kept, newest first,
//! up to a limit, so a running server's memory does not grow with its call count.

use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;
use switchboard_core::ids::CallId;
use switchboard_core::trace::{TraceEntry, Traced};
use switchboard_dsl::Plan;

/// How many finished calls `CallLog::new` keeps.
pub const RECENT_CALLS: usize = 200;

/// How many trace lines one call keeps; later lines are counted, not stored, so a call
/// looping in a menu for an hour cannot eat the server's memory.
pub const MAX_TRACE_LINES: usize = 2000;

/// Live and recent calls, shared by the SIP side (writing) and the API (reading).
pub struct CallLog {
    /// Held only to copy or update records, never across an await.
    inner: Mutex<Inner>,
    keep: usize,
    /// Bumped when a call starts or ends, so the editor's event stream can tell the
    /// browser to fetch the list again.
    changes: tokio::sync::watch::Sender<u64>,
}

struct Inner {
    live: BTreeMap<CallId, CallRecord>,
    /// Newest first.
    recent: VecDeque<CallRecord>,
}

/// A call as it starts.
#[derive(Clone, Debug)]
pub struct NewCall {
    pub id: CallId,
    pub sip_call_id: String,
    pub caller: String,
    pub dialled: String,
    /// The version of the plan the call runs on (`PlanHolder::current().version`).
    pub plan_version: u64,
}

/// One call: who called what, on which plan, and what happened.
#[derive(Clone, Debug, Serialize)]
pub struct CallRecord {
    #[serde(serialize_with = "call_id")]
    pub id: CallId,
    pub sip_call_id: String,
    pub caller: String,
    pub dialled: String,
    pub plan_version: u64,
    #[serde(serialize_with = "crate::http::time::serialize")]
    pub started: SystemTime,
    #[serde(serialize_with = "crate::http::time::serialize_opt")]
    pub ended: Option<SystemTime>,
    /// How the call ended (`hung up`, `transferred to 101`, …); `None` while live.
    pub outcome: Option<String>,
    /// Every digit the caller keyed, in order.
    pub digits: String,
    /// Every prompt or recording played to the caller, in order.
    pub prompts: Vec<String>,
    /// `TraceEntry::render` lines: `office.dial:12:5 play welcome`.
    pub trace: Vec<String>,
    /// Trace lines past `MAX_TRACE_LINES`, counted but not kept.
    pub trace_dropped: usize,
}

/// What `CallLog::list` returns: live calls oldest first, finished ones newest first.
#[derive(Clone, Debug, Serialize)]
pub struct CallList {
    pub live: Vec<CallRecord>,
    pub recent: Vec<CallRecord>,
}

impl Default for CallLog {
    fn default() -> CallLog {
        CallLog::new()
    }
}

impl CallLog {
    /// A log keeping the last `RECENT_CALLS` finished calls.
    pub fn new() -> CallLog {
        CallLog::keeping(RECENT_CALLS)
    }

    /// A log keeping the last `keep` finished calls.
    pub fn keeping(keep: usize) -> CallLog {
        CallLog {
            inner: Mutex::new(Inner {
                live: BTreeMap::new(),
                recent: VecDeque::new(),
            }),
            keep,
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Changes each time a call starts or ends.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Records a call that has just arrived, timed now.
    pub fn start(&self, call: NewCall) {
        self.start_at(call, SystemTime::now());
    }

    /// Records a call that arrived at `started`.
    pub fn start_at(&self, call: NewCall, started: SystemTime) {
        let record = CallRecord {
            id: call.id,
            sip_call_id: call.sip_call_id,
            caller: call.caller,
            dialled: call.dialled,
            plan_version: call.plan_version,
            started,
            ended: None,
            outcome: None,
            digits: String::new(),
            prompts: Vec::new(),
            trace: Vec::new(),
            trace_dropped: 0,
        };
        self.lock().live.insert(call.id, record);
        self.changes.send_modify(|n| *n += 1);
    }

    /// Adds the engine's trace entries to a live call: each rendered against the plan the
    /// call runs on, with the digits and prompts also gathered on their own. Entries for
    /// a call that is not live are ignored.
    pub fn append_trace(&self, id: CallId, plan: &Plan, entries: &[TraceEntry]) {
        if entries.is_empty() {
            return;
        }
        let lines: Vec<String> = entries.iter().map(|e| e.render(plan)).collect();
        let mut inner = self.lock();
        let Some(call) = inner.live.get_mut(&id) else {
            return;
        };
        for e in entries {
            match &e.what {
                Traced::Digits { digits, .. } => call.digits.push_str(digits),
                Traced::Played(media) => call.prompts.extend(media.iter().cloned()),
                _ => {}
            }
        }
        call.push_lines(lines);
    }

    /// Adds lines of the runtime's own (`SIP: 487 Request Terminated`) to a live call.
    pub fn append_lines(&self, id: CallId, lines: impl IntoIterator<Item = String>) {
        if let Some(call) = self.lock().live.get_mut(&id) {
            call.push_lines(lines);
        }
    }

    /// Moves a live call to the recent ones with its outcome, timed now.
    pub fn finish(&self, id: CallId, outcome: impl Into<String>) {
        self.finish_at(id, outcome, SystemTime::now());
    }

    /// Moves a live call to the recent ones with its outcome, ended at `ended`.
    pub fn finish_at(&self, id: CallId, outcome: impl Into<String>, ended: SystemTime) {
        let mut inner = self.lock();
        let Some(mut call) = inner.live.remove(&id) else {
            return;
        };
        call.ended = Some(ended);
        call.outcome = Some(outcome.into());
        inner.recent.push_front(call);
        inner.recent.truncate(self.keep);
        drop(inner);
        self.changes.send_modify(|n| *n += 1);
    }

    /// A copy of every live call and the recent ones.
    pub fn list(&self) -> CallList {
        let inner = self.lock();
        CallList {
            live: inner.live.values().cloned().collect(),
            recent: inner.recent.iter().cloned().collect(),
        }
    }

    /// A copy of one call, live or recent.
    pub fn get(&self, id: CallId) -> Option<CallRecord> {
        let inner = self.lock();
        inner
            .live
            .get(&id)
            .or_else(|| inner.recent.iter().find(|c| c.id == id))
            .cloned()
    }

    pub fn live_count(&self) -> usize {
        self.lock().live.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CallRecord {
    fn push_lines(&mut self, lines: impl IntoIterator<Item = String>) {
        for line in lines {
            if self.trace.len() < MAX_TRACE_LINES {
                self.trace.push(line);
            } else {
                self.trace_dropped += 1;
            }
        }
    }
}

fn call_id<S: Serializer>(id: &CallId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(id.0)
}
