//! Two phones nobody here wrote, with two different SIP stacks, in one call through
//! `switchboard run`: baresip (libre) as 101 calls linphonec (belle-sip) as 102, which
//! answers by itself. baresip's microphone is a 440 Hz sine and `sndfile` writes what
//! it hears; linphonec plays a 1000 Hz WAV into the call (`play`) and writes what it
//! hears (`record`). Each must hear the other's tone and not its own: the server's
//! bridge carried the audio both ways between phones that negotiated on their own.
//! `docs/second-client.md` shows the same run by hand. Every wait has a deadline.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::baresip::{BARESIP, Baresip, heard, hears_tone};
use support::linphonec::{LINPHONEC, Linphone};
use support::{PASSWORD, Server, office_copy, wait_for};

/// Writes `seconds` of a `hz` sine, 8 kHz mono 16-bit, to `path`.
fn write_tone(path: &Path, hz: f64, seconds: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..8000 * seconds {
        let t = f64::from(n) / 8000.0;
        let sample = (12_000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16;
        wav.write_sample(sample).unwrap();
    }
    wav.finalize().unwrap();
}

/// The samples of a WAV file and its rate, mixed down to mono. linphonec's recordings
/// claim 44 bytes more data than they hold (the header's own length, counted twice), so
/// reading stops at the end of what is there.
fn read_wav(path: &Path) -> (Vec<i16>, u32) {
    let mut reader =
        hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = reader.spec();
    let samples: Vec<i16> = reader.samples::<i16>().map_while(Result::ok).collect();
    let mono = samples
        .chunks(usize::from(spec.channels))
        .map(|frame| frame[0])
        .collect();
    (mono, spec.sample_rate)
}

#[test]
fn baresip_calls_linphonec_and_each_hears_the_others_tone() {
    for (binary, package) in [(BARESIP, "baresip"), (LINPHONEC, "linphone-cli")] {
        assert!(
            Path::new(binary).exists(),
            "{binary} is missing: apt-get install {package} (.ci/run does)"
        );
    }
    let dir = office_copy("baresip-linphonec");
    let server = Server::start(&dir, &["101", "102"], 40);
    let host = format!("127.0.0.1:{}", server.sip);

    // linphonec registers as 102 and answers whatever rings.
    let mut bob = Linphone::start(&dir);
    bob.send("soundcard use files");
    bob.wait_for(
        "Using wav files instead of soundcard.",
        Duration::from_secs(20),
    );
    bob.send("autoanswer enable");
    bob.send(&format!("register sip:102@{host} sip:{host} {PASSWORD}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !bob.printed("LinphoneRegistrationOk") {
        assert!(
            Instant::now() < deadline,
            "linphonec did not register:\n{}",
            bob.output.lock().unwrap()
        );
        bob.send("states");
        std::thread::sleep(Duration::from_millis(300));
    }

    // baresip registers as 101 and dials 102.
    let mut alice = Baresip::start_as(&dir, "alice", Some(440), 1);
    alice.command("uafind", "nobody"); // see the top of tests/baresip.rs
    let created = alice.command(
        "uanew",
        &format!("<sip:101@{host}>;auth_pass={PASSWORD};regint=600"),
    );
    assert_eq!(created["ok"], true, "{created}");
    alice.wait_message("REGISTER_OK", |m| m["type"] == "REGISTER_OK");
    alice.command("dial", &format!("sip:102@{host}"));
    alice.wait_message("the call established", |m| m["type"] == "CALL_ESTABLISHED");
    bob.wait_for("Media streams established", Duration::from_secs(20));

    // linphonec sends its tone and records what it hears.
    let tone = dir.join("tone1000.wav");
    write_tone(&tone, 1000.0, 10);
    let recording = dir.join("linphone-heard.wav");
    bob.send(&format!("play {}", tone.display()));
    bob.send(&format!("record {}", recording.display()));
    // Three seconds of conversation, as both sides write it.
    wait_for(
        "three seconds of audio on both sides",
        Duration::from_secs(30),
        || {
            let alice_bytes: u64 = std::fs::read_dir(dir.join("alice/dump"))
                .ok()?
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum();
            let bob_bytes = std::fs::metadata(&recording).ok()?.len();
            (alice_bytes > 3 * 2 * 16_000 && bob_bytes > 3 * 2 * 8_000).then_some(())
        },
    );
    alice.command("hangup", "");
    alice.wait_message("the call closed", |m| m["type"] == "CALL_CLOSED");
    bob.wait_for("ended", Duration::from_secs(20));
    bob.send("quit");

    if let Err(e) = hears_tone(&heard(&dir.join("alice")), 8000, 1000.0, 440.0) {
        panic!("baresip heard {e}");
    }
    let (audio, rate) = read_wav(&recording);
    if let Err(e) = hears_tone(&audio, rate, 440.0, 1000.0) {
        panic!("linphonec heard {e} (at {rate} Hz)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
