//! Call-progress tones as an exchange plays them (the North American "precise" tones of
//! ANSI T1.401): two sines summed, switched on and off in a cadence. Pure: a tone is a
//! function from a sample's index to its value, and one cadence's samples are all a
//! caller needs, looped by the player.
//!
//! Each cadence holds a whole number of periods of both frequencies, so looping it
//! joins without a click: 6 s of ringback is 2640 periods of 440 Hz and 2880 of 480 Hz.

use std::f64::consts::TAU;
use std::sync::Arc;
use std::time::Duration;

/// Samples per second of G.711.
pub const SAMPLE_RATE: u32 = 8000;

/// A dual-frequency tone in a repeating on/off cadence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    pub low_hz: u32,
    pub high_hz: u32,
    /// The level of each of the two frequencies, in dBm0.
    pub level_dbm0: f64,
    /// How long it sounds, then how long it is silent, each cadence.
    pub on: Duration,
    pub off: Duration,
}

/// Ringback ("the number is ringing"): 440 + 480 Hz, 2 s on, 4 s off, -19 dBm0 each.
pub const US_RINGBACK: Tone = Tone {
    low_hz: 440,
    high_hz: 480,
    level_dbm0: -19.0,
    on: Duration::from_secs(2),
    off: Duration::from_secs(4),
};

/// Busy ("the line is busy"): 480 + 620 Hz, 0.5 s on, 0.5 s off, -24 dBm0 each.
pub const US_BUSY: Tone = Tone {
    low_hz: 480,
    high_hz: 620,
    level_dbm0: -24.0,
    on: Duration::from_millis(500),
    off: Duration::from_millis(500),
};

/// Reorder, the "fast busy" ("the call cannot go through"): busy's frequencies twice as
/// fast, 0.25 s on, 0.25 s off.
pub const US_REORDER: Tone = Tone {
    on: Duration::from_millis(250),
    off: Duration::from_millis(250),
    ..US_BUSY
};

/// The peak of a 0 dBm0 sine in 16-bit linear PCM: G.711's largest value is +3.17 dBm0
/// (G.711 table 5 and 6), and its 14-bit µ-law maximum 8159 is 32 636 in 16 bits.
const ZERO_DBM0_PEAK: f64 = 32_636.0 * 0.694_2;

impl Tone {
    /// Samples in one cadence (on and off).
    pub fn cadence_samples(&self) -> usize {
        samples_in(self.on) + samples_in(self.off)
    }

    /// The value of sample `n`, counted from the start of a cadence (and going on into
    /// the next ones).
    pub fn sample(&self, n: usize) -> i16 {
        if n % self.cadence_samples() >= samples_in(self.on) {
            return 0;
        }
        let peak = ZERO_DBM0_PEAK * 10f64.powf(self.level_dbm0 / 20.0);
        let t = n as f64 / f64::from(SAMPLE_RATE);
        let value = peak
            * ((TAU * f64::from(self.low_hz) * t).sin()
                + (TAU * f64::from(self.high_hz) * t).sin());
        value.round() as i16
    }

    /// One cadence's samples.
    pub fn cadence(&self) -> Arc<[i16]> {
        (0..self.cadence_samples())
            .map(|n| self.sample(n))
            .collect()
    }

    /// `cadence` played again and again for at least `length`, for a player (the
    /// buffer is repeated by reference, so this costs a pointer per cadence).
    pub fn repeated(cadence: &Arc<[i16]>, length: Duration) -> Vec<Arc<[i16]>> {
        let each = cadence.len().max(1);
        let wanted = samples_in(length);
        vec![cadence.clone(); wanted.div_ceil(each).max(1)]
    }
}

fn samples_in(d: Duration) -> usize {
    (d.as_millis() as usize) * (SAMPLE_RATE as usize) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The power of `hz` in `samples` (the Goertzel algorithm), per sample.
    fn power(samples: &[i16], hz: f64) -> f64 {
        let coefficient = 2.0 * (TAU * hz / f64::from(SAMPLE_RATE)).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in samples {
            let s = f64::from(x) + coefficient * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / (samples.len() as f64).powi(2)
    }

    #[test]
    fn ringback_is_440_and_480_hz_at_minus_19_dbm0_each() {
        let cadence = US_RINGBACK.cadence();
        // 200 ms of the tone: ±5 Hz resolution.
        let on = &cadence[..1600];
        let (a, b) = (power(on, 440.0), power(on, 480.0));
        for other in [350.0, 400.0, 620.0, 1000.0] {
            let p = power(on, other);
            assert!(
                a > 1000.0 * p && b > 1000.0 * p,
                "{other} Hz: {p} vs {a}, {b}"
            );
        }
        // A sine of peak P has power (P/2)^2 at its frequency.
        let peak = ZERO_DBM0_PEAK * 10f64.powf(-19.0 / 20.0);
        for p in [a, b] {
            let level = 10.0 * (p / (peak / 2.0).powi(2)).log10();
            assert!(level.abs() < 0.2, "{level} dB off -19 dBm0");
        }
    }

    #[test]
    fn ringback_sounds_2_s_then_is_silent_4_s() {
        let cadence = US_RINGBACK.cadence();
        assert_eq!(cadence.len(), 6 * 8000);
        let frames: Vec<bool> = cadence
            .chunks(160)
            .map(|f| f.iter().any(|&s| s != 0))
            .collect();
        assert!(frames[..100].iter().all(|&on| on));
        assert!(frames[100..].iter().all(|&on| !on));
        // The next cadence starts where the first did.
        assert_eq!(US_RINGBACK.sample(6 * 8000 + 7), US_RINGBACK.sample(7));
    }

    #[test]
    fn busy_and_reorder_are_480_and_620_hz_in_their_cadences() {
        for (tone, on_frames) in [(US_BUSY, 25), (US_REORDER, 12)] {
            let cadence = tone.cadence();
            let on = &cadence[..1600.min(cadence.len() / 2)];
            let (a, b) = (power(on, 480.0), power(on, 620.0));
            let ringback = power(on, 440.0);
            assert!(a > 100.0 * ringback && b > 100.0 * ringback, "{tone:?}");
            let sounding = cadence
                .chunks(160)
                .take_while(|f| f.iter().any(|&s| s != 0))
                .count();
            assert!(
                (on_frames..=on_frames + 1).contains(&sounding),
                "{tone:?}: {sounding} frames"
            );
        }
        assert_eq!(US_BUSY.cadence_samples(), 8000);
        assert_eq!(US_REORDER.cadence_samples(), 4000);
    }

    #[test]
    fn every_cadence_holds_whole_periods_so_a_loop_joins_without_a_click() {
        for tone in [US_RINGBACK, US_BUSY, US_REORDER] {
            let n = tone.cadence_samples() as u32;
            for hz in [tone.low_hz, tone.high_hz] {
                assert_eq!(hz * n % SAMPLE_RATE, 0, "{tone:?} at {hz} Hz");
            }
        }
    }

    #[test]
    fn a_cadence_repeats_for_as_long_as_asked() {
        let cadence = US_BUSY.cadence();
        assert_eq!(
            Tone::repeated(&cadence, Duration::from_millis(2500)).len(),
            3
        );
        assert_eq!(Tone::repeated(&cadence, Duration::ZERO).len(), 1);
    }
}
