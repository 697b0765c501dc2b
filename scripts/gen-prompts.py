#!/usr/bin/env python3
"""Turn prompts/prompts.yaml into prompts/<lang>/<name>.wav (8 kHz, 16-bit, mono PCM).

    python3 scripts/gen-prompts.py           # generate every WAV, delete WAVs no longer listed
    python3 scripts/gen-prompts.py --check   # verify the WAVs and the yaml agree; exit 1 if not

Speech comes from espeak-ng, conversion from sox (apt-get install espeak-ng sox). A WAV is
only rewritten when its bytes change, so running the script twice changes nothing.
--check needs neither tool: it reads the WAVs with Python's wave module.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("gen-prompts: PyYAML is missing: pip install pyyaml (or apt-get install python3-yaml)")

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"
YAML_FILE = PROMPTS / "prompts.yaml"

RATE, SAMPWIDTH, CHANNELS = 8000, 2, 1
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")
# Output format; -D: no dither, so the same input always gives the same bytes.
SOX_OUT = ["-r", str(RATE), "-b", "16", "-c", str(CHANNELS), "-e", "signed-integer"]
# Trim espeak's leading/trailing silence, resample, normalise to -3 dBFS (no clipping), and
# leave a short, even pause around the speech.
SOX_SPEECH_EFFECTS = [
    "silence", "1", "0.02", "-60d", "reverse", "silence", "1", "0.02", "-60d", "reverse",
    "rate", "-h", str(RATE), "norm", "-3", "pad", "0.05", "0.25",
]


class PromptError(Exception):
    pass


def rel(p):
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


# --- reading the yaml ---------------------------------------------------------------------


def load():
    """Returns (voices, speed, pronounce, prompts) with every prompt validated."""
    try:
        with open(YAML_FILE, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise PromptError(f"cannot read {rel(YAML_FILE)}: {e.strerror}")
    except yaml.YAMLError as e:
        raise PromptError(f"{rel(YAML_FILE)} is not valid YAML: {e}")
    if not isinstance(doc, dict):
        raise PromptError(f"{rel(YAML_FILE)}: expected a mapping with 'voices' and 'prompts'")

    voices = doc.get("voices")
    if not isinstance(voices, dict) or not voices:
        raise PromptError("'voices' must map each language to an espeak-ng voice, e.g. { en: en-us }")
    voices = {str(k): str(v) for k, v in voices.items()}
    speed = doc.get("speed", 160)
    if not isinstance(speed, int) or not 80 <= speed <= 450:
        raise PromptError("'speed' must be espeak-ng words per minute (80..450)")
    pronounce = doc.get("pronounce") or {}
    if not isinstance(pronounce, dict) or any(
        l not in voices or not isinstance(m, dict) for l, m in pronounce.items()
    ):
        raise PromptError("'pronounce' must map a language from 'voices' to { word: spelling }")

    prompts = doc.get("prompts")
    if not isinstance(prompts, dict) or not prompts:
        raise PromptError("'prompts' must map prompt names to their texts")
    errors = []
    for name, entry in prompts.items():
        where = f"prompt {name!r}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            errors.append(f"{where}: names are lowercase letters, digits, '-' and '/' (digits/1)")
            continue
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected {{ en: ..., de: ... }} or {{ tone: ... }}")
            continue
        if "generated" in entry:
            g = entry["generated"]
            if set(entry) != {"generated"} or not isinstance(g, str) or not (ROOT / g).is_file():
                errors.append(f"{where}: generated is {{ generated: scripts/NAME.py }}, an existing script")
            continue
        if "tone" in entry:
            t = entry["tone"]
            if (
                set(entry) != {"tone"}
                or not isinstance(t, dict)
                or set(t) != {"hz", "seconds"}
                or not all(isinstance(v, (int, float)) and v > 0 for v in t.values())
            ):
                errors.append(f"{where}: a tone is {{ tone: {{ hz: 1000, seconds: 0.25 }} }}")
            continue
        for lang in voices:
            if lang not in entry:
                errors.append(f"{where}: no text for '{lang}'")
            else:
                try:
                    parts(entry[lang], lang, voices)
                except PromptError as e:
                    errors.append(f"{where} ({lang}): {e}")
        for lang in entry:
            if lang not in voices:
                errors.append(f"{where}: language '{lang}' is not in 'voices'")
    if errors:
        raise PromptError("\n".join(errors))
    return voices, speed, pronounce, prompts


def parts(text, lang, voices):
    """A prompt's text as [(language, text)]: a string, or a list of strings and {lang: text}."""
    items = text if isinstance(text, list) else [text]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append((lang, item))
        elif isinstance(item, dict) and len(item) == 1:
            (l, t), = item.items()
            if l not in voices or not isinstance(t, str):
                raise PromptError(f"part {item!r}: expected {{ <language from voices>: \"text\" }}")
            out.append((l, t))
        else:
            raise PromptError(f"expected a text or a list of texts, got {item!r}")
    if not out or any(not t.strip() for _, t in out):
        raise PromptError("empty text")
    return out


def respell(text, lexicon):
    """Applies the 'pronounce' spellings, longest word first, whole words only."""
    for word in sorted(lexicon, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", lambda _m: str(lexicon[word]), text)
    return text


# --- generating ---------------------------------------------------------------------------


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise PromptError(f"{' '.join(cmd[:2])} ... failed: {r.stderr.strip() or r.returncode}")


def render(name, lang, entry, voices, speed, pronounce):
    """Renders one prompt; returns its WAV bytes."""
    with tempfile.TemporaryDirectory(prefix="gen-prompts-") as tmp:
        tmp = Path(tmp)
        out = tmp / "out.wav"
        if "generated" in entry:
            # A script of ours writes it (music, not speech): the same in every language.
            run([sys.executable, str(ROOT / entry["generated"]), str(out)])
        elif "tone" in entry:
            t = entry["tone"]
            run(["sox", "-D", "-n", *SOX_OUT, str(out),
                 "synth", str(t["seconds"]), "sine", str(t["hz"]),
                 "fade", "h", "0.01", "-0", "0.01", "gain", "-6"])
        else:
            segs = []
            for i, (l, text) in enumerate(parts(entry[lang], lang, voices)):
                seg = tmp / f"tmp{i}.wav"
                text = respell(text, pronounce.get(l, {}))
                run(["espeak-ng", "-v", voices[l], "-s", str(speed), "-w", str(seg), text])
                segs.append(str(seg))
            run(["sox", "-D", *segs, *SOX_OUT, str(out), *SOX_SPEECH_EFFECTS])
        data = out.read_bytes()
    problem = wav_problem_bytes(data)
    if problem:
        raise PromptError(f"sox wrote a bad WAV for {lang}/{name}: {problem}")
    return data


def generate(jobs):
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            raise PromptError(f"{tool} not found: apt-get install -y espeak-ng sox")
    voices, speed, pronounce, prompts = load()

    tasks = [(name, lang) for lang in voices for name in prompts]

    def one(task):
        name, lang = task
        path = PROMPTS / lang / f"{name}.wav"
        try:
            data = render(name, lang, prompts[name], voices, speed, pronounce)
        except PromptError as e:
            return task, "error", str(e)
        if path.is_file() and path.read_bytes() == data:
            return task, "unchanged", None
        state = "updated" if path.exists() else "created"
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        part.write_bytes(data)
        os.replace(part, path)
        return task, state, None

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, tasks))

    counts = {lang: {"created": 0, "updated": 0, "unchanged": 0, "error": 0} for lang in voices}
    errors = []
    for (name, lang), state, err in results:
        counts[lang][state] += 1
        if state in ("created", "updated"):
            print(f"  {state:8} prompts/{lang}/{name}.wav")
        if err:
            errors.append(f"prompts/{lang}/{name}.wav: {err}")

    removed = []
    for lang in voices:
        for wav in sorted(wavs(PROMPTS / lang)):
            if wav not in prompts:
                (PROMPTS / lang / f"{wav}.wav").unlink()
                removed.append(f"prompts/{lang}/{wav}.wav")
                print(f"  removed  prompts/{lang}/{wav}.wav")
        remove_empty_dirs(PROMPTS / lang)

    for lang in voices:
        c = counts[lang]
        print(
            f"{lang} ({voices[lang]}): {len(prompts)} prompts: {c['created']} created, "
            f"{c['updated']} updated, {c['unchanged']} unchanged"
            + (f", {c['error']} failed" if c["error"] else "")
        )
    print(f"removed {len(removed)} WAV(s) no longer in {rel(YAML_FILE)}")
    for d in sorted(p for p in PROMPTS.iterdir() if p.is_dir() and p.name not in voices):
        print(f"warning: prompts/{d.name}/ is not a language in 'voices'; left alone")
    size = sum(p.stat().st_size for p in PROMPTS.rglob("*") if p.is_file())
    print(f"prompts/ holds {size / 1024:.0f} KiB")
    if errors:
        print("\n".join(["errors:"] + errors), file=sys.stderr)
        return 1
    return 0


def remove_empty_dirs(top):
    if not top.is_dir():
        return
    for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()


# --- checking -----------------------------------------------------------------------------


def wavs(lang_dir):
    """Prompt names of every *.wav below a language folder (digits/1 for digits/1.wav)."""
    if not lang_dir.is_dir():
        return set()
    return {p.relative_to(lang_dir).with_suffix("").as_posix() for p in lang_dir.rglob("*.wav")}


def wav_problem(f):
    """Why a WAV is not 8 kHz 16-bit mono PCM with some audio, or None."""
    try:
        with wave.open(f, "rb") as w:  # the wave module only opens PCM
            got = (w.getframerate(), w.getsampwidth() * 8, w.getnchannels())
            frames = w.getnframes()
    except Exception as e:  # wave.Error, EOFError, struct.error on a broken file
        return f"not a PCM WAV ({e or 'empty or truncated'})"
    if got != (RATE, SAMPWIDTH * 8, CHANNELS):
        return "is {} Hz, {}-bit, {} channel(s); want {} Hz, {}-bit, mono".format(
            *got, RATE, SAMPWIDTH * 8)
    if frames == 0:
        return "has no audio"
    return None


def wav_problem_bytes(data):
    import io
    return wav_problem(io.BytesIO(data))


def check():
    voices, _speed, _pronounce, prompts = load()
    problems = []
    for lang in voices:
        lang_dir = PROMPTS / lang
        on_disk = wavs(lang_dir)
        for name in prompts:
            path = lang_dir / f"{name}.wav"
            if name not in on_disk:
                problems.append(f"prompts/{lang}/{name}.wav: missing")
            else:
                problem = wav_problem(str(path))
                if problem:
                    problems.append(f"prompts/{lang}/{name}.wav: {problem}")
        for name in sorted(on_disk - set(prompts)):
            problems.append(f"prompts/{lang}/{name}.wav: not in {rel(YAML_FILE)}")
    for d in sorted(p for p in PROMPTS.iterdir() if p.is_dir() and p.name not in voices):
        for name in sorted(wavs(d)):
            problems.append(f"prompts/{d.name}/{name}.wav: language '{d.name}' is not in 'voices'")
    if problems:
        print("\n".join(problems))
        print(f"check failed: {len(problems)} problem(s); run python3 scripts/gen-prompts.py")
        return 1
    print(f"ok: {len(prompts)} prompts x {len(voices)} languages ({', '.join(voices)}), "
          f"all {RATE} Hz 16-bit mono PCM, no stray WAVs")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="only verify that every prompt has a WAV in the right format and every "
                         "WAV a prompt; exit 1 otherwise")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="prompts rendered in parallel (default: number of CPUs)")
    args = ap.parse_args()
    try:
        return check() if args.check else generate(max(1, args.jobs))
    except PromptError as e:
        print(f"gen-prompts: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
