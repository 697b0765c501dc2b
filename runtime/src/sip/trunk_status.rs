//! How each trunk's registration stands, for `/api/trunks` and the status page: the
//! registration task writes it, the HTTP handlers read a copy. The lock is held for a
//! map look-up only.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// One trunk's registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// The account says `register: false`.
    Disabled,
    /// The first REGISTER is on its way.
    Registering,
    /// The provider accepted us until `until` (it granted `granted`).
    Registered {
        since: SystemTime,
        until: SystemTime,
        granted: Duration,
    },
    /// Every attempt since `since` failed; the last one with `status` (none: no answer
    /// or a transport error), for `reason`. The next is at `retry_at`.
    Failing {
        since: SystemTime,
        status: Option<u16>,
        reason: String,
        attempts: u32,
        retry_at: SystemTime,
    },
    /// The server stopped and took the registration back (or tried to).
    Unregistered,
}

/// Every registering trunk's state, by trunk name.
#[derive(Debug, Default)]
pub struct TrunkStatus {
    states: Mutex<BTreeMap<String, RegistrationState>>,
}

impl TrunkStatus {
    pub fn set(&self, trunk: &str, state: RegistrationState) {
        self.lock().insert(trunk.to_string(), state);
    }

    /// Records a failed attempt at `now`: a failure after failures keeps the time the
    /// trouble started.
    pub fn failed(
        &self,
        trunk: &str,
        status: Option<u16>,
        reason: String,
        now: SystemTime,
        retry_in: Duration,
    ) {
        let mut states = self.lock();
        let (since, attempts) = match states.get(trunk) {
            Some(RegistrationState::Failing {
                since, attempts, ..
            }) => (*since, attempts + 1),
            _ => (now, 1),
        };
        states.insert(
            trunk.to_string(),
            RegistrationState::Failing {
                since,
                status,
                reason,
                attempts,
                retry_at: now + retry_in,
            },
        );
    }

    /// Records a success at `now`: a refresh keeps the time the registration started.
    pub fn registered(&self, trunk: &str, granted: Duration, now: SystemTime) {
        let mut states = self.lock();
        let since = match states.get(trunk) {
            Some(RegistrationState::Registered { since, .. }) => *since,
            _ => now,
        };
        states.insert(
            trunk.to_string(),
            RegistrationState::Registered {
                since,
                until: now + granted,
                granted,
            },
        );
    }

    pub fn get(&self, trunk: &str) -> Option<RegistrationState> {
        self.lock().get(trunk).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, RegistrationState>> {
        self.states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_keep_when_they_started_and_count_attempts() {
        let status = TrunkStatus::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let t1 = t0 + Duration::from_secs(2);
        status.failed(
            "main",
            Some(403),
            "403 Forbidden".into(),
            t0,
            Duration::from_secs(1),
        );
        status.failed("main", None, "no answer".into(), t1, Duration::from_secs(2));
        assert_eq!(
            status.get("main"),
            Some(RegistrationState::Failing {
                since: t0,
                status: None,
                reason: "no answer".into(),
                attempts: 2,
                retry_at: t1 + Duration::from_secs(2),
            })
        );
        status.registered("main", Duration::from_secs(60), t1);
        let t2 = t1 + Duration::from_secs(50);
        status.registered("main", Duration::from_secs(60), t2);
        assert_eq!(
            status.get("main"),
            Some(RegistrationState::Registered {
                since: t1,
                until: t2 + Duration::from_secs(60),
                granted: Duration::from_secs(60),
            })
        );
    }
}
