//! What a session plays: a queue of plays, each a list of sample buffers, cut into 20 ms
//! frames. Pure: the session calls `next_frame` on its clock.

use std::collections::VecDeque;
use std::sync::Arc;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// The plays queued for one session, and the ones that ended since last asked.
#[derive(Debug, Default)]
pub struct Player {
    queue: VecDeque<Play>,
    /// Ids of plays that ended (played out or stopped), oldest first.
    finished: VecDeque<u32>,
    /// Whether the last frame carried audio, for the marker bit of the next talkspurt.
    talking: bool,
}

#[derive(Debug)]
struct Play {
    id: u32,
    audio: Vec<Arc<[i16]>>,
    /// The buffer playing and the next sample in it.
    part: usize,
    pos: usize,
}

/// What `next_frame` put in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    Silence,
    /// Audio; `marker` on the first frame after silence.
    Audio {
        marker: bool,
    },
}

impl Player {
    pub fn new() -> Player {
        Player::default()
    }

    /// Queues a play after the ones already queued; buffers play back to back.
    pub fn play(&mut self, id: u32, audio: Vec<Arc<[i16]>>) {
        self.queue.push_back(Play {
            id,
            audio,
            part: 0,
            pos: 0,
        });
    }

    /// Stops a play, playing or queued; it is reported finished. A play that already
    /// ended is not reported twice.
    pub fn stop(&mut self, id: u32) {
        if let Some(i) = self.queue.iter().position(|p| p.id == id) {
            self.queue.remove(i);
            self.finished.push_back(id);
        }
    }

    pub fn is_playing(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The next play that ended, if any.
    pub fn pop_finished(&mut self) -> Option<u32> {
        self.finished.pop_front()
    }

    /// Fills the next 20 ms: the playing audio, padded with silence when a play ends
    /// inside the frame, or silence when nothing plays.
    pub fn next_frame(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> Frame {
        while let Some(play) = self.queue.front_mut() {
            let mut filled = 0;
            while filled < FRAME_SAMPLES && play.part < play.audio.len() {
                let part = &play.audio[play.part];
                let n = (part.len() - play.pos).min(FRAME_SAMPLES - filled);
                frame[filled..filled + n].copy_from_slice(&part[play.pos..play.pos + n]);
                filled += n;
                play.pos += n;
                if play.pos == part.len() {
                    play.part += 1;
                    play.pos = 0;
                }
            }
            if play.part == play.audio.len() {
                self.finished.push_back(play.id);
                self.queue.pop_front();
            }
            if filled > 0 {
                frame[filled..].fill(0);
                let marker = !self.talking;
                self.talking = true;
                return Frame::Audio { marker };
            }
            // A play with no samples ends without a frame of its own.
        }
        frame.fill(0);
        self.talking = false;
        Frame::Silence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(range: std::ops::Range<i16>) -> Arc<[i16]> {
        range.collect::<Vec<_>>().into()
    }

    #[test]
    fn plays_back_to_back_in_frames_and_reports_the_end() {
        let mut p = Player::new();
        let mut f = [0; FRAME_SAMPLES];
        assert_eq!(p.next_frame(&mut f), Frame::Silence);
        // 100 + 150 samples: the second buffer continues inside the first frame.
        p.play(1, vec![samples(0..100), samples(100..250)]);
        assert_eq!(p.next_frame(&mut f), Frame::Audio { marker: true });
        assert_eq!(f.to_vec(), (0..160).collect::<Vec<i16>>());
        assert_eq!(p.pop_finished(), None);
        assert_eq!(p.next_frame(&mut f), Frame::Audio { marker: false });
        assert_eq!(&f[..90], &(160..250).collect::<Vec<i16>>()[..]);
        assert!(f[90..].iter().all(|&s| s == 0));
        assert_eq!(p.pop_finished(), Some(1));
        assert!(!p.is_playing());
        assert_eq!(p.next_frame(&mut f), Frame::Silence);
        assert!(f.iter().all(|&s| s == 0));
    }

    #[test]
    fn queued_plays_stop_and_empty_plays() {
        let mut p = Player::new();
        let mut f = [0; FRAME_SAMPLES];
        p.play(1, vec![samples(0..320)]);
        p.play(2, vec![]);
        p.play(3, vec![samples(0..160)]);
        assert_eq!(p.next_frame(&mut f), Frame::Audio { marker: true });
        p.stop(1);
        p.stop(1);
        assert_eq!(p.pop_finished(), Some(1));
        assert_eq!(p.pop_finished(), None);
        // The empty play ends as the next frame starts; play 3 follows without a marker.
        assert_eq!(p.next_frame(&mut f), Frame::Audio { marker: false });
        assert_eq!(f[5], 5);
        assert_eq!(p.pop_finished(), Some(2));
        assert_eq!(p.pop_finished(), Some(3));
        assert_eq!(p.next_frame(&mut f), Frame::Silence);
        p.play(4, vec![samples(0..1)]);
        assert_eq!(p.next_frame(&mut f), Frame::Audio { marker: true });
    }
}
