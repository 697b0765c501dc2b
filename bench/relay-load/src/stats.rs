//! What the receiving phones saw: counts per stream and per direction, the latency
//! distributions, and RFC 3550 interarrival jitter.

/// Latencies in 1 µs buckets up to `LIMIT_US`, the rest counted above it; the exact
/// maximum is kept apart.
pub struct Histogram {
    buckets: Vec<u64>,
    above: u64,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

const LIMIT_US: usize = 1_000_000;

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: vec![0; LIMIT_US],
            above: 0,
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    pub fn add(&mut self, ns: u64) {
        let us = (ns / 1000) as usize;
        match self.buckets.get_mut(us) {
            Some(b) => *b += 1,
            None => self.above += 1,
        }
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// The smallest bucket bound under which a share `q` of the values fall, in µs.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let wanted = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (us, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                return (us + 1) as f64;
            }
        }
        self.max_us()
    }

    pub fn max_us(&self) -> f64 {
        self.max_ns as f64 / 1000.0
    }

    pub fn mean_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64 / 1000.0
        }
    }

    /// How many values exceeded `us`.
    pub fn above_us(&self, us: usize) -> u64 {
        self.above + self.buckets.iter().skip(us).sum::<u64>()
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"count\": {}, \"mean_us\": {:.1}, \"p50_us\": {}, \"p99_us\": {}, \"p99_9_us\": {}, \"p99_99_us\": {}, \"max_us\": {:.1}, \"over_1ms\": {}, \"over_2ms\": {}}}",
            self.count,
            self.mean_us(),
            self.quantile_us(0.5),
            self.quantile_us(0.99),
            self.quantile_us(0.999),
            self.quantile_us(0.9999),
            self.max_us(),
            self.above_us(1000),
            self.above_us(2000),
        )
    }
}

/// One phone's stream as its far end heard it.
#[derive(Clone, Default)]
pub struct Stream {
    pub sent: u64,
    /// Refused by our own send buffer (never reached the server).
    pub not_sent: u64,
    pub received: u64,
    /// Arrived with a lower number than one before it.
    pub reordered: u64,
    next_sequence: u32,
    /// The server port it was relayed from (one per stream, else it crossed calls).
    pub relayed_from: Option<u16>,
    last_transit_ns: Option<i64>,
    /// RFC 3550 §6.4.1 interarrival jitter, in ns.
    pub jitter_ns: f64,
}

impl Stream {
    /// Counts a packet numbered `sequence`, whose transit (kernel arrival less send
    /// time) was `transit_ns`.
    pub fn heard(&mut self, sequence: u32, transit_ns: Option<i64>) {
        self.received += 1;
        if sequence < self.next_sequence {
            self.reordered += 1;
        } else {
            self.next_sequence = sequence + 1;
        }
        if let Some(transit) = transit_ns {
            if let Some(last) = self.last_transit_ns {
                let d = (transit - last).abs() as f64;
                self.jitter_ns += (d - self.jitter_ns) / 16.0;
            }
            self.last_transit_ns = Some(transit);
        }
    }
}

/// One direction's figures (caller to callee, or back).
pub struct Direction {
    pub name: &'static str,
    /// Kernel receive timestamp less the send time: the time in the server, plus the
    /// loopback's own delivery both ways.
    pub in_server: Histogram,
    /// Our own receive time (after `recvmmsg` returned) less the send time: adds the
    /// load tool's scheduling and batching.
    pub end_to_end: Histogram,
}

impl Direction {
    pub fn new(name: &'static str) -> Direction {
        Direction {
            name,
            in_server: Histogram::new(),
            end_to_end: Histogram::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_microsecond_buckets() {
        let mut h = Histogram::new();
        for us in 1..=1000 {
            h.add(us * 1000 - 1);
        }
        h.add(5_000_000_000);
        assert_eq!(h.count, 1001);
        assert_eq!(h.quantile_us(0.5), 501.0);
        assert_eq!(h.quantile_us(0.99), 991.0);
        assert_eq!(h.max_us(), 5_000_000.0);
        assert_eq!(h.above_us(1000), 1);
    }

    #[test]
    fn jitter_follows_rfc_3550() {
        let mut s = Stream::default();
        s.heard(0, Some(100_000));
        s.heard(1, Some(116_000));
        assert_eq!(s.jitter_ns, 1000.0);
        s.heard(3, Some(116_000));
        s.heard(2, Some(116_000));
        assert_eq!((s.received, s.reordered), (4, 1));
    }
}
