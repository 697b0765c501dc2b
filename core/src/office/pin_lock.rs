//! Wrong PINs counted across calls, per mailbox, with a lock that grows: after
//! `MAX_FAILURES` wrong PINs within `WINDOW_MS`, the mailbox refuses PIN entry — even the
//! right PIN — for one minute, then two, four, … up to `MAX_LOCK_MS`, until its PIN opens
//! it again.
//!
//! A flow's `repeat 3 times` limits the tries of one call only; calls in parallel used to
//! get three each, some 700 guesses a minute. The count lives in the store, keyed by the
//! mailbox rather than by the caller, so calls in parallel, from any phone or trunk, share
//! it. Each attempt is counted (written) *before* the PIN is checked, and the right PIN
//! takes its count back: a step that fails half-way has still paid for its guess, and no
//! attempt is ever checked without being counted first. The server runs engine steps one
//! at a time on the store thread, so two calls' read-count-write cannot interleave.
//!
//! Time is the store's clock (`Store::now_ms`), so the engine stays without one.
//!
//! A lock is not lifted by the right PIN: that would let a guesser go on and simply be
//! told when they hit it. A lock also does not count the attempts made during it (they
//! are refused unchecked), so a guesser cannot make it longer than the back-off says,
//! nor does the owner's lock grow while they wait it out. The level of the back-off
//! (`PinAttempts::locks`) goes back to zero only when the PIN opens the mailbox; that
//! success is also when the owner is told that someone guessed (`PinCheck::Opened`).

use super::{has_voicemail, pin_ok};
use crate::store::{PinAttempts, Store, StoreError};
use switchboard_dsl::Plan;

/// Wrong PINs within `WINDOW_MS` that lock a mailbox.
pub const MAX_FAILURES: u32 = 5;
/// How long a wrong PIN keeps counting.
pub const WINDOW_MS: u64 = 15 * 60 * 1000;
/// The first lock; each further one without the PIN opening the mailbox in between
/// doubles it.
pub const FIRST_LOCK_MS: u64 = 60 * 1000;
/// The longest lock: an owner locked out by someone else gets back in within the hour.
pub const MAX_LOCK_MS: u64 = 60 * 60 * 1000;

/// What became of one PIN attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinCheck {
    /// The PIN opened the mailbox. `locked_before` says the mailbox was locked since its
    /// PIN last opened it, which its owner should hear about.
    Opened { locked_before: bool },
    /// The PIN was wrong (or there is no such mailbox); the mailbox is not locked.
    Wrong,
    /// The mailbox refuses PIN entry, for this long yet; the PIN was not checked, or
    /// this wrong PIN was the one that locked it.
    Locked { for_ms: u64 },
}

/// One PIN attempt at `mailbox`: counted, then checked with `pin_ok`, under the lock.
///
/// A number with no mailbox has nothing to open and no count is kept for it, so guessing
/// at numbers cannot fill the store.
pub fn try_pin(
    plan: &Plan,
    store: &mut dyn Store,
    mailbox: &str,
    pin: &str,
) -> Result<PinCheck, StoreError> {
    if !has_voicemail(plan, mailbox) {
        return Ok(PinCheck::Wrong);
    }
    let now = store.now_ms()?;
    let mut attempts = store.pin_attempts(mailbox)?;
    if now < attempts.locked_until {
        return Ok(PinCheck::Locked {
            for_ms: attempts.locked_until - now,
        });
    }
    if attempts.failures > 0 && now.saturating_sub(attempts.since) >= WINDOW_MS {
        attempts.failures = 0;
    }
    if attempts.failures == 0 {
        attempts.since = now;
    }
    attempts.failures += 1;
    // Counted before it is checked: see the module documentation.
    store.set_pin_attempts(mailbox, attempts)?;

    if pin_ok(plan, store, mailbox, pin)? {
        store.set_pin_attempts(mailbox, PinAttempts::default())?;
        return Ok(PinCheck::Opened {
            locked_before: attempts.locks > 0,
        });
    }
    if attempts.failures < MAX_FAILURES {
        return Ok(PinCheck::Wrong);
    }
    let for_ms = lock_length(attempts.locks);
    let locked = PinAttempts {
        failures: 0,
        since: now,
        locks: attempts.locks.saturating_add(1),
        locked_until: now.saturating_add(for_ms),
    };
    store.set_pin_attempts(mailbox, locked)?;
    Ok(PinCheck::Locked { for_ms })
}

/// The length of a mailbox's lock after `locks` earlier ones: 1, 2, 4 … minutes, capped.
pub fn lock_length(locks: u32) -> u64 {
    // 2^6 minutes is already past the cap; the `min` keeps the shift in range.
    FIRST_LOCK_MS
        .saturating_mul(1 << locks.min(16))
        .min(MAX_LOCK_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::office::test_plan;
    use crate::store::MemoryStore;

    const PLAN: &str = r#"
extension 101 "Alice" { voicemail; pin "1234" }
extension 102 "Bruno" { voicemail; pin "2345" }
extension 103 "Carla" { pin "3456" }
"#;

    fn wrong_times(plan: &Plan, store: &mut MemoryStore, mailbox: &str, n: u32) -> PinCheck {
        let mut last = PinCheck::Wrong;
        for _ in 0..n {
            last = try_pin(plan, store, mailbox, "0000").unwrap();
        }
        last
    }

    #[test]
    fn the_fifth_wrong_pin_locks_even_the_right_one_out_for_a_minute() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert_eq!(wrong_times(&plan, &mut store, "101", 4), PinCheck::Wrong);
        assert_eq!(
            wrong_times(&plan, &mut store, "101", 1),
            PinCheck::Locked { for_ms: 60_000 }
        );
        store.advance(59_999);
        assert_eq!(
            try_pin(&plan, &mut store, "101", "1234").unwrap(),
            PinCheck::Locked { for_ms: 1 }
        );
        // Another mailbox is not affected.
        assert_eq!(
            try_pin(&plan, &mut store, "102", "2345").unwrap(),
            PinCheck::Opened {
                locked_before: false
            }
        );
        store.advance(1);
        assert_eq!(
            try_pin(&plan, &mut store, "101", "1234").unwrap(),
            PinCheck::Opened {
                locked_before: true
            }
        );
        // The success forgot everything: the next lock is a minute again.
        assert_eq!(store.pin_attempts("101").unwrap(), PinAttempts::default());
        assert_eq!(
            wrong_times(&plan, &mut store, "101", 5),
            PinCheck::Locked { for_ms: 60_000 }
        );
    }

    #[test]
    fn locks_double_up_to_the_cap_while_the_pin_does_not_open() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        let mut lengths = Vec::new();
        for _ in 0..9 {
            match wrong_times(&plan, &mut store, "101", 5) {
                PinCheck::Locked { for_ms } => lengths.push(for_ms / 60_000),
                other => panic!("not locked: {other:?}"),
            }
            // Tries during the lock are refused and not counted.
            store.advance(1000);
            assert!(matches!(
                wrong_times(&plan, &mut store, "101", 10),
                PinCheck::Locked { .. }
            ));
            store.advance(MAX_LOCK_MS);
        }
        assert_eq!(lengths, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(lock_length(u32::MAX), MAX_LOCK_MS);
    }

    #[test]
    fn wrong_pins_older_than_the_window_stop_counting() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        wrong_times(&plan, &mut store, "101", 4);
        store.advance(WINDOW_MS);
        assert_eq!(wrong_times(&plan, &mut store, "101", 4), PinCheck::Wrong);
        assert_eq!(store.pin_attempts("101").unwrap().failures, 4);
    }

    #[test]
    fn a_right_pin_takes_back_its_count_but_not_earlier_wrong_ones_in_other_mailboxes() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        wrong_times(&plan, &mut store, "101", 4);
        wrong_times(&plan, &mut store, "102", 2);
        try_pin(&plan, &mut store, "101", "1234").unwrap();
        assert_eq!(store.pin_attempts("101").unwrap(), PinAttempts::default());
        assert_eq!(store.pin_attempts("102").unwrap().failures, 2);
    }

    #[test]
    fn numbers_without_a_mailbox_keep_no_count() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        for mailbox in ["103", "199"] {
            assert_eq!(wrong_times(&plan, &mut store, mailbox, 6), PinCheck::Wrong);
            assert_eq!(store.pin_attempts(mailbox).unwrap(), PinAttempts::default());
        }
    }

    /// A store whose PIN check fails: the attempt must already be counted.
    struct FailingCheck(MemoryStore);

    #[test]
    fn an_attempt_is_counted_before_it_is_checked() {
        let plan = test_plan(PLAN);
        let mut store = FailingCheck(MemoryStore::new());
        store.0.set_pin("101", "1234").unwrap();
        assert!(try_pin(&plan, &mut store, "101", "1234").is_err());
        assert_eq!(store.0.pin_attempts("101").unwrap().failures, 1);
    }

    /// Hands every method but `check_pin` to the memory store.
    macro_rules! delegate {
        (ref { $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* }
         mut { $($mname:ident($($marg:ident: $mty:ty),*) -> $mret:ty;)* }) => {
            $(fn $name(&self, $($arg: $ty),*) -> $ret { self.0.$name($($arg),*) })*
            $(fn $mname(&mut self, $($marg: $mty),*) -> $mret { self.0.$mname($($marg),*) })*
        };
    }

    use crate::ids::MessageId;
    use crate::store::{CallDetail, Folder, Message, NewMessage, ParkedCall};

    impl Store for FailingCheck {
        fn check_pin(&self, _: &str, _: &str) -> Result<Option<bool>, StoreError> {
            Err(StoreError::new("the disk is gone"))
        }
        delegate! {
            ref {
            now_ms() -> Result<u64, StoreError>;
            pin_attempts(m: &str) -> Result<PinAttempts, StoreError>;
            messages(m: &str, f: Folder) -> Result<Vec<Message>, StoreError>;
            message_counts(m: &str) -> Result<(u32, u32), StoreError>;
            greeting(m: &str) -> Result<Option<String>, StoreError>;
            name_recording(m: &str) -> Result<Option<String>, StoreError>;
            queue_logged_in(a: &str, q: &str) -> Result<bool, StoreError>;
            hot_desk_extension(m: &str) -> Result<Option<String>, StoreError>;
            hot_desk_device(e: &str) -> Result<Option<String>, StoreError>;
            hot_desk_logins() -> Result<Vec<(String, String)>, StoreError>;
            parked(o: &str) -> Result<Option<ParkedCall>, StoreError>;
            call_details(f: u64, t: u64, l: usize) -> Result<Vec<CallDetail>, StoreError>;
            agent_last_call_end(a: &str) -> Result<Option<u64>, StoreError>;
            queue_calls_answered(a: &str, q: &str) -> Result<u32, StoreError>;
            queue_last_offered(q: &str) -> Result<Option<String>, StoreError>;
            }
            mut {
            set_pin_attempts(m: &str, a: PinAttempts) -> Result<(), StoreError>;
            record_call(d: &CallDetail) -> Result<(), StoreError>;
            set_pin(m: &str, p: &str) -> Result<(), StoreError>;
            add_message(m: &str, n: NewMessage) -> Result<MessageId, StoreError>;
            move_message(m: &str, i: MessageId, f: Folder) -> Result<bool, StoreError>;
            delete_message(m: &str, i: MessageId) -> Result<bool, StoreError>;
            set_greeting(m: &str, r: &str) -> Result<(), StoreError>;
            set_name_recording(m: &str, r: &str) -> Result<(), StoreError>;
            set_queue_logged_in(a: &str, q: &str, l: bool) -> Result<(), StoreError>;
            set_hot_desk(m: &str, e: Option<&str>) -> Result<(), StoreError>;
            set_parked(o: &str, p: Option<ParkedCall>) -> Result<(), StoreError>;
            set_agent_last_call_end(a: &str, t: u64) -> Result<(), StoreError>;
            set_queue_calls_answered(a: &str, q: &str, n: u32) -> Result<(), StoreError>;
            set_queue_last_offered(q: &str, a: &str) -> Result<(), StoreError>;
            }
        }
    }
}
