//! Whose RTP a call listens to, and where it sends its own: strict latching, sans-IO.
//!
//! A call's RTP port is reachable by anyone who can send a UDP packet to it. Believing
//! the first packet from anywhere (as symmetric RTP naively does) let a stranger take
//! over a call: hear its prompts and messages, and type its PIN as RFC 4733 events. So:
//!
//! - Packets from the address the SDP named are always heard: the far end said "send
//!   to me here", and a packet from there is the far end (forging the source address is
//!   out of scope: an attacker who can do that can already read the call).
//! - Where no NAT sits between us and the far end — it named the same IP its SIP came
//!   from — nothing else is ever heard (`Learning::Never`).
//! - Behind NAT the SDP names a private address nothing will come from, so another
//!   source may be learnt, but only after a run of `RUN` packets with consecutive
//!   sequence numbers (a stray or spoofed packet or two is not a stream), only from the
//!   IP the far end's SIP came through when that is known (the same NAT), and never
//!   while the source heard now is alive: it must have been silent for `QUIET`. This is
//!   Asterisk's `strictrtp = seqno`, plus the rule against switching away from a live
//!   source.
//!
//! Ignored packets are counted, not logged one by one: the session logs the count as
//! it doubles, so a flood cannot grow the log faster than logarithmically.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// How many packets with consecutive sequence numbers a new source must send before it
/// is heard (Asterisk's `probation` default).
pub const RUN: u16 = 4;

/// How long the source heard now must have been silent before another may take its
/// place. Long enough that a live phone (20 ms packets, or comfort noise every few
/// hundred ms when it suppresses silence) is never replaced; short enough that a phone
/// whose NAT binding moved is heard again after a breath.
pub const QUIET: Duration = Duration::from_secs(2);

/// Which sources other than the SDP's address may be learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learning {
    /// None: the far end named the IP it signals from, so there is no NAT to follow.
    Never,
    /// Sources at this IP: the far end is behind the NAT its SIP came through, and its
    /// RTP leaves through the same one.
    FromIp(IpAddr),
    /// Any source: where the signalling's source is not known (a trunk, whose media
    /// may come from another host than its SIP, or a session started on its own).
    Anywhere,
}

impl Learning {
    /// What a far end whose SDP named `sdp` and whose SIP came from `signalled_from`
    /// (`None`: not known) may be learnt from.
    pub fn for_peer(sdp: SocketAddr, signalled_from: Option<IpAddr>) -> Learning {
        // A dual-stack SIP socket sees an IPv4 phone as `::ffff:a.b.c.d`.
        match signalled_from.map(|ip| ip.to_canonical()) {
            Some(ip) if ip == sdp.ip().to_canonical() => Learning::Never,
            Some(ip) => Learning::FromIp(ip),
            None => Learning::Anywhere,
        }
    }

    fn allows(self, ip: IpAddr) -> bool {
        match self {
            Learning::Never => false,
            Learning::FromIp(allowed) => allowed == ip.to_canonical(),
            Learning::Anywhere => true,
        }
    }
}

/// What to do with one received packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It is the far end's: use it.
    Accept,
    /// It is the far end's, which is now at `to`: use it, and send there from now on.
    Switch { to: SocketAddr },
    /// Not the far end's: drop it unread.
    Ignore,
}

/// The source the session hears now.
#[derive(Clone, Copy, Debug)]
struct Heard {
    from: SocketAddr,
    at: Instant,
}

/// A source that is not heard, sending what may become a run.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    from: SocketAddr,
    last_sequence: u16,
    length: u16,
}

/// Whose packets one call hears.
#[derive(Clone, Debug)]
pub struct Latch {
    sdp: SocketAddr,
    learning: Learning,
    /// `None` until a packet is accepted.
    heard: Option<Heard>,
    /// One at a time, as in Asterisk: a second source resets the run, so an attacker
    /// interleaving packets can delay a NAT phone's latch but never take its place.
    candidate: Option<Candidate>,
    ignored: u64,
}

impl Latch {
    /// A latch for a far end whose SDP named `sdp`.
    pub fn new(sdp: SocketAddr, learning: Learning) -> Latch {
        Latch {
            sdp,
            learning,
            heard: None,
            candidate: None,
            ignored: 0,
        }
    }

    /// Where our packets go: the source heard, else the SDP's address.
    pub fn send_to(&self) -> SocketAddr {
        self.heard.map_or(self.sdp, |h| h.from)
    }

    /// How many packets were ignored so far.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Judges a packet from `from` carrying `sequence`, received at `now`.
    pub fn judge(&mut self, from: SocketAddr, sequence: u16, now: Instant) -> Verdict {
        if from == self.sdp || self.heard.is_some_and(|h| h.from == from) {
            return self.hear(from, now);
        }
        if !self.learning.allows(from.ip()) {
            return self.ignore();
        }
        let length = match self.candidate {
            Some(c) if c.from == from && sequence == c.last_sequence.wrapping_add(1) => {
                c.length.saturating_add(1)
            }
            _ => 1,
        };
        self.candidate = Some(Candidate {
            from,
            last_sequence: sequence,
            length,
        });
        let alive = self
            .heard
            .is_some_and(|h| now.saturating_duration_since(h.at) < QUIET);
        if length < RUN || alive {
            return self.ignore();
        }
        self.candidate = None;
        self.hear(from, now)
    }

    fn hear(&mut self, from: SocketAddr, now: Instant) -> Verdict {
        let before = self.send_to();
        self.heard = Some(Heard { from, at: now });
        if before == from {
            Verdict::Accept
        } else {
            Verdict::Switch { to: from }
        }
    }

    fn ignore(&mut self) -> Verdict {
        self.ignored += 1;
        Verdict::Ignore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A phone that named its own address.
    const SDP: &str = "198.51.100.7:4000";
    /// A phone behind NAT, and another port of the same public address.
    const NAT: &str = "203.0.113.9:61000";
    const STRANGER: &str = "203.0.113.9:62000";
    const ELSEWHERE: &str = "192.0.2.66:5004";

    /// Feeds `count` packets from `from` with consecutive sequence numbers from `first`,
    /// 20 ms apart from `at`; returns each verdict and the time after the last.
    fn stream(
        latch: &mut Latch,
        from: &str,
        first: u16,
        count: u16,
        at: Instant,
    ) -> (Vec<Verdict>, Instant) {
        let mut now = at;
        let verdicts = (0..count)
            .map(|i| {
                now += Duration::from_millis(20);
                latch.judge(addr(from), first.wrapping_add(i), now)
            })
            .collect();
        (verdicts, now)
    }

    #[test]
    fn learning_follows_nat_only_where_the_sdp_and_the_signalling_disagree() {
        let sdp = addr("192.168.1.20:4000");
        assert_eq!(
            Learning::for_peer(sdp, Some("192.168.1.20".parse().unwrap())),
            Learning::Never
        );
        let public: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            Learning::for_peer(sdp, Some(public)),
            Learning::FromIp(public)
        );
        assert_eq!(Learning::for_peer(sdp, None), Learning::Anywhere);
        let mapped: IpAddr = "::ffff:192.168.1.20".parse().unwrap();
        assert_eq!(Learning::for_peer(sdp, Some(mapped)), Learning::Never);
    }

    #[test]
    fn the_sdp_address_is_always_heard_and_nothing_else_without_nat() {
        let mut latch = Latch::new(addr(SDP), Learning::Never);
        let t0 = Instant::now();
        let (v, t) = stream(&mut latch, SDP, 10, 3, t0);
        assert!(v.iter().all(|v| *v == Verdict::Accept), "{v:?}");
        // A long consecutive run from another port of the same host, even after the
        // phone fell silent for a minute, is never heard.
        let (v, _) = stream(
            &mut latch,
            "198.51.100.7:4002",
            500,
            200,
            t + Duration::from_secs(60),
        );
        assert!(v.iter().all(|v| *v == Verdict::Ignore));
        assert_eq!(latch.ignored(), 200);
        assert_eq!(latch.send_to(), addr(SDP));
    }

    #[test]
    fn behind_nat_the_first_consecutive_run_latches() {
        let sdp = addr("192.168.1.20:4000");
        let mut latch = Latch::new(sdp, Learning::FromIp(addr(NAT).ip()));
        let (v, _) = stream(&mut latch, NAT, 65_534, 6, Instant::now());
        // Three ignored, the fourth latches (across the sequence number's wrap), the
        // rest are heard.
        assert_eq!(
            v,
            [
                Verdict::Ignore,
                Verdict::Ignore,
                Verdict::Ignore,
                Verdict::Switch { to: addr(NAT) },
                Verdict::Accept,
                Verdict::Accept
            ]
        );
        assert_eq!(latch.send_to(), addr(NAT));
    }

    #[test]
    fn a_run_must_be_consecutive_and_from_one_source() {
        let mut latch = Latch::new(addr("10.0.0.2:4000"), Learning::Anywhere);
        let t = Instant::now();
        // Gaps restart the run.
        for seq in [1, 2, 3, 5, 6, 7] {
            assert_eq!(latch.judge(addr(NAT), seq, t), Verdict::Ignore);
        }
        // Another source interleaving resets it too.
        assert_eq!(latch.judge(addr(STRANGER), 8, t), Verdict::Ignore);
        assert_eq!(latch.judge(addr(NAT), 8, t), Verdict::Ignore);
        assert_eq!(latch.judge(addr(NAT), 9, t), Verdict::Ignore);
        assert_eq!(latch.judge(addr(NAT), 10, t), Verdict::Ignore);
        assert_eq!(
            latch.judge(addr(NAT), 11, t),
            Verdict::Switch { to: addr(NAT) }
        );
    }

    #[test]
    fn behind_nat_only_the_signallings_ip_is_learnt() {
        let mut latch = Latch::new(addr("10.0.0.2:4000"), Learning::FromIp(addr(NAT).ip()));
        let (v, _) = stream(&mut latch, ELSEWHERE, 1, 50, Instant::now());
        assert!(v.iter().all(|v| *v == Verdict::Ignore));
        assert_eq!(latch.send_to(), addr("10.0.0.2:4000"));
    }

    #[test]
    fn a_live_source_is_never_replaced_and_a_silent_one_is_after_quiet() {
        let mut latch = Latch::new(addr("10.0.0.2:4000"), Learning::FromIp(addr(NAT).ip()));
        let (_, t) = stream(&mut latch, NAT, 100, 4, Instant::now());
        assert_eq!(latch.send_to(), addr(NAT));
        // The stranger's run, interleaved with the live phone's packets: never heard.
        let mut now = t;
        for i in 0..100u16 {
            now += Duration::from_millis(10);
            assert_eq!(latch.judge(addr(STRANGER), 7000 + i, now), Verdict::Ignore);
            now += Duration::from_millis(10);
            assert_eq!(latch.judge(addr(NAT), 104 + i, now), Verdict::Accept);
        }
        // Silent for less than QUIET: still not.
        let (v, _) = stream(&mut latch, STRANGER, 8000, 90, now);
        assert!(v.iter().all(|v| *v == Verdict::Ignore));
        assert_eq!(latch.send_to(), addr(NAT));
        // Silent for QUIET (the phone's NAT binding moved): the new port's run is heard.
        let later = now + QUIET;
        let (v, _) = stream(&mut latch, STRANGER, 9000, 4, later);
        assert_eq!(v[3], Verdict::Switch { to: addr(STRANGER) });
    }

    #[test]
    fn the_sdp_address_takes_back_a_learnt_source() {
        let sdp = addr("198.51.100.7:4000");
        let mut latch = Latch::new(sdp, Learning::Anywhere);
        let (_, t) = stream(&mut latch, ELSEWHERE, 1, 4, Instant::now());
        assert_eq!(latch.send_to(), addr(ELSEWHERE));
        assert_eq!(latch.judge(sdp, 77, t), Verdict::Switch { to: sdp });
        // And the learnt one, now not heard, cannot come back while the SDP's is alive.
        let (v, _) = stream(&mut latch, ELSEWHERE, 5, 20, t);
        assert!(v.iter().all(|v| *v == Verdict::Ignore));
        assert_eq!(latch.send_to(), sdp);
    }
}
