//! The committed prompts are what the server will play: every WAV is 8 kHz, 16-bit,
//! mono PCM, and English and German hold the same prompt names.

use std::collections::BTreeSet;
use std::path::Path;
use switchboard_runtime::plan_files::read_prompt_catalog;

#[test]
fn every_prompt_is_8khz_16bit_mono_pcm_in_both_languages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let catalog = read_prompt_catalog(&dir).unwrap();
    let en: BTreeSet<&str> = catalog.names("en").collect();
    let de: BTreeSet<&str> = catalog.names("de").collect();
    assert!(en.len() >= 50, "only {} English prompts", en.len());
    assert_eq!(en, de, "English and German prompt sets differ");
    for lang in ["en", "de"] {
        for name in catalog.names(lang) {
            let path = dir.join(lang).join(format!("{name}.wav"));
            let reader =
                hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let spec = reader.spec();
            assert_eq!(spec.sample_rate, 8000, "{}", path.display());
            assert_eq!(spec.bits_per_sample, 16, "{}", path.display());
            assert_eq!(spec.channels, 1, "{}", path.display());
            assert_eq!(
                spec.sample_format,
                hound::SampleFormat::Int,
                "{}",
                path.display()
            );
            assert!(
                reader.duration() > 800,
                "{} is shorter than 0.1 s",
                path.display()
            );
        }
    }
}
