//! When a trunk registers next, sans-IO: a registration is refreshed at
//! [`REFRESH_AT_PERCENT`] of the lifetime the provider granted, so it never lapses while
//! a REGISTER is in flight; a failed one is retried after a wait that doubles with each
//! failure in a row, from [`FIRST_RETRY`] up to [`MAX_RETRY`], so a provider that
//! refuses us (a wrong password, an account suspended) is not hammered and does not
//! block our address, while a short outage is over quickly.

use std::time::Duration;

/// The share of the granted lifetime after which a registration is refreshed.
pub const REFRESH_AT_PERCENT: u32 = 85;
/// The wait after the first failure in a row.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// The retry state of one trunk's registration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Failures since the last success.
    failures: u32,
}

impl Schedule {
    /// The provider granted `granted`: how long until the refresh. A grant of nothing
    /// (`Expires: 0`, or none given) is not a registration: it waits like a failure,
    /// rather than refreshing twice a second for ever.
    pub fn registered(&mut self, granted: Duration) -> Duration {
        if granted.is_zero() {
            return self.failed();
        }
        self.failures = 0;
        (granted * REFRESH_AT_PERCENT / 100).max(Duration::from_millis(500))
    }

    /// An attempt failed: how long until the next.
    pub fn failed(&mut self) -> Duration {
        let wait = FIRST_RETRY
            .checked_mul(1 << self.failures.min(16))
            .unwrap_or(MAX_RETRY)
            .min(MAX_RETRY);
        self.failures = self.failures.saturating_add(1);
        wait
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_of_nothing_backs_off_like_a_failure() {
        let mut s = Schedule::default();
        assert_eq!(s.registered(Duration::ZERO), FIRST_RETRY);
        assert_eq!(s.registered(Duration::ZERO), FIRST_RETRY * 2);
        assert_eq!(s.failures(), 2);
    }

    #[test]
    fn a_registration_is_refreshed_before_it_expires() {
        let mut s = Schedule::default();
        assert_eq!(
            s.registered(Duration::from_secs(3600)),
            Duration::from_secs(3060)
        );
        assert_eq!(
            s.registered(Duration::from_secs(4)),
            Duration::from_millis(3400)
        );
        // A lifetime shorter than a second is refreshed no faster than twice a second.
        assert_eq!(
            s.registered(Duration::from_millis(100)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn failures_back_off_doubling_up_to_the_cap_and_a_success_starts_over() {
        let mut s = Schedule::default();
        let waits: Vec<u64> = (0..12).map(|_| s.failed().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        for _ in 0..100 {
            assert_eq!(s.failed(), MAX_RETRY);
        }
        s.registered(Duration::from_secs(60));
        assert_eq!(s.failures(), 0);
        assert_eq!(s.failed(), FIRST_RETRY);
    }
}
