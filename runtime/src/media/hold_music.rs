//! Hold music as a bridge plays it: the `hold-music` prompt's samples (decoded once, when
//! the prompt library first read the WAV, and shared by every call) looped without end,
//! cut into 20 ms frames and encoded straight into the packet being sent. Pure: the
//! bridge asks for a frame on its clock, and nothing is allocated per frame.

use super::g711::Codec;
use super::player::FRAME_SAMPLES;
use std::sync::Arc;

/// One held party's music: the samples and where it has got to.
#[derive(Clone, Debug)]
pub struct HoldMusic {
    samples: Arc<[i16]>,
    /// The next sample to play.
    position: usize,
}

impl HoldMusic {
    /// Music from the start of `samples`; no samples plays silence.
    pub fn new(samples: Arc<[i16]>) -> HoldMusic {
        HoldMusic {
            samples,
            position: 0,
        }
    }

    /// Encodes the next 20 ms in `codec` into `out` (which takes `FRAME_SAMPLES` bytes),
    /// going round to the start of the music as often as it ends inside the frame.
    pub fn next_frame(&mut self, codec: Codec, out: &mut [u8; FRAME_SAMPLES]) {
        if self.samples.is_empty() {
            out.fill(codec.silence());
            return;
        }
        for byte in out.iter_mut() {
            *byte = codec.encode_sample(self.samples[self.position]);
            self.position += 1;
            if self.position == self.samples.len() {
                self.position = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn music_plays_in_frames_and_loops_round_to_its_start() {
        // 250 samples: the second frame ends 70 samples into the second time round.
        let samples: Arc<[i16]> = (0..250).map(|i| i * 100).collect::<Vec<i16>>().into();
        let mut music = HoldMusic::new(samples.clone());
        let mut frame = [0u8; FRAME_SAMPLES];
        music.next_frame(Codec::Pcmu, &mut frame);
        let expected: Vec<u8> = samples[..160]
            .iter()
            .map(|&s| Codec::Pcmu.encode_sample(s))
            .collect();
        assert_eq!(frame.to_vec(), expected);
        music.next_frame(Codec::Pcma, &mut frame);
        let looped: Vec<u8> = samples[160..]
            .iter()
            .chain(&samples[..70])
            .map(|&s| Codec::Pcma.encode_sample(s))
            .collect();
        assert_eq!(frame.to_vec(), looped);
    }

    #[test]
    fn no_music_is_silence() {
        let mut music = HoldMusic::new(Vec::new().into());
        let mut frame = [0u8; FRAME_SAMPLES];
        music.next_frame(Codec::Pcma, &mut frame);
        assert!(frame.iter().all(|&b| b == Codec::Pcma.silence()));
    }
}
