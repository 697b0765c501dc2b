//! The runtime's side of the engine's `DialTrunk`: the number goes out through the
//! trunk's provider as one branch of a ring (`ring`), so early media, the answer, the
//! bridge and every failure take the same path as a call to a desk phone.
//!
//! The provider sees the number the trunk presents — its `caller_id` in the plan, else
//! its first number, else the caller's own (a provider puts the account's number in its
//! place) — with the calling extension's name. Never the account's user name: it is
//! half of the account's credentials, and the presented number is written in the trace.
//! Whether the caller may call out at all was settled before: only an authenticated
//! extension's INVITE or a trusted trunk's becomes a call, and the plan decides which
//! numbers go to a trunk.

use super::LiveCall;
use super::ring::Callee;
use crate::sip::{CallerId, TrunkDestination};
use switchboard_core::event::{Event, FarEnd};

impl LiveCall {
    /// Calls `number` through the plan's trunk named `trunk`.
    pub(super) async fn dial_trunk(&mut self, trunk: String, number: String) {
        let label = format!("{number} through trunk {trunk}");
        let in_plan = self.plan.trunk(&trunk);
        let host = in_plan.and_then(|t| t.host.clone());
        let account = self.services.trunks.get(&trunk);
        let destination = match TrunkDestination::resolve(&trunk, account, host.as_deref()).await {
            Ok(d) => d,
            Err(e) => {
                self.note(format!("cannot call {label}: {e}"));
                self.pending.push_back(Event::FarEnd(FarEnd::Failed));
                return;
            }
        };
        let presented = in_plan
            .and_then(|t| t.caller_id.clone().or_else(|| t.numbers.first().cloned()))
            .unwrap_or_else(|| self.caller_id.number.clone());
        let caller = CallerId {
            number: presented,
            name: self.caller_id.name.clone(),
        };
        self.note(format!(
            "calling {number} through trunk {trunk} at {} as {}",
            destination.next_hop, caller.number
        ));
        let callee = Callee::Trunk {
            destination,
            number,
            caller,
        };
        self.ring_callees(label, vec![callee], &[]).await;
    }
}
