//! Failed sign-ins per account, sans-IO: the per-address [`throttle`](super::throttle)
//! stops one address guessing, this stops many addresses guessing one password.
//!
//! The server holds this table's lock from the look-up through the check of the answer
//! to the count of its outcome, so parallel guesses cannot slip past the count: each is
//! counted before the next is checked. [`FAILURES_TO_LOCK`]
//! failures within [`FAILURE_WINDOW`] lock the account for [`FIRST_LOCK`], doubling with
//! each lock up to [`LONGEST_LOCK`]; the right password clears it all.
//!
//! A lock anyone can trigger would be a way to take an office's phones off the air, so
//! it has two limits: only a wrong answer to a challenge we issued counts (never a
//! malformed or unanswerable request — see [`auth`](super::auth)), and an address the
//! account signed in from recently ([`KNOWN_FOR`]) is not locked out: the desk phone
//! that registered an hour ago keeps working while a stranger guesses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The window failures are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures within the window that lock the account.
pub const FAILURES_TO_LOCK: u32 = 5;
/// The first lock; each further one lasts twice the last.
pub const FIRST_LOCK: Duration = Duration::from_secs(60);
/// The longest lock.
pub const LONGEST_LOCK: Duration = Duration::from_secs(60 * 60);
/// How long an address an account signed in from stays exempt from its locks.
pub const KNOWN_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// Addresses remembered per account: an office phone, a softphone, a mobile.
const KNOWN_PER_ACCOUNT: usize = 8;
/// Past this many tracked accounts, the quiet ones are forgotten.
const MAX_TRACKED_ACCOUNTS: usize = 100_000;

#[derive(Default)]
struct Account {
    failures: u32,
    window_start: Option<Instant>,
    locked_until: Option<Instant>,
    /// Locks so far since the last success, for the doubling.
    locks: u32,
    known: Vec<(IpAddr, Instant)>,
}

impl Account {
    fn is_known(&self, ip: IpAddr, now: Instant) -> bool {
        self.known
            .iter()
            .any(|&(known, at)| known == ip && now.saturating_duration_since(at) < KNOWN_FOR)
    }

    fn is_quiet(&self, now: Instant) -> bool {
        self.locked_until.is_none_or(|until| now >= until)
            && self
                .window_start
                .is_none_or(|start| now.saturating_duration_since(start) >= FAILURE_WINDOW)
            && self.known.is_empty()
    }
}

/// Failures and locks per account.
#[derive(Default)]
pub struct AccountLocks {
    accounts: HashMap<String, Account>,
}

/// A lock that has just begun, for the one log line that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockStarted(pub Duration);

impl AccountLocks {
    pub fn new() -> AccountLocks {
        AccountLocks::default()
    }

    /// Whether `user`'s account is locked for attempts from `ip` at `now`: refuse them
    /// without checking.
    pub fn is_locked(&self, user: &str, ip: IpAddr, now: Instant) -> bool {
        self.accounts.get(user).is_some_and(|account| {
            account.locked_until.is_some_and(|until| now < until) && !account.is_known(ip, now)
        })
    }

    /// Counts a wrong answer for `user` from `ip`; says so when it locks the account.
    pub fn failed(&mut self, user: &str, ip: IpAddr, now: Instant) -> Option<LockStarted> {
        if !self.accounts.contains_key(user) && self.accounts.len() >= MAX_TRACKED_ACCOUNTS {
            self.accounts.retain(|_, a| !a.is_quiet(now));
        }
        let account = self.accounts.entry(user.to_string()).or_default();
        if account
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= FAILURE_WINDOW)
        {
            account.window_start = Some(now);
            account.failures = 0;
        }
        account.failures += 1;
        // A known address failing (a phone whose password was just changed) is the
        // per-address throttle's business; it never locks the account for others.
        if account.failures < FAILURES_TO_LOCK || account.is_known(ip, now) {
            return None;
        }
        let lock = FIRST_LOCK
            .saturating_mul(1 << account.locks.min(16))
            .min(LONGEST_LOCK);
        account.locked_until = Some(now + lock);
        account.locks += 1;
        account.failures = 0;
        account.window_start = None;
        Some(LockStarted(lock))
    }

    /// `user` answered right from `ip`: the account's failures and locks are cleared,
    /// and `ip` is known to it from now.
    pub fn succeeded(&mut self, user: &str, ip: IpAddr, now: Instant) {
        let account = self.accounts.entry(user.to_string()).or_default();
        account.failures = 0;
        account.window_start = None;
        account.locked_until = None;
        account.locks = 0;
        account
            .known
            .retain(|&(known, at)| known != ip && now.saturating_duration_since(at) < KNOWN_FOR);
        if account.known.len() >= KNOWN_PER_ACCOUNT {
            account.known.remove(0);
        }
        account.known.push((ip, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const PHONE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));

    fn stranger(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + n))
    }

    #[test]
    fn guesses_from_many_addresses_lock_the_account_for_strangers() {
        let t0 = Instant::now();
        let mut locks = AccountLocks::new();
        for n in 0..FAILURES_TO_LOCK - 1 {
            assert!(!locks.is_locked("101", stranger(n), t0));
            assert_eq!(locks.failed("101", stranger(n), t0), None);
        }
        assert_eq!(
            locks.failed("101", stranger(9), t0),
            Some(LockStarted(FIRST_LOCK))
        );
        assert!(locks.is_locked("101", stranger(10), t0));
        assert!(!locks.is_locked("102", stranger(10), t0), "other accounts");
        assert!(
            !locks.is_locked("101", stranger(10), t0 + FIRST_LOCK),
            "the lock ends"
        );
    }

    #[test]
    fn locks_double_up_to_the_longest_and_the_right_password_clears_them() {
        let mut now = Instant::now();
        let mut locks = AccountLocks::new();
        let mut lengths = Vec::new();
        for _ in 0..10 {
            for _ in 0..FAILURES_TO_LOCK {
                if let Some(LockStarted(d)) = locks.failed("101", stranger(1), now) {
                    lengths.push(d);
                    now += d;
                }
            }
        }
        let minutes: Vec<u64> = lengths.iter().map(|d| d.as_secs() / 60).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        locks.succeeded("101", stranger(1), now);
        for _ in 0..FAILURES_TO_LOCK - 1 {
            locks.failed("101", stranger(2), now);
        }
        let started = locks.failed("101", stranger(2), now);
        assert_eq!(
            started,
            Some(LockStarted(FIRST_LOCK)),
            "back to the first length"
        );
    }

    #[test]
    fn an_address_the_account_signed_in_from_is_never_locked_out() {
        let t0 = Instant::now();
        let mut locks = AccountLocks::new();
        locks.succeeded("101", PHONE, t0);
        for n in 0..50 {
            locks.failed("101", stranger(n), t0);
        }
        assert!(locks.is_locked("101", stranger(99), t0));
        assert!(!locks.is_locked("101", PHONE, t0));
        // Its own failures do not lock the account for anyone.
        let mut fresh = AccountLocks::new();
        fresh.succeeded("101", PHONE, t0);
        for _ in 0..3 * FAILURES_TO_LOCK {
            assert_eq!(fresh.failed("101", PHONE, t0), None);
        }
        assert!(!fresh.is_locked("101", stranger(1), t0));
        // A day after its last sign-in it is a stranger again.
        let later = t0 + KNOWN_FOR;
        for n in 0..FAILURES_TO_LOCK {
            locks.failed("101", stranger(n), later);
        }
        assert!(locks.is_locked("101", PHONE, later));
    }
}
