"""Telephone calls assembled from the real speech clips in ../shared/realspeech (issue #29).

The clips are real people (read AISHELL sentences, meetings, phone conversations, Cantonese online
media), recorded wideband on microphones. A call centre hears them through a telephone line, so
each clip is put on one party's channel of a stereo call, in turn like a conversation, and the
channel is made what a recorder stores: 8 kHz, 300–3400 Hz, G.711 A-law, a little line noise.
Everything here is a pure function of the clips and a seeded RNG except `read_clips`, `read_wav`
and `write_call` at the edges. The clips themselves are never copied into the repository.
"""

from __future__ import annotations

import csv
import json
import random
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "realspeech"
RATE = 8000  # G.711's rate: what call-centre recorders store
AGENT, CUSTOMER = 0, 1  # configs/run.yaml: channels {0: agent, 1: customer}

# manifest.tsv's speech_style, decided by hand (raise on a new value rather than guess).
# Broadcast anchors read from a prompter: read. WenetSpeech(-Yue) internet media, meetings and
# MagicData phone dialogues are unscripted: spontaneous.
_READ = ("read speech", "read voice-command", "broadcast news")
_SPONTANEOUS = ("spontaneous", "two-party conversational", "in-the-wild online media")


def is_spontaneous(style: str) -> bool:
    if style.startswith(_READ):
        return False
    if style.startswith(_SPONTANEOUS):
        return True
    raise ValueError(f"speech_style not mapped to read/spontaneous: {style!r} (bench/realcalls.py)")


@dataclass(frozen=True, slots=True)
class Clip:
    file: str  # relative to ../shared/realspeech, as manifest.tsv names it
    language: str  # zh | yue
    split: str  # dev | test
    text: str  # reference transcript exactly as its source gives it
    speech_style: str
    duration: float


@dataclass(frozen=True, slots=True)
class Segment:
    """Where one clip sits in an assembled call: the ground truth the bench scores against."""

    clip: str
    channel: int
    start: float
    end: float
    text: str
    language: str
    speech_style: str
    spontaneous: bool


def read_clips(root: Path = SHARED) -> list[Clip]:
    def rows(name: str) -> list[dict[str, str]]:
        with open(root / name, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))

    split = {r["file"]: r["split"] for r in rows("split.tsv")}
    return [Clip(r["file"], r["language"], split[r["file"]], r["reference_transcript"], r["speech_style"],
                 float(r["duration_s"])) for r in rows("manifest.tsv")]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV (every clip is one) as float32 mono in [-1, 1]."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, path
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())
        return x.mean(axis=1).astype(np.float32) / 32768, w.getframerate()


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """FFT resampling (any ratio: 16, 24 and 44.1 kHz clips): drops everything above dst/2."""
    if src == dst:
        return x.astype(np.float32)
    n = int(round(len(x) * dst / src))
    spec = np.fft.rfft(x)[: n // 2 + 1]
    return (np.fft.irfft(spec, n) * (n / len(x))).astype(np.float32)


def band_limit(x: np.ndarray, sr: int = RATE, lo: float = 300.0, hi: float = 3400.0, order: int = 4) -> np.ndarray:
    """The telephone band: a Butterworth-shaped band-pass magnitude applied in the FFT domain.

    Zero-phase rather than causal (no SciPy here); the ear and Whisper care about the magnitude.
    """
    f = np.fft.rfftfreq(len(x), 1 / sr)
    with np.errstate(divide="ignore"):
        high = 1 / np.sqrt(1 + (lo / np.maximum(f, 1e-9)) ** (2 * order))
    gain = high / np.sqrt(1 + (f / hi) ** (2 * order))
    return np.fft.irfft(np.fft.rfft(x) * gain, len(x)).astype(np.float32)


_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def alaw_encode(x: np.ndarray) -> np.ndarray:
    """float [-1, 1] → G.711 A-law bytes (ITU-T G.711 as in the reference g711.c)."""
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int32) >> 3  # 13-bit linear
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    pcm = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_END, pcm)  # first segment whose end is >= pcm
    shift = np.where(seg < 2, 1, seg)
    aval = (np.minimum(seg, 7) << 4) | ((pcm >> shift) & 0xF)
    aval = np.where(seg >= 8, 0x7F, aval)
    return (aval ^ mask).astype(np.uint8)


def alaw_decode(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = ((a & 0xF) << 4) + np.where(seg == 0, 8, 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return (np.where(a & 0x80, t, -t) / 32768).astype(np.float32)


def telephone(track: np.ndarray, rng: np.random.Generator, noise_dbfs: float = -50.0) -> np.ndarray:
    """One channel of an 8 kHz track through the line: noise, the band, A-law there and back."""
    noisy = track + rng.normal(0, 10 ** (noise_dbfs / 20), len(track)).astype(np.float32)
    return alaw_decode(alaw_encode(band_limit(noisy)))


def level(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scale so the 99.9th-percentile sample sits at peak_dbfs: clips come at any recording level."""
    ref = float(np.quantile(np.abs(x), 0.999)) or 1.0
    return np.clip(x * (10 ** (peak_dbfs / 20) / ref), -1, 1).astype(np.float32)


def layout(durations: list[float], rng: random.Random, lead_s: float = 0.8, overlap_p: float = 0.2) -> list[float]:
    """Start times for clips spoken in turn: a 0.3–1.5 s gap, or now and then (overlap_p) the next
    party starting up to 0.3 s before the last one finished, as people do on the phone."""
    starts, t = [], lead_s
    for i, d in enumerate(durations):
        if i:
            t += -rng.uniform(0.05, 0.3) if rng.random() < overlap_p else rng.uniform(0.3, 1.5)
        starts.append(round(t, 3))
        t += d
    return starts


def assemble(parts: list[tuple[Clip, int, np.ndarray]], seed: int, tail_s: float = 1.0
             ) -> tuple[np.ndarray, list[Segment]]:
    """(clip, channel, its 8 kHz audio) in speaking order → (2, n) float32 call and its segments."""
    rng = random.Random(seed)
    starts = layout([len(a) / RATE for _, _, a in parts], rng)
    n = int((starts[-1] + len(parts[-1][2]) / RATE + tail_s) * RATE)
    tracks = np.zeros((2, n), dtype=np.float32)
    segments = []
    for (clip, ch, a), start in zip(parts, starts):
        i = int(round(start * RATE))
        assert not tracks[ch, i : i + len(a)].any(), "two clips overlap on one channel"
        tracks[ch, i : i + len(a)] = level(a, rng.uniform(-9.0, -3.0))
        segments.append(Segment(clip.file, ch, start, round(start + len(a) / RATE, 3), clip.text, clip.language,
                                clip.speech_style, is_spontaneous(clip.speech_style)))
    noise = np.random.default_rng(seed)
    return np.stack([telephone(t, noise) for t in tracks]), segments


def plan(clips: list[Clip], split: str, seed: int, per_call: int = 7) -> dict[str, list[tuple[Clip, int]]]:
    """Call name → (clip, channel) in speaking order, for one split.

    Mandarin calls: the split's zh clips shuffled, dealt into calls of about `per_call`, parties
    alternating. Cantonese calls (language ID): a Mandarin agent (the split's zh clips again) and a
    Cantonese customer (its yue clips), four turns each.
    """
    rng = random.Random(f"{seed}-{split}")
    zh = [c for c in clips if c.split == split and c.language == "zh"]
    yue = [c for c in clips if c.split == split and c.language == "yue"]
    rng.shuffle(zh)
    rng.shuffle(yue)
    calls: dict[str, list[tuple[Clip, int]]] = {}
    n = max(1, round(len(zh) / per_call))
    for k in range(n):
        calls[f"{split}_zh_{k + 1:02d}"] = [(c, (AGENT, CUSTOMER)[i % 2]) for i, c in enumerate(zh[k::n])]
    agents = rng.sample(zh, min(len(zh), len(yue)))
    for k in range(0, len(yue), 4):
        turns = [x for pair in zip(agents[k : k + 4], yue[k : k + 4]) for x in pair]
        calls[f"{split}_yue_{k // 4 + 1:02d}"] = [(c, AGENT if c.language == "zh" else CUSTOMER) for c in turns]
    return calls


def build(order: list[tuple[Clip, int]], seed: int, root: Path = SHARED) -> tuple[np.ndarray, list[Segment]]:
    parts = []
    for clip, ch in order:
        x, sr = read_wav(root / clip.file)
        parts.append((clip, ch, resample(x, sr, RATE)))
    return assemble(parts, seed)


def write_call(path: Path, stereo: np.ndarray, segments: list[Segment]) -> None:
    """16-bit PCM WAV (the A-law values are exact in it) and `<name>.json` with the segments beside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(stereo.T * 32768), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    path.with_suffix(".json").write_text(
        json.dumps({"call": path.name, "rate": RATE, "segments": [asdict(s) for s in segments]},
                   ensure_ascii=False, indent=1), encoding="utf-8")


def read_segments(path: Path) -> list[Segment]:
    return [Segment(**s) for s in json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["segments"]]
