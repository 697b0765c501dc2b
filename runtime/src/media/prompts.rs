//! Prompt audio: `prompts/<language>/<name>.wav` read once and shared by every call that
//! plays it, and recordings read by path.
//!
//! Reading is blocking file I/O; the first play of a prompt pays for it unless
//! `preload` read the whole folder at start-up.

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The sample rate every prompt and recording has.
pub const SAMPLE_RATE: u32 = 8000;

/// The prompts under one folder, cached by language and name.
#[derive(Debug)]
pub struct PromptLibrary {
    root: PathBuf,
    /// Every prompt read so far, keyed `<language>/<name>`; lives as long as the library,
    /// emptied by `clear` when the prompt files change.
    cache: Mutex<HashMap<String, Arc<[i16]>>>,
}

/// Why a prompt or recording could not be played.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptError {
    /// No WAV for this prompt in the caller's language nor in the default one.
    NotFound { name: String, tried: Vec<PathBuf> },
    /// A prompt name that is not a relative path inside the folder.
    BadName(String),
    /// The file could not be read as a WAV.
    Read { path: PathBuf, error: String },
    /// The file is a WAV, but not 8 kHz 16-bit mono.
    Format { path: PathBuf, found: String },
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromptError::NotFound { name, tried } => {
                write!(f, "prompt `{name}` not found (looked for ")?;
                for (i, p) in tried.iter().enumerate() {
                    let sep = if i == 0 { "" } else { " and " };
                    write!(f, "{sep}{}", p.display())?;
                }
                write!(f, ")")
            }
            PromptError::BadName(name) => write!(f, "`{name}` is not a prompt name"),
            PromptError::Read { path, error } => write!(f, "{}: {error}", path.display()),
            PromptError::Format { path, found } => write!(
                f,
                "{}: {found}, but prompts and recordings must be 8000 Hz 16-bit mono PCM",
                path.display()
            ),
        }
    }
}

impl std::error::Error for PromptError {}

impl PromptLibrary {
    pub fn new(root: PathBuf) -> PromptLibrary {
        PromptLibrary {
            root,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The samples of prompt `name` (`goodbye`, `digits/1`) in `language`, or in
    /// `default_language` when the caller's language does not have it.
    pub fn prompt(
        &self,
        name: &str,
        language: &str,
        default_language: &str,
    ) -> Result<Arc<[i16]>, PromptError> {
        let languages = if language == default_language {
            &[language][..]
        } else {
            &[language, default_language][..]
        };
        let mut tried = Vec::new();
        for lang in languages {
            let key = format!("{lang}/{name}");
            if let Some(samples) = self.cache().get(&key) {
                return Ok(samples.clone());
            }
            let path = self.path_of(lang, name)?;
            if !path.is_file() {
                tried.push(path);
                continue;
            }
            let samples = read_wav(&path)?;
            self.cache().insert(key, samples.clone());
            return Ok(samples);
        }
        Err(PromptError::NotFound {
            name: name.to_string(),
            tried,
        })
    }

    /// The samples of a recording; not cached, as each is played rarely.
    pub fn recording(&self, path: &Path) -> Result<Arc<[i16]>, PromptError> {
        read_wav(path)
    }

    /// Reads every `<language>/**/*.wav` into the cache; returns how many.
    pub fn preload(&self) -> Result<usize, PromptError> {
        let read_err = |path: &Path, e: std::io::Error| PromptError::Read {
            path: path.to_path_buf(),
            error: e.to_string(),
        };
        let mut stack = vec![self.root.clone()];
        let mut count = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| read_err(&dir, e))? {
                let path = entry.map_err(|e| read_err(&dir, e))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "wav")
                    && let Ok(rel) = path.strip_prefix(&self.root)
                    && rel.components().count() >= 2
                {
                    let key = rel
                        .with_extension("")
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    let samples = read_wav(&path)?;
                    self.cache().insert(key, samples);
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    /// Forgets every cached prompt, for when the files changed.
    pub fn clear(&self) {
        self.cache().clear();
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<[i16]>>> {
        // A panic elsewhere while holding the lock cannot leave the map half-updated.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path_of(&self, language: &str, name: &str) -> Result<PathBuf, PromptError> {
        let rel = Path::new(language).join(format!("{name}.wav"));
        if name.is_empty()
            || language.is_empty()
            || !rel.components().all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(PromptError::BadName(format!("{language}/{name}")));
        }
        Ok(self.root.join(rel))
    }
}

/// Reads an 8 kHz 16-bit mono WAV.
pub fn read_wav(path: &Path) -> Result<Arc<[i16]>, PromptError> {
    let read_err = |e: hound::Error| PromptError::Read {
        path: path.to_path_buf(),
        error: e.to_string(),
    };
    let reader = hound::WavReader::open(path).map_err(read_err)?;
    let spec = reader.spec();
    if spec.sample_rate != SAMPLE_RATE
        || spec.channels != 1
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        let format = match spec.sample_format {
            hound::SampleFormat::Int => "PCM",
            hound::SampleFormat::Float => "float",
        };
        return Err(PromptError::Format {
            path: path.to_path_buf(),
            found: format!(
                "{} Hz {}-bit {format}, {} channel(s)",
                spec.sample_rate, spec.bits_per_sample, spec.channels
            ),
        });
    }
    reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map(Arc::from)
        .map_err(read_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for s in samples {
            w.write_sample(*s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn language_fallback_and_cache() {
        let dir = tempfile::tempdir().unwrap();
        write_wav(&dir.path().join("en/hello.wav"), 8000, 1, &[1, 2, 3]);
        write_wav(&dir.path().join("de/hello.wav"), 8000, 1, &[4, 5]);
        write_wav(&dir.path().join("en/digits/1.wav"), 8000, 1, &[6]);
        let lib = PromptLibrary::new(dir.path().to_path_buf());

        assert_eq!(&*lib.prompt("hello", "de", "en").unwrap(), &[4, 5]);
        assert_eq!(&*lib.prompt("digits/1", "de", "en").unwrap(), &[6]);
        let a = lib.prompt("hello", "en", "en").unwrap();
        let b = lib.prompt("hello", "en", "de").unwrap();
        assert!(
            Arc::ptr_eq(&a, &b),
            "the second play shares the first one's samples"
        );

        // Cached: a change on disk shows only after `clear`.
        write_wav(&dir.path().join("en/hello.wav"), 8000, 1, &[9]);
        assert_eq!(&*lib.prompt("hello", "en", "en").unwrap(), &[1, 2, 3]);
        lib.clear();
        assert_eq!(&*lib.prompt("hello", "en", "en").unwrap(), &[9]);
    }

    #[test]
    fn errors_name_the_files() {
        let dir = tempfile::tempdir().unwrap();
        write_wav(&dir.path().join("en/loud.wav"), 44100, 2, &[0, 0]);
        std::fs::write(dir.path().join("en/junk.wav"), b"not a wav").unwrap();
        let lib = PromptLibrary::new(dir.path().to_path_buf());
        let root = dir.path().display();

        let err = lib.prompt("nope", "de", "en").unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "prompt `nope` not found (looked for {root}/de/nope.wav and {root}/en/nope.wav)"
            )
        );
        let err = lib.prompt("nope", "en", "en").unwrap_err().to_string();
        assert_eq!(
            err,
            format!("prompt `nope` not found (looked for {root}/en/nope.wav)")
        );
        let err = lib.prompt("loud", "en", "en").unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{root}/en/loud.wav: 44100 Hz 16-bit PCM, 2 channel(s), but prompts and \
                 recordings must be 8000 Hz 16-bit mono PCM"
            )
        );
        let err = lib.prompt("junk", "en", "en").unwrap_err().to_string();
        assert!(err.starts_with(&format!("{root}/en/junk.wav: ")), "{err}");
        assert_eq!(
            lib.prompt("../secret", "en", "en").unwrap_err(),
            PromptError::BadName("en/../secret".into())
        );
        assert!(lib.preload().is_err(), "preload reports the broken files");
    }

    #[test]
    fn recordings_by_path_and_the_shipped_prompts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msg.wav");
        write_wav(&path, 8000, 1, &[7, 8]);
        let lib = PromptLibrary::new(dir.path().to_path_buf());
        assert_eq!(&*lib.recording(&path).unwrap(), &[7, 8]);

        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
        let lib = PromptLibrary::new(shipped);
        assert!(lib.preload().unwrap() > 100);
        let beep = lib.prompt("beep", "en", "en").unwrap();
        assert!(beep.len() > 800, "a beep of {} samples", beep.len());
    }
}
