//! Recordings stored durably: samples go to `<dir>/.<name>.tmp` as they arrive, and
//! `finish` completes the WAV header, fsyncs the file, renames it to `<dir>/<name>.wav`
//! and fsyncs the folder. A crash before `finish` leaves at most the hidden temporary
//! file, never a half-written WAV under the final name.
//!
//! A recording is private (the folder `0700`, the files `0600`: they are people's voices)
//! and bounded: the writer holds at most its maximum length of samples, whatever it is
//! handed, and `timeline` decides what received RTP becomes without trusting the
//! packets' timestamps beyond a second.

pub mod timeline;

use super::prompts::SAMPLE_RATE;
use crate::private_files::{self, FILE_MODE};
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One recording being written. Dropping it without `finish` or `abandon` (its task was
/// cancelled) leaves the temporary file, its header completed by hound, for an operator
/// to recover.
pub struct RecordingWriter {
    dir: PathBuf,
    name: String,
    tmp: PathBuf,
    /// The temporary file itself, kept to fsync it; `wav` writes through a clone of it.
    file: File,
    /// `None` only after `finish` or `abandon` took it.
    wav: Option<hound::WavWriter<BufWriter<File>>>,
    samples: u64,
    /// The most samples the file may hold; what comes after is dropped.
    max_samples: u64,
}

/// A recording safely stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishedRecording {
    pub path: PathBuf,
    pub duration_ms: u64,
}

impl RecordingWriter {
    /// Starts `<dir>/.<name>.tmp` (`0600`), creating `dir` (`0700`) if needed, for a
    /// recording of at most `max`. `name` is a file name without extension: no slashes,
    /// not starting with a dot.
    pub fn create(dir: &Path, name: &str, max: Duration) -> io::Result<RecordingWriter> {
        if name.is_empty()
            || name.starts_with('.')
            || name.contains(['/', '\\', '\0'])
            || name.len() > 200
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{name}` is not a recording name"),
            ));
        }
        private_files::dir(dir).map_err(|e| in_file(dir, e))?;
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = private_files::options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| in_file(&tmp, e))?;
        // A temporary file left by a crash of an older version keeps its mode when
        // truncated.
        private_files::tighten(&tmp, FILE_MODE).map_err(|e| in_file(&tmp, e))?;
        let writer = BufWriter::new(file.try_clone().map_err(|e| in_file(&tmp, e))?);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let wav = hound::WavWriter::new(writer, spec).map_err(|e| in_file(&tmp, to_io(e)))?;
        Ok(RecordingWriter {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            tmp,
            file,
            wav: Some(wav),
            samples: 0,
            max_samples: (max.as_micros() * SAMPLE_RATE as u128 / 1_000_000) as u64,
        })
    }

    /// Appends samples, as many as fit in the maximum length.
    pub fn write(&mut self, samples: &[i16]) -> io::Result<()> {
        let Some(wav) = &mut self.wav else {
            return Ok(());
        };
        let room = (self.max_samples - self.samples).min(samples.len() as u64);
        let samples = &samples[..room as usize];
        if samples.is_empty() {
            return Ok(());
        }
        let mut w = wav.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w.write_sample(s);
        }
        w.flush().map_err(|e| in_file(&self.tmp, to_io(e)))?;
        self.samples += samples.len() as u64;
        Ok(())
    }

    /// Appends `count` samples of silence, as many as fit in the maximum length.
    pub fn write_silence(&mut self, count: usize) -> io::Result<()> {
        const ZEROS: [i16; 160] = [0; 160];
        let mut left = (count as u64).min(self.max_samples - self.samples) as usize;
        while left > 0 {
            let n = left.min(ZEROS.len());
            self.write(&ZEROS[..n])?;
            left -= n;
        }
        Ok(())
    }

    /// The length so far, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples * 1000 / SAMPLE_RATE as u64
    }

    /// Whether the recording holds its maximum length.
    pub fn full(&self) -> bool {
        self.samples >= self.max_samples
    }

    /// The final path, `<dir>/<name>.wav`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.wav", self.name))
    }

    /// Completes the WAV and stores it under its final name. Blocking (two fsyncs): run it
    /// off the async threads. On failure the temporary file is removed.
    pub fn finish(mut self) -> io::Result<FinishedRecording> {
        let result = self.store();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    /// Drops the recording and its temporary file.
    pub fn abandon(mut self) {
        self.wav = None;
        let _ = std::fs::remove_file(&self.tmp);
    }

    fn store(&mut self) -> io::Result<FinishedRecording> {
        if let Some(wav) = self.wav.take() {
            // Writes the header's lengths and flushes the buffer into the file.
            wav.finalize().map_err(|e| in_file(&self.tmp, to_io(e)))?;
        }
        self.file.sync_all().map_err(|e| in_file(&self.tmp, e))?;
        let path = self.path();
        std::fs::rename(&self.tmp, &path).map_err(|e| in_file(&path, e))?;
        // The rename is durable once the folder's entry is.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| in_file(&self.dir, e))?;
        Ok(FinishedRecording {
            path,
            duration_ms: self.duration_ms(),
        })
    }
}

fn to_io(e: hound::Error) -> io::Error {
    match e {
        hound::Error::IoError(e) => e,
        e => io::Error::other(e.to_string()),
    }
}

fn in_file(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const MINUTE: Duration = Duration::from_secs(60);

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn finish_stores_the_wav_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("voicemail/100");
        let mut w = RecordingWriter::create(&sub, "msg-1", MINUTE).unwrap();
        assert_eq!(files(&sub), vec![".msg-1.tmp"]);
        let tone: Vec<i16> = (0..4000)
            .map(|i| ((i % 40) * 500 - 10_000) as i16)
            .collect();
        w.write(&tone).unwrap();
        w.write_silence(4000).unwrap();
        assert_eq!(w.duration_ms(), 1000);
        let done = w.finish().unwrap();
        assert_eq!(
            done,
            FinishedRecording {
                path: sub.join("msg-1.wav"),
                duration_ms: 1000
            }
        );
        assert_eq!(files(&sub), vec!["msg-1.wav"]);

        let mut r = hound::WavReader::open(&done.path).unwrap();
        assert_eq!(r.spec().sample_rate, 8000);
        assert_eq!(r.spec().channels, 1);
        let samples: Vec<i16> = r.samples().map(Result::unwrap).collect();
        assert_eq!(samples.len(), 8000);
        assert_eq!(&samples[..4000], &tone[..]);
        assert!(samples[4000..].iter().all(|&s| s == 0));
    }

    #[test]
    fn without_finish_there_is_no_file_under_the_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = RecordingWriter::create(dir.path(), "msg", MINUTE).unwrap();
        w.write(&[1; 800]).unwrap();
        // As if the process died here: the writer is never finished.
        drop(w);
        assert_eq!(files(dir.path()), vec![".msg.tmp"]);
        // The temporary file is a valid WAV an operator could recover.
        let r = hound::WavReader::open(dir.path().join(".msg.tmp")).unwrap();
        assert_eq!(r.len(), 800);

        let w = RecordingWriter::create(dir.path(), "other", MINUTE).unwrap();
        w.abandon();
        assert_eq!(files(dir.path()), vec![".msg.tmp"]);
    }

    #[test]
    fn bad_names_and_unwritable_folders() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["", ".hidden", "a/b", "..", "a\\b"] {
            let err = RecordingWriter::create(dir.path(), name, MINUTE)
                .err()
                .unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        let err = RecordingWriter::create(&file.join("sub"), "x", MINUTE)
            .err()
            .unwrap();
        assert!(err.to_string().contains("file/sub"), "{err}");
    }

    #[test]
    fn the_writer_stops_at_the_maximum_length_and_keeps_its_files_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("recordings");
        let mut w = RecordingWriter::create(&sub, "capped", Duration::from_millis(100)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&sub.join(".capped.tmp")), 0o600);
        w.write(&[7; 500]).unwrap();
        w.write_silence(10_000).unwrap();
        w.write(&[7; 500]).unwrap();
        assert!(w.full());
        let done = w.finish().unwrap();
        assert_eq!(done.duration_ms, 100);
        assert_eq!(hound::WavReader::open(&done.path).unwrap().len(), 800);
        assert_eq!(std::fs::metadata(&done.path).unwrap().len(), 44 + 2 * 800);
        assert_eq!(mode(&done.path), 0o600);
    }
}
