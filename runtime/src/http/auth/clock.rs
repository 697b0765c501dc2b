//! The clock sign-in reads: the system's, or one a test sets and moves, so session
//! expiry and the throttle's window are tested without waiting twelve hours.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, from the system or from a test.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands at `start` until `advance` moves it; clones share it.
    pub fn manual(start: SystemTime) -> Clock {
        Clock(Some(Arc::new(AtomicU64::new(millis(start)))))
    }

    /// Moves a manual clock on by `by`; does nothing to the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.0 {
            at.fetch_add(
                u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
                Ordering::SeqCst,
            );
        }
    }

    pub fn now_ms(&self) -> u64 {
        match &self.0 {
            Some(at) => at.load(Ordering::SeqCst),
            None => millis(SystemTime::now()),
        }
    }
}

/// `t` in milliseconds since the epoch; a clock before 1970 counts as 0.
pub fn millis(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// The time `ms` milliseconds after the epoch.
pub fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}
