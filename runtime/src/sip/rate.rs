//! A token bucket per source address, sans-IO: how many SUBSCRIBEs an address may
//! send before it is told to come back later. Time comes in from the caller.
//!
//! A phone whose subscription fails may re-subscribe at once, and a buggy one does
//! so without end (one baresip sent 119,447 SUBSCRIBEs in two minutes after a 489).
//! Each request costs a transaction and, once authenticated, a NOTIFY; the bucket
//! bounds that cost per address whatever the phone does. The burst is large enough
//! for an office of phones behind one NAT address all subscribing after a power cut.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Requests an address may send at once.
pub const BURST: u32 = 40;
/// Requests an address may send per second, over time.
pub const PER_SECOND: u32 = 4;
/// Past this many tracked addresses, the full buckets (idle addresses) are forgotten.
const MAX_TRACKED_SOURCES: usize = 100_000;

/// Whether a request may go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rate {
    Allow,
    /// Over the rate: answer 503 with `Retry-After` of this long, doing nothing else.
    Exceeded {
        retry_after: Duration,
    },
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One bucket per source address.
pub struct RateLimit {
    burst: f64,
    per_second: f64,
    buckets: HashMap<IpAddr, Bucket>,
}

impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit::new(BURST, PER_SECOND)
    }
}

impl RateLimit {
    pub fn new(burst: u32, per_second: u32) -> RateLimit {
        RateLimit {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for a request from `ip` at `now`, if there is one.
    pub fn take(&mut self, ip: IpAddr, now: Instant) -> Rate {
        if self.buckets.len() >= MAX_TRACKED_SOURCES && !self.buckets.contains_key(&ip) {
            let (burst, per_second) = (self.burst, self.per_second);
            self.buckets
                .retain(|_, b| refilled(b, now, burst, per_second) < burst);
        }
        let bucket = self.buckets.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        bucket.tokens = refilled(bucket, now, self.burst, self.per_second);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Rate::Allow;
        }
        let wait = (1.0 - bucket.tokens) / self.per_second;
        // Whole seconds for Retry-After, never 0 (which would invite an instant retry).
        Rate::Exceeded {
            retry_after: Duration::from_secs((wait.ceil() as u64).max(1)),
        }
    }
}

fn refilled(bucket: &Bucket, now: Instant, burst: f64, per_second: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * per_second).min(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(5, 2);
        for i in 0..5 {
            assert_eq!(limit.take(A, t0), Rate::Allow, "request {i}");
        }
        assert_eq!(
            limit.take(A, t0),
            Rate::Exceeded {
                retry_after: Duration::from_secs(1)
            }
        );
        assert_eq!(limit.take(B, t0), Rate::Allow, "other sources unaffected");
        // Two tokens a second come back.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limit.take(A, t1), Rate::Allow);
        assert_eq!(limit.take(A, t1), Rate::Allow);
        assert!(matches!(limit.take(A, t1), Rate::Exceeded { .. }));
    }

    #[test]
    fn a_storm_gets_through_only_at_the_rate() {
        let t0 = Instant::now();
        let mut limit = RateLimit::default();
        let mut allowed = 0;
        // 1000 requests a second for two minutes, as the baresip in the issue sent.
        for ms in 0..120_000u64 {
            if limit.take(A, t0 + Duration::from_millis(ms)) == Rate::Allow {
                allowed += 1;
            }
        }
        let most = BURST + PER_SECOND * 120;
        assert!(allowed <= most, "{allowed} > {most}");
        assert!(allowed >= most - 1, "{allowed}");
    }

    #[test]
    fn an_idle_bucket_refills_only_to_the_burst() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(3, 1);
        assert_eq!(limit.take(A, t0), Rate::Allow);
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limit.take(A, later), Rate::Allow);
        }
        assert!(matches!(limit.take(A, later), Rate::Exceeded { .. }));
    }
}
