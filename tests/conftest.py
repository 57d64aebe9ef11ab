"""Synthetic audio with exactly known speech regions, and writers for any container."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CALLS = ROOT / "data" / "sample_calls"



def edited_scorecard(tmp_path: Path, drop: str = "不知道") -> Path:
    """A copy of configs/ and lexicons/ with `drop` deleted from forbidden.txt: a QA lead's edit."""
    import shutil

    shutil.copytree(ROOT / "configs", tmp_path / "cfg" / "configs")
    shutil.copytree(ROOT / "lexicons", tmp_path / "cfg" / "lexicons")
    lex = tmp_path / "cfg" / "lexicons" / "forbidden.txt"
    kept = [x for x in lex.read_text(encoding="utf-8").splitlines() if x.split("|")[0].strip() != drop]
    lex.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return tmp_path / "cfg" / "configs" / "scorecard.yaml"

def voiced(seconds: float, sr: int, f0: float = 140.0, level: float = 0.2) -> np.ndarray:
    """A speech-like buzz: harmonics of f0, syllable-rate amplitude modulation."""
    t = np.arange(int(seconds * sr)) / sr
    sig = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t)
    return (level * sig * env / 2.5).astype(np.float32)


def signal(duration: float, regions: list[tuple[float, float]], sr: int = 16000, noise: float = 0.001,
           seed: int = 0, **kw) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, noise, int(duration * sr)).astype(np.float32)
    for s, e in regions:
        v = voiced(e - s, sr, **kw)
        x[int(s * sr) : int(s * sr) + len(v)] += v
    return x


def write_audio(path: Path, channels: np.ndarray, sr: int, codec: str | None = None) -> Path:
    """Write (n_channels, n_samples) float audio with PyAV; codec from the suffix by default."""
    import av

    codec = codec or {".wav": "pcm_s16le", ".mp3": "libmp3lame", ".flac": "flac"}[path.suffix]
    n = channels.shape[0]
    layout = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}[n]
    pcm = np.ascontiguousarray((np.clip(channels.T, -1, 1) * 32767).astype(np.int16)).reshape(1, -1)
    with av.open(str(path), "w") as c:
        stream = c.add_stream(codec, rate=sr, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=layout)
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return path


@pytest.fixture
def stereo_call(tmp_path):
    """A 12 s stereo call: agent speaks at 1–3 s and 7–9 s, customer at 4–6 s."""
    def make(name="call.wav", sr=8000):
        agent = signal(12, [(1, 3), (7, 9)], sr, f0=220, seed=1)
        customer = signal(12, [(4, 6)], sr, f0=120, seed=2)
        return write_audio(tmp_path / name, np.stack([agent, customer]), sr)
    return make


@pytest.fixture
def engine(tmp_path):
    """An engine whose scorecard has one audio-only rule: batch tests that never need the model."""
    from pipeline import config, scorecard
    from pipeline.batch import Engine

    card = tmp_path / "scorecard.yaml"
    card.write_text(
        f"lexicons: {ROOT / 'lexicons'}\n"
        "items:\n  - {id: attitude.silence_gap, title: 静默, rule: silence_gap, points: 1}\n",
        encoding="utf-8",
    )
    return Engine(config.load(), scorecard.load(card))


@pytest.fixture(scope="session")
def sample_engine():
    """The engine with the shipped configs, loaded once for every end-to-end test."""
    from pipeline import config, scorecard
    from pipeline.batch import Engine
    from pipeline.cli import DEFAULT_SCORECARD

    return Engine(config.load(), scorecard.load(DEFAULT_SCORECARD))


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, sample_engine):
    """data/sample_calls scored once (stereo) for every test that compares with it."""
    from pipeline.batch import run

    out = tmp_path_factory.mktemp("sample_run") / "out"
    summary = run(SAMPLE_CALLS, out, sample_engine)
    assert summary.processed >= 8 and not summary.failed, summary.failed
    return out
