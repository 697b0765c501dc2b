//! The call's record for the office (a call detail record, `Store::record_call`): what
//! the runner saw of it, gathered as it goes and written once it has ended.

use std::time::{SystemTime, UNIX_EPOCH};
use switchboard_core::store::{CallDetail, HungUpBy};

/// What the runner notes about a call while it runs.
#[derive(Default)]
pub(super) struct Facts {
    /// When the caller was answered (by a phone, or by the server).
    pub(super) answered_at: Option<SystemTime>,
    /// The extension whose phone answered.
    pub(super) answered_by: Option<String>,
    /// Which side ended it; the server unless the caller's or the phone's hang-up came
    /// first.
    pub(super) hung_up_by: Option<HungUpBy>,
}

impl Facts {
    /// The caller was answered now (the first answer counts).
    pub(super) fn answered(&mut self) {
        self.answered_at.get_or_insert_with(SystemTime::now);
    }

    /// `side` ended the call, unless another already did.
    pub(super) fn hung_up(&mut self, side: HungUpBy) {
        self.hung_up_by.get_or_insert(side);
    }
}

/// The record of a call that started at `started` and has just ended.
pub(super) struct Ended {
    pub(super) sip_call_id: String,
    pub(super) started: SystemTime,
    pub(super) caller: String,
    pub(super) dialled: String,
    pub(super) outcome: String,
    pub(super) plan_version: u64,
}

impl Ended {
    pub(super) fn detail(self, facts: Facts) -> CallDetail {
        CallDetail {
            sip_call_id: self.sip_call_id,
            started_ms: ms(self.started),
            answered_ms: facts.answered_at.map(ms),
            ended_ms: ms(SystemTime::now()),
            caller: self.caller,
            dialled: self.dialled,
            answered_by: facts.answered_by,
            outcome: self.outcome,
            hung_up_by: facts.hung_up_by.unwrap_or(HungUpBy::Server),
            plan_version: self.plan_version,
        }
    }
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
