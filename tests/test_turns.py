"""VAD on synthetic signals with exactly known speech: webrtcvad + level and crosstalk gates."""

import numpy as np
import pytest

from pipeline.config import VadOptions
from pipeline.turns import detect, regions_from_frames
from tests.conftest import signal

OPTS = VadOptions()
TOL = 0.25  # pad_s + one frame + webrtcvad hangover; the acceptance bar is 0.3 s


def close(got, want):
    assert len(got) == len(want), got
    for (gs, ge), (ws, we) in zip(got, want):
        assert abs(gs - ws) <= TOL and abs(ge - we) <= TOL, (got, want)


@pytest.mark.parametrize("sr", [8000, 16000])
def test_regions_found_at_their_times(sr):
    truth = [(1.0, 2.5), (4.0, 7.0), (9.0, 9.6)]
    (got,) = detect([signal(11, truth, sr)], sr, OPTS)
    close(got, truth)


def test_short_pause_stays_inside_one_turn_and_long_pause_splits():
    x = signal(8, [(1.0, 2.0), (2.3, 3.0), (5.0, 6.0)])
    (got,) = detect([x], 16000, OPTS)
    close(got, [(1.0, 3.0), (5.0, 6.0)])


def test_click_is_not_a_turn():
    (got,) = detect([signal(5, [(2.0, 2.1)])], 16000, OPTS)
    assert got == []


def test_silence_and_noise_have_no_turns():
    sr = 16000
    assert detect([np.zeros(sr * 5, np.float32)], sr, OPTS) == [[]]
    noise = np.random.default_rng(3).normal(0, 0.01, sr * 5).astype(np.float32)
    assert detect([noise], sr, OPTS) == [[]]


def test_echo_of_the_other_party_is_not_speech():
    sr = 8000
    agent = signal(10, [(1, 3)], sr, f0=220, seed=1)
    customer = signal(10, [(5, 7)], sr, f0=120, seed=2)
    # each line also carries the other party 32 dB down (line echo / handset leakage)
    echo = 10 ** (-32 / 20)
    a_line, c_line = agent + echo * customer, customer + echo * agent
    got_a, got_c = detect([a_line, c_line], sr, OPTS)
    close(got_a, [(1, 3)])
    close(got_c, [(5, 7)])


def test_both_talking_at_once_keeps_both():
    sr = 8000
    agent = signal(8, [(1, 4)], sr, f0=220, seed=1)
    customer = signal(8, [(3, 6)], sr, f0=120, seed=2, level=0.15)
    got_a, got_c = detect([agent, customer], sr, OPTS)
    close(got_a, [(1, 4)])
    close(got_c, [(3, 6)])


def test_padding_never_makes_regions_overlap():
    flags = np.array([1] * 20 + [0] * 17 + [1] * 20, dtype=bool)  # 0.51 s pause at 30 ms
    got = regions_from_frames(flags, 0.03, 2.0, VadOptions(pad_s=0.3))
    assert len(got) == 2 and got[0][1] <= got[1][0]
