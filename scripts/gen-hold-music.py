#!/usr/bin/env python3
"""Synthesises the queue's hold music: a calm, looping 16-second piece in the prompt format
(8 kHz, 16-bit, mono PCM), written to the path given.

    python3 scripts/gen-hold-music.py prompts/en/hold-music.wav

gen-prompts.py runs it for the `hold-music` entry of prompts/prompts.yaml. Only Python's
standard library is used and nothing is random, so the same bytes come out every time.

The piece: four bars of slow chords (C, A minor, F, G) played as soft electric-piano
tones (a sine with a little second and third harmonic, a quick attack and a long decay),
a gentle arpeggio over them, and a bass note per bar. It ends on the chord it starts
from, so the runtime can repeat it without a jump.
"""

import math
import struct
import sys
import wave

RATE = 8000
BEAT = 0.5  # seconds: 120 beats a minute
BAR = 8 * BEAT  # eight beats a bar, four bars: 16 seconds

# MIDI note numbers of each bar's chord (C major, A minor, F major, G major).
CHORDS = [
    (60, 64, 67),
    (57, 60, 64),
    (53, 57, 60),
    (55, 59, 62),
]
BASS = [36, 33, 29, 31]
# Which chord tone the arpeggio plays on each beat of a bar (an octave up).
ARPEGGIO = [0, 1, 2, 1, 0, 1, 2, 1]


def hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def tone(out, start, seconds, note, level, decay):
    """Adds one soft piano-like note to `out`."""
    f = hz(note)
    first = int(start * RATE)
    for i in range(int(seconds * RATE)):
        t = i / RATE
        attack = min(1.0, t / 0.015)
        release = min(1.0, (seconds - t) / 0.05)
        env = attack * release * math.exp(-t / decay)
        w = 2 * math.pi * f * t
        s = math.sin(w) + 0.25 * math.sin(2 * w) + 0.08 * math.sin(3 * w)
        if first + i < len(out):
            out[first + i] += level * env * s


def piece():
    out = [0.0] * int(len(CHORDS) * BAR * RATE)
    for bar, chord in enumerate(CHORDS):
        at = bar * BAR
        for note in chord:
            tone(out, at, BAR, note, 0.10, 2.5)
        tone(out, at, BAR, BASS[bar], 0.16, 3.0)
        for beat, which in enumerate(ARPEGGIO):
            tone(out, at + beat * BEAT, BEAT * 1.5, chord[which] + 12, 0.09, 0.6)
    # Normalise to about -6 dBFS, so it sits a little under the spoken prompts.
    peak = max(abs(s) for s in out) or 1.0
    scale = 0.5 * 32767 / peak
    return [int(round(s * scale)) for s in out]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-hold-music.py OUT.wav")
    samples = piece()
    with wave.open(sys.argv[1], "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))


if __name__ == "__main__":
    main()
