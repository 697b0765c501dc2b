//! Where each received packet's audio goes in a recording, decided from its RTP header
//! alone (pure, no clock of its own): how much silence comes before it, how much of it
//! is kept, or whether it is dropped.
//!
//! The packets say how much time passed, and they are the caller's to forge. Left
//! unbounded, a timestamp that jumps 5 s per packet turns 205 KB of RTP sent in a second
//! into hours of silence on disk. So three bounds hold whatever the packets say:
//!
//! - A gap is filled with silence only up to `MAX_FILL` (1 s). Lost packets and jitter
//!   make gaps of tens to hundreds of milliseconds; a forward jump of more than a second
//!   is a new talk spurt after silence suppression, a phone taken off hold, or a forgery,
//!   and is taken as a new timeline (no silence), as a different SSRC is.
//! - Silence never makes the recording longer than the time it has been running plus
//!   `SLACK` (1 s, for jitter): at most one second of silence per second of call, however
//!   many packets arrive, so a flood of 1 s jumps gains nothing either.
//! - Nothing is kept past the recording's maximum length (the plan's `max_recording` or
//!   the step's `max`), which caps the file at `44 + 2 × 8000 × seconds` bytes.

use crate::media::prompts::SAMPLE_RATE;
use crate::media::rtp::RtpHeader;
use std::time::Duration;

/// The longest gap in a stream's timestamps filled with silence, in samples (1 s).
pub const MAX_FILL: u32 = SAMPLE_RATE;

/// How far silence may run ahead of the wall clock, in samples (1 s).
pub const SLACK: u64 = SAMPLE_RATE as u64;

/// Where one packet's audio goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Samples of silence to write before the packet's audio.
    pub silence: usize,
    /// How many of the packet's samples to write (fewer than it has at the cap; none for
    /// a repeated or late packet).
    pub audio: usize,
}

/// One recording's timeline: what it has written and where the caller's stream is.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// The SSRC and timestamp the next packet should have.
    next: Option<(u32, u32)>,
    /// Samples placed so far, silence included.
    written: u64,
    /// The most samples the recording may hold.
    max: u64,
}

impl Timeline {
    /// A recording that may hold `max` of audio.
    pub fn new(max: Duration) -> Timeline {
        Timeline {
            next: None,
            written: 0,
            max: samples_in(max),
        }
    }

    /// Places a packet of `samples` samples with header `h`, received `elapsed` after the
    /// recording started.
    pub fn place(&mut self, h: &RtpHeader, samples: usize, elapsed: Duration) -> Placement {
        let mut silence = 0u64;
        if let Some((ssrc, expected)) = self.next
            && ssrc == h.ssrc
        {
            let gap = h.timestamp.wrapping_sub(expected) as i32;
            if (-(MAX_FILL as i32)..0).contains(&gap) {
                // Repeated, or overtaken by later packets: its place is already written.
                return Placement {
                    silence: 0,
                    audio: 0,
                };
            }
            if (1..=MAX_FILL as i32).contains(&gap) {
                let budget = (samples_in(elapsed) + SLACK).saturating_sub(self.written);
                silence = (gap as u64).min(budget);
            }
        }
        let room = self.max - self.written;
        let silence = silence.min(room);
        let audio = (samples as u64).min(room - silence);
        self.written += silence + audio;
        self.next = Some((h.ssrc, h.timestamp.wrapping_add(samples as u32)));
        Placement {
            silence: silence as usize,
            audio: audio as usize,
        }
    }

    /// Whether the recording holds its maximum length: nothing more will be placed.
    pub fn full(&self) -> bool {
        self.written >= self.max
    }
}

/// `d` as a number of samples at 8 kHz, rounded down.
fn samples_in(d: Duration) -> u64 {
    (d.as_micros() * SAMPLE_RATE as u128 / 1_000_000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn header(ssrc: u32, timestamp: u32) -> RtpHeader {
        RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: 0,
            timestamp,
            ssrc,
        }
    }

    /// Places packets of 160 samples at `(ssrc, timestamp, elapsed ms)`; returns the
    /// placements as `(silence, audio)`.
    fn check(max: Duration, packets: &[(u32, u32, u64)]) -> Vec<(usize, usize)> {
        let mut t = Timeline::new(max);
        packets
            .iter()
            .map(|&(ssrc, ts, ms)| {
                let p = t.place(&header(ssrc, ts), 160, Duration::from_millis(ms));
                (p.silence, p.audio)
            })
            .collect()
    }

    #[test]
    fn a_lost_packet_is_filled_and_a_repeated_one_dropped() {
        let placed = check(
            MINUTE,
            &[(1, 0, 0), (1, 320, 40), (1, 320, 41), (1, 160, 42)],
        );
        assert_eq!(placed, vec![(0, 160), (160, 160), (0, 0), (0, 0)]);
    }

    #[test]
    fn a_jump_of_more_than_a_second_is_a_new_timeline() {
        let five_s = 5 * 8000;
        let placed = check(
            MINUTE,
            &[
                (1, 0, 0),
                (1, five_s, 20),
                (1, 2 * five_s, 40),
                (1, 2 * five_s + 160 + 8000, 5000),
            ],
        );
        // The last jump is exactly one second, and five seconds have passed: filled.
        assert_eq!(placed, vec![(0, 160), (0, 160), (0, 160), (8000, 160)]);
    }

    #[test]
    fn silence_does_not_run_ahead_of_the_clock() {
        // One-second jumps, 20 ms apart: the first second of slack, then one packet's
        // worth of time each.
        let packets: Vec<(u32, u32, u64)> = (0..5).map(|i| (1, i * 8160, i as u64 * 20)).collect();
        let placed = check(MINUTE, &packets);
        let silence: usize = placed.iter().map(|p| p.0).sum();
        assert!(silence <= 8000 + 4 * 160, "{placed:?}");
    }

    #[test]
    fn nothing_is_kept_past_the_maximum_length() {
        let max = Duration::from_millis(50); // 400 samples
        let placed = check(max, &[(1, 0, 0), (1, 160, 20), (1, 320, 40), (1, 480, 60)]);
        assert_eq!(placed, vec![(0, 160), (0, 160), (0, 80), (0, 0)]);
        let mut t = Timeline::new(max);
        for i in 0..3 {
            t.place(&header(1, i * 160), 160, Duration::ZERO);
        }
        assert!(t.full());
    }

    #[test]
    fn a_new_ssrc_starts_a_new_timeline_and_wrap_around_is_continuous() {
        let placed = check(
            MINUTE,
            &[
                (1, u32::MAX - 159, 0),
                (1, 160, 40),
                (2, 7, 60),
                (2, 167, 80),
            ],
        );
        assert_eq!(placed, vec![(0, 160), (160, 160), (0, 160), (0, 160)]);
    }
}
