//! Messages per source address, sans-IO, in the spirit of Kamailio's `pike`: an
//! address that sends more than [`SourceRates::limit`] SIP messages within one
//! [`WINDOW`] is dropped without an answer for [`BLOCK`], and told nothing.
//!
//! This is the first thing a datagram meets, before it is parsed, so a flood costs one
//! table look-up per packet; what a flood from few addresses cannot do any more is make
//! the server parse, answer, or keep state for its messages. Answering nothing matters
//! as much: a flood with a forged source would otherwise turn the server into a
//! reflector aimed at the forged address.
//!
//! The table is bounded ([`MAX_TRACKED_SOURCES`]): when it is full and nothing in it is
//! quiet, a new address is let through untracked rather than refused, because an
//! attacker forging addresses must not be able to push the office's phones out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The window messages are counted in.
pub const WINDOW: Duration = Duration::from_secs(2);
/// How long an address over its rate is dropped. Messages during the block are still
/// counted, so an address that keeps flooding is blocked again as soon as it is let in.
pub const BLOCK: Duration = Duration::from_secs(30);
/// Messages a second one address may send, averaged over [`WINDOW`], by default: an
/// office of 100 phones behind one NAT address registers, subscribes, keeps NAT
/// bindings alive and makes calls at a few tens a second at its busiest.
pub const DEFAULT_PER_SECOND: u32 = 100;
/// Past this many tracked addresses, the quiet ones are forgotten.
pub const MAX_TRACKED_SOURCES: usize = 65_536;

/// What to do with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Drop it; the address was already blocked.
    Drop,
    /// Drop it: this message put the address over its rate, and it is blocked from now.
    /// Said once per block, so the server can log the start of a flood once.
    Block,
}

struct Source {
    window_start: Instant,
    count: u32,
    blocked_until: Option<Instant>,
}

/// Message counts per source address.
pub struct SourceRates {
    /// Messages allowed per [`WINDOW`].
    limit: u32,
    sources: HashMap<IpAddr, Source>,
}

impl SourceRates {
    /// Allows `per_second` messages a second per address, averaged over [`WINDOW`].
    pub fn new(per_second: u32) -> SourceRates {
        SourceRates {
            limit: per_second.saturating_mul(WINDOW.as_secs() as u32).max(1),
            sources: HashMap::new(),
        }
    }

    /// Messages allowed per address within one [`WINDOW`].
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Counts a message from `ip` at `now` and says what to do with it.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        if !self.sources.contains_key(&ip) && self.sources.len() >= MAX_TRACKED_SOURCES {
            self.forget_quiet(now);
            if self.sources.len() >= MAX_TRACKED_SOURCES {
                return Verdict::Pass;
            }
        }
        let source = self.sources.entry(ip).or_insert(Source {
            window_start: now,
            count: 0,
            blocked_until: None,
        });
        if now.saturating_duration_since(source.window_start) >= WINDOW {
            source.window_start = now;
            source.count = 0;
        }
        source.count = source.count.saturating_add(1);
        match source.blocked_until {
            Some(until) if now < until => Verdict::Drop,
            _ => {
                source.blocked_until = None;
                if source.count > self.limit {
                    source.blocked_until = Some(now + BLOCK);
                    Verdict::Block
                } else {
                    Verdict::Pass
                }
            }
        }
    }

    /// Addresses tracked now.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }

    fn forget_quiet(&mut self, now: Instant) {
        self.sources.retain(|_, s| {
            s.blocked_until.is_some_and(|until| now < until)
                || now.saturating_duration_since(s.window_start) < WINDOW
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn an_address_over_its_rate_is_dropped_for_the_block_and_said_once() {
        let t0 = Instant::now();
        let mut rates = SourceRates::new(10);
        assert_eq!(rates.limit(), 20);
        for i in 0..20 {
            assert_eq!(rates.admit(ip(1), t0), Verdict::Pass, "message {i}");
        }
        assert_eq!(rates.admit(ip(1), t0), Verdict::Block);
        for _ in 0..1000 {
            assert_eq!(rates.admit(ip(1), t0), Verdict::Drop);
        }
        assert_eq!(
            rates.admit(ip(2), t0),
            Verdict::Pass,
            "others are not affected"
        );
        let later = t0 + BLOCK - Duration::from_millis(1);
        assert_eq!(rates.admit(ip(1), later), Verdict::Drop);
        // After the block, a quiet address is welcome again.
        assert_eq!(rates.admit(ip(1), t0 + BLOCK), Verdict::Pass);
    }

    #[test]
    fn an_address_that_keeps_flooding_is_blocked_again_at_once() {
        let t0 = Instant::now();
        let mut rates = SourceRates::new(10);
        for _ in 0..=20 {
            rates.admit(ip(1), t0);
        }
        let after = t0 + BLOCK;
        let verdicts: Vec<_> = (0..25).map(|_| rates.admit(ip(1), after)).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Pass).count(), 20);
        assert_eq!(verdicts[20], Verdict::Block);
    }

    #[test]
    fn a_steady_rate_under_the_limit_is_never_dropped() {
        let t0 = Instant::now();
        let mut rates = SourceRates::new(DEFAULT_PER_SECOND);
        // 90 a second for five minutes.
        for i in 0..(90 * 300) {
            let now = t0 + Duration::from_micros(i * 1_000_000 / 90);
            assert_eq!(rates.admit(ip(1), now), Verdict::Pass, "message {i}");
        }
    }

    #[test]
    fn the_table_is_bounded_and_a_full_table_lets_new_addresses_through() {
        let t0 = Instant::now();
        let mut rates = SourceRates::new(1);
        for n in 0..MAX_TRACKED_SOURCES as u32 {
            rates.admit(ip(n), t0);
        }
        assert_eq!(rates.tracked(), MAX_TRACKED_SOURCES);
        let newcomer = ip(MAX_TRACKED_SOURCES as u32 + 1);
        for _ in 0..5 {
            assert_eq!(rates.admit(newcomer, t0), Verdict::Pass);
        }
        assert_eq!(rates.tracked(), MAX_TRACKED_SOURCES);
        // Once the others are quiet, they make room.
        assert_eq!(rates.admit(newcomer, t0 + WINDOW), Verdict::Pass);
        assert_eq!(rates.tracked(), 1);
    }
}
