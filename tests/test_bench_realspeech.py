"""bench/realcalls.py: a call assembled from real clips is a telephone call with true timings."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import realcalls  # noqa: E402

needs_clips = pytest.mark.skipif(not (realcalls.SHARED / "manifest.tsv").exists(),
                                 reason="../shared/realspeech is absent")


def test_alaw_round_trip_is_g711():
    codes = np.arange(256, dtype=np.uint8)
    levels = realcalls.alaw_decode(codes)
    assert len(set(levels.tolist())) == 256  # every code its own level
    assert np.array_equal(realcalls.alaw_encode(levels), codes)  # a level encodes to its own code
    assert levels.max() * 32768 == 32256 and sorted(np.abs(levels * 32768))[0] == 8  # G.711's range


def test_band_limit_keeps_the_telephone_band():
    t = np.arange(8000) / 8000
    for f, kept in ((100, False), (1000, True), (3900, False)):
        y = realcalls.band_limit(np.sin(2 * np.pi * f * t).astype(np.float32))
        assert (np.sqrt((y**2).mean()) > 0.6) == kept, f


@needs_clips
def test_two_clips_make_a_stereo_8khz_call(tmp_path):
    clips = [c for c in realcalls.read_clips() if c.language == "zh"][:2]
    order = [(clips[0], realcalls.AGENT), (clips[1], realcalls.CUSTOMER)]
    stereo, segments = realcalls.build(order, seed=1)
    path = tmp_path / "call.wav"
    realcalls.write_call(path, stereo, segments)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        duration = w.getnframes() / 8000
    back = realcalls.read_segments(path)
    assert [(s.clip, s.channel) for s in back] == [(c.file, ch) for c, ch in order]
    for s, c in zip(back, clips):
        assert 0 < s.start < s.end <= duration and s.end - s.start == pytest.approx(c.duration, abs=0.01)
        assert s.text == c.text
    assert -0.3 <= back[1].start - back[0].end <= 1.5  # a gap, or an overlap of at most 0.3 s
    for s in back:  # speech on its own channel only; line noise (~-50 dBFS) on the other
        own = stereo[s.channel, int(s.start * 8000) : int(s.end * 8000)]
        other = stereo[1 - s.channel, int(s.start * 8000) : int(s.end * 8000)]
        assert np.abs(own).max() > 0.2
        if s is back[0]:
            quiet = other[: int((back[1].start - s.start) * 8000)]
            assert 20 * np.log10(np.sqrt((quiet**2).mean())) < -45


@needs_clips
def test_plan_alternates_parties_and_keeps_splits_apart():
    clips = realcalls.read_clips()
    for split in ("dev", "test"):
        calls = realcalls.plan(clips, split, seed=0)
        zh = [c for name, order in calls.items() if "_zh_" in name for c, _ in order]
        assert sorted(c.file for c in zh) == sorted(c.file for c in clips if c.split == split and c.language == "zh")
        for name, order in calls.items():
            assert all(c.split == split for c, _ in order)
            assert [ch for _, ch in order] == [i % 2 for i in range(len(order))]
            if "_yue_" in name:  # Mandarin agent, Cantonese customer
                assert all((c.language == "yue") == (ch == realcalls.CUSTOMER) for c, ch in order)
