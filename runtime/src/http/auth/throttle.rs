//! The limit on password guessing from one address: after `MAX_FAILURES` wrong
//! passwords within `WINDOW`, every sign-in from that address is refused — a right
//! password too, or the lock would tell a guesser when they had guessed right — until
//! the oldest of those failures is `WINDOW` old.
//!
//! An attempt counts as a failure from the moment it starts (`begin`) and is forgiven
//! when the password proves right (`succeeded`), so guesses sent all at once are bounded
//! like guesses sent one after the other. Pure: time comes in as milliseconds.
//!
//! IPv6 addresses count by their /64, which one host or one customer line usually
//! holds, as the HTTP connection limits do; an IPv4-mapped address counts as IPv4.

// What a failure is counted against: the address, or an IPv6 address's /64.
use crate::ip_source::source_of;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Wrong passwords allowed from one address within `WINDOW`.
pub const MAX_FAILURES: usize = 5;
/// How far back failures count, and so how long a lock lasts at most.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most. Past it the address that failed longest ago is
/// forgotten, so a flood from many addresses costs memory for these only.
const MAX_ADDRESSES: usize = 10_000;

/// Failures per address.
#[derive(Debug, Default)]
pub struct Throttle {
    /// Per source, the start times (ms) of the attempts that have not been forgiven and
    /// are less than `WINDOW` old, oldest first.
    failures: HashMap<IpAddr, Vec<u64>>,
}

/// An address may not try again yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    /// When it may, in milliseconds since the epoch.
    pub until_ms: u64,
}

impl Locked {
    /// Whole seconds from `now_ms` until the lock ends, at least 1, for `Retry-After`.
    pub fn retry_after_secs(&self, now_ms: u64) -> u64 {
        self.until_ms.saturating_sub(now_ms).div_ceil(1000).max(1)
    }
}

impl Throttle {
    /// Starts a sign-in from `ip` at `now_ms`, counting it as a failure until
    /// `succeeded`; refused while the address is locked.
    pub fn begin(&mut self, ip: IpAddr, now_ms: u64) -> Result<(), Locked> {
        let source = source_of(ip);
        let window = WINDOW.as_millis() as u64;
        if !self.failures.contains_key(&source) && self.failures.len() >= MAX_ADDRESSES {
            self.make_room(now_ms);
        }
        let times = self.failures.entry(source).or_default();
        times.retain(|&t| now_ms.saturating_sub(t) < window);
        if times.len() >= MAX_FAILURES {
            return Err(Locked {
                until_ms: times[times.len() - MAX_FAILURES] + window,
            });
        }
        times.push(now_ms);
        Ok(())
    }

    /// The password was right: the address's failures are forgiven.
    pub fn succeeded(&mut self, ip: IpAddr) {
        self.failures.remove(&source_of(ip));
    }

    /// Whether the failure `begin` counted for `ip` just now locked the address: for the
    /// log line that says so once.
    pub fn just_locked(&self, ip: IpAddr) -> bool {
        self.failures
            .get(&source_of(ip))
            .is_some_and(|times| times.len() == MAX_FAILURES)
    }

    fn make_room(&mut self, now_ms: u64) {
        let window = WINDOW.as_millis() as u64;
        self.failures.retain(|_, times| {
            times
                .last()
                .is_some_and(|&t| now_ms.saturating_sub(t) < window)
        });
        if self.failures.len() >= MAX_ADDRESSES
            && let Some(oldest) = self
                .failures
                .iter()
                .min_by_key(|(_, times)| times.last().copied().unwrap_or(0))
                .map(|(ip, _)| *ip)
        {
            self.failures.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn five_failures_lock_the_address_until_the_first_is_fifteen_minutes_old() {
        let mut t = Throttle::default();
        let a = ip("192.0.2.7");
        for i in 0..5 {
            t.begin(a, i * MIN).unwrap();
        }
        assert!(t.just_locked(a));
        let locked = t.begin(a, 5 * MIN).unwrap_err();
        assert_eq!(locked.until_ms, 15 * MIN);
        assert_eq!(locked.retry_after_secs(5 * MIN), 600);
        // Another address is not affected.
        t.begin(ip("192.0.2.8"), 5 * MIN).unwrap();
        // At 15 minutes the first failure no longer counts: one more try.
        t.begin(a, 15 * MIN).unwrap();
        assert!(t.begin(a, 15 * MIN + 1).is_err());
    }

    #[test]
    fn a_right_password_forgives_the_failures_before_it() {
        let mut t = Throttle::default();
        let a = ip("192.0.2.7");
        for i in 0..4 {
            t.begin(a, i).unwrap();
        }
        t.begin(a, 4).unwrap();
        t.succeeded(a);
        for i in 0..5 {
            t.begin(a, 10 + i).unwrap();
        }
        assert!(t.begin(a, 20).is_err());
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let mut t = Throttle::default();
        for i in 0..5 {
            t.begin(ip(&format!("2001:db8::{i}")), 0).unwrap();
        }
        assert!(t.begin(ip("2001:db8::ff"), 1).is_err());
        t.begin(ip("2001:db8:0:1::1"), 1).unwrap();
        for _ in 0..5 {
            t.begin(ip("::ffff:192.0.2.9"), 0).unwrap();
        }
        assert!(t.begin(ip("192.0.2.9"), 1).is_err());
    }

    #[test]
    fn the_table_stays_bounded_under_a_flood_of_addresses() {
        let mut t = Throttle::default();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            t.begin(IpAddr::V4(i.into()), u64::from(i)).unwrap();
        }
        assert!(t.failures.len() <= MAX_ADDRESSES);
    }
}
