"""The audio-quality record: clipping, level, silent channel, and stereo that is really mono."""

import numpy as np
import pandas as pd
import pytest

from pipeline import quality, turns
from pipeline.config import VadOptions
from tests.conftest import signal, write_audio


def assess(channels: np.ndarray, sr: int = 8000, roles=("agent", "customer")):
    meter = quality.Meter()
    frames = turns.scan([meter.add(channels)], sr, VadOptions())
    same = channels.shape[0] > 1 and meter.same_signal()
    return quality.assess(meter, frames, list(roles), channels.shape[0] == 1, same), meter


def test_clean_stereo_has_no_issues():
    call = np.stack([signal(10, [(1, 3), (6, 8)], 8000, f0=220, seed=1), signal(10, [(3.5, 5.5)], 8000, f0=120, seed=2)])
    q, _ = assess(call)
    assert q.audio_issues == "" and not q.mixed and q.silent_channel == ""
    assert q.speech_level_db is not None and -35 < q.speech_level_db < -5
    assert quality.reliability(q) == 1.0


def test_clipping_and_very_low_level_are_flagged_and_lower_reliability():
    loud = np.stack([np.clip(8 * signal(10, [(1, 4)], 8000, f0=220, seed=1), -1, 1),
                     signal(10, [(5, 8)], 8000, f0=120, seed=2)])
    q, _ = assess(loud)
    assert "clipping" in q.audio_issues and q.clipping_share > quality.CLIP_SHARE
    quiet = np.stack([0.03 * signal(10, [(1, 4)], 8000, f0=220, seed=1), signal(10, [(5, 8)], 8000, f0=120, seed=2)])
    q2, _ = assess(quiet)
    assert "quiet" in q2.audio_issues and q2.speech_level_db < quality.QUIET_DB
    assert quality.reliability(q) == pytest.approx(quality.FACTORS["clipping"])


def test_a_silent_channel_is_named_by_its_role():
    call = np.stack([signal(10, [(1, 4), (5, 8)], 8000, f0=220, seed=1), np.zeros(80000, np.float32)])
    q, _ = assess(call)
    assert q.silent_channel == "customer" and "silent" in q.audio_issues


def test_the_same_signal_on_both_channels_is_a_mixed_call():
    one = signal(10, [(1, 4), (5, 8)], 8000, f0=220, seed=1)
    q, meter = assess(np.stack([one, 0.7 * one]))  # a gain apart is still one signal
    assert meter.correlation() > 0.99 and q.mixed and "same_signal" in q.audio_issues
    two = np.stack([one, signal(10, [(4, 6)], 8000, f0=120, seed=2)])
    assert not assess(two)[1].same_signal()


def test_mono_is_mixed():
    q, _ = assess(signal(10, [(1, 4)], 8000, f0=220, seed=1)[None], roles=("mixed",))
    assert q.mixed and q.audio_issues.startswith("mono") and q.silent_channel == ""
    assert quality.reliability(q, 0.8) == pytest.approx(quality.FACTORS["mixed"] * 0.8)


def test_the_calls_table_records_quality(tmp_path, stereo_call, engine):
    from pipeline.batch import run

    src = tmp_path / "in"
    src.mkdir()
    path = stereo_call()
    path.rename(src / path.name)
    run(src, tmp_path / "out", engine)
    row = pd.read_parquet(tmp_path / "out" / "calls").iloc[0]
    assert row["status"] == "ok" and not row["mixed"] and row["reliability"] == 1.0
    assert row["speech_level_db"] < 0 and row["clipping_share"] == 0


def test_stereo_carrying_one_signal_twice_is_scored_as_one_mixed_channel(tmp_path, engine):
    from pipeline.batch import run

    src = tmp_path / "in"
    src.mkdir()
    agent = signal(12, [(1, 3), (7, 9)], 8000, f0=220, seed=1)
    customer = signal(12, [(4, 6)], 8000, f0=120, seed=2)
    both = agent + customer
    write_audio(src / "mixed_as_stereo.wav", np.stack([both, both]), 8000)
    run(src, tmp_path / "out", engine)
    row = pd.read_parquet(tmp_path / "out" / "calls").iloc[0]
    assert row["status"] == "ok", row["error"]
    assert row["mixed"] and row["channels"] == 2 and "same_signal" in row["audio_issues"]
    assert row["speakers"] in (1, 2) and 0.5 <= row["role_confidence"] <= 1
    turns = pd.read_parquet(tmp_path / "out" / "turns")
    # every stretch of speech once, not once per channel
    assert len(turns) <= 4 and not _overlapping(turns)


def _overlapping(turns) -> bool:
    spans = sorted(zip(turns["start_s"], turns["end_s"]))
    return any(b[0] < a[1] - 1e-6 for a, b in zip(spans, spans[1:]))
