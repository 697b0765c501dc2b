//! Slowing down and then refusing a source address that keeps failing
//! authentication, sans-IO: the caller passes the time.
//!
//! After [`DELAY_AFTER_FAILURES`] failures within [`FAILURE_WINDOW`] every answer
//! to that address waits [`FAILURE_DELAY`]; at [`REFUSE_AFTER_FAILURES`] the
//! address is refused outright for [`REFUSAL_PERIOD`], and each further refusal within
//! [`REFUSAL_MEMORY`] lasts twice the last, up to [`LONGEST_REFUSAL`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The window in which failures are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Failures within the window after which answers are delayed.
pub const DELAY_AFTER_FAILURES: usize = 5;
/// Failures within the window after which the address is refused.
pub const REFUSE_AFTER_FAILURES: usize = 10;
/// How long a refused address stays refused.
pub const REFUSAL_PERIOD: Duration = Duration::from_secs(5 * 60);
/// The longest refusal.
pub const LONGEST_REFUSAL: Duration = Duration::from_secs(60 * 60);
/// How long an address's past refusals lengthen its next one.
pub const REFUSAL_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a delayed answer waits.
pub const FAILURE_DELAY: Duration = Duration::from_secs(1);
/// Past this many tracked addresses, the quiet ones are forgotten.
const MAX_TRACKED_SOURCES: usize = 100_000;

/// What to do with a request needing authentication from some address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Allow,
    /// Answer, but only after this long.
    Delay(Duration),
    /// Answer 403 whatever the credentials.
    Refuse,
}

#[derive(Default)]
struct Source {
    failures: VecDeque<Instant>,
    refused_until: Option<Instant>,
    /// Refusals so far, and when the last one began, for the doubling.
    refusals: u32,
    last_refusal: Option<Instant>,
}

impl Source {
    fn forget_old(&mut self, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= FAILURE_WINDOW)
        {
            self.failures.pop_front();
        }
        if self.refused_until.is_some_and(|until| now >= until) {
            self.refused_until = None;
        }
        if self
            .last_refusal
            .is_some_and(|at| now.saturating_duration_since(at) >= REFUSAL_MEMORY)
        {
            self.refusals = 0;
            self.last_refusal = None;
        }
    }

    fn is_quiet(&self) -> bool {
        self.failures.is_empty() && self.refused_until.is_none() && self.refusals == 0
    }
}

/// Authentication failures per source address.
#[derive(Default)]
pub struct Throttle {
    sources: HashMap<IpAddr, Source>,
}

impl Throttle {
    pub fn new() -> Throttle {
        Throttle::default()
    }

    /// How to treat the next request from `ip` needing authentication.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> Admission {
        let Some(source) = self.sources.get_mut(&ip) else {
            return Admission::Allow;
        };
        source.forget_old(now);
        if source.refused_until.is_some() {
            Admission::Refuse
        } else if source.failures.len() >= DELAY_AFTER_FAILURES {
            Admission::Delay(FAILURE_DELAY)
        } else {
            Admission::Allow
        }
    }

    /// Counts a failed authentication from `ip`; the length of the refusal this failure
    /// starts, if it starts one, so the server can say so once rather than for every
    /// request.
    pub fn record_failure(&mut self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if self.sources.len() >= MAX_TRACKED_SOURCES && !self.sources.contains_key(&ip) {
            self.sources.retain(|_, s| {
                s.forget_old(now);
                !s.is_quiet()
            });
        }
        let source = self.sources.entry(ip).or_default();
        source.forget_old(now);
        if source.refused_until.is_some() {
            // Already refused: requests admitted before the refusal began add nothing,
            // and never start (or lengthen) another one.
            return None;
        }
        source.failures.push_back(now);
        if source.failures.len() >= REFUSE_AFTER_FAILURES {
            let period = REFUSAL_PERIOD
                .saturating_mul(1 << source.refusals.min(8))
                .min(LONGEST_REFUSAL);
            source.refused_until = Some(now + period);
            source.refusals += 1;
            source.last_refusal = Some(now);
            source.failures.clear();
            return Some(period);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn failures_first_delay_then_refuse_for_a_while() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new();
        for i in 0..DELAY_AFTER_FAILURES {
            assert_eq!(throttle.admit(A, t0), Admission::Allow, "failure {i}");
            throttle.record_failure(A, t0);
        }
        for _ in DELAY_AFTER_FAILURES..REFUSE_AFTER_FAILURES {
            assert_eq!(throttle.admit(A, t0), Admission::Delay(FAILURE_DELAY));
            throttle.record_failure(A, t0);
        }
        assert_eq!(throttle.admit(A, t0), Admission::Refuse);
        for _ in 0..2 * REFUSE_AFTER_FAILURES {
            assert_eq!(
                throttle.record_failure(A, t0),
                None,
                "failures during the refusal start nothing new"
            );
        }
        assert_eq!(
            throttle.admit(B, t0),
            Admission::Allow,
            "other sources unaffected"
        );
        let almost = t0 + REFUSAL_PERIOD - Duration::from_secs(1);
        assert_eq!(throttle.admit(A, almost), Admission::Refuse);
        assert_eq!(throttle.admit(A, t0 + REFUSAL_PERIOD), Admission::Allow);
    }

    #[test]
    fn each_refusal_lasts_twice_the_last_up_to_an_hour() {
        let mut now = Instant::now();
        let mut throttle = Throttle::new();
        let mut periods = Vec::new();
        for _ in 0..6 {
            for _ in 0..REFUSE_AFTER_FAILURES {
                throttle.record_failure(A, now);
            }
            let start = now;
            while throttle.admit(A, now) == Admission::Refuse {
                now += Duration::from_secs(60);
            }
            periods.push((now - start).as_secs() / 60);
        }
        assert_eq!(periods, [5, 10, 20, 40, 60, 60]);
        // A day later the address starts again from the first length.
        now += REFUSAL_MEMORY;
        for _ in 0..REFUSE_AFTER_FAILURES {
            throttle.record_failure(A, now);
        }
        assert_eq!(throttle.admit(A, now + REFUSAL_PERIOD), Admission::Allow);
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new();
        for _ in 0..DELAY_AFTER_FAILURES {
            throttle.record_failure(A, t0);
        }
        assert_eq!(throttle.admit(A, t0), Admission::Delay(FAILURE_DELAY));
        assert_eq!(throttle.admit(A, t0 + FAILURE_WINDOW), Admission::Allow);
        // Spread thinly, failures never add up to a refusal.
        let mut now = t0 + FAILURE_WINDOW;
        for _ in 0..3 * REFUSE_AFTER_FAILURES {
            throttle.record_failure(A, now);
            now += FAILURE_WINDOW / 4;
        }
        assert_ne!(throttle.admit(A, now), Admission::Refuse);
    }
}
