"""The Cantonese probe: pooling a turn's encoder frames, its labels, and real speech (issue 29).

The real-speech tests read `../shared/realspeech` (never copied here) and skip where it is absent;
they score the test split, which the probe was not fitted on (tools/fit_langid.py fits on dev).
"""

import importlib.util
import json

import numpy as np
import pytest

from pipeline import langid
from pipeline.windows import Piece
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "realspeech"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/realspeech is absent")


def _fit_tool():
    spec = importlib.util.spec_from_file_location("fit_langid", ROOT / "tools" / "fit_langid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_piece_pools_only_its_own_speech_frames():
    # a turn 10.0–12.0 s sent with 0.2 s of context, laid 3.0 s into its window
    piece = Piece((1, 4), 3.0, 10.0, 12.0, 9.8, 12.2)
    assert langid.frames_of(piece) == (160, 260)  # (3.0 + 0.2) × 50 … (3.0 + 2.2) × 50
    states = np.zeros((1500, 4), np.float32)
    states[160:260] = 1.0
    pool = langid.Pool()
    pool.add(piece, states)
    pool.add(piece, states * 7)  # the same window decoded again (fallback): added once
    (mean, seconds), = pool.means().values()
    assert mean.tolist() == [1.0] * 4 and seconds == pytest.approx(2.0)


def test_a_long_turn_split_across_windows_is_one_mean():
    pool = langid.Pool()
    a, b = np.ones((1500, 2), np.float32), np.full((1500, 2), 3.0, np.float32)
    pool.add(Piece((0, 0), 0.0, 0.0, 2.0, 0.0, 2.0), a)  # 100 frames of 1
    pool.add(Piece((0, 0), 0.0, 2.0, 3.0, 2.0, 3.0), b)  # 50 frames of 3
    (mean, seconds), = pool.means().values()
    assert mean.tolist() == pytest.approx([5 / 3] * 2) and seconds == pytest.approx(3.0)


def test_labels_leave_short_turns_and_other_widths_unlabelled():
    probe = langid.Probe(np.zeros(2, np.float32), np.ones(2, np.float32), np.array([1.0, 0.0], np.float32), 0.0, 2)
    assert probe.label(np.array([3.0, 0.0]), 2.0) == ("yue", pytest.approx(0.953, abs=1e-3))
    assert probe.label(np.array([-3.0, 0.0]), 2.0) == ("zh", pytest.approx(0.953, abs=1e-3))
    assert probe.label(np.array([3.0, 0.0]), 0.6) == ("", 0.0)  # 喂, 嗯: too short to tell
    assert probe.label(np.zeros(3), 2.0) == ("", 0.0)  # a bigger model's encoder: not this probe's


def test_the_committed_probe_is_whisper_bases():
    d = json.loads(langid.PROBE.read_text(encoding="utf-8"))
    probe = langid.Probe.load()
    assert probe.dims == 512 == len(d["weights"]) == len(d["mean"]) == len(d["scale"])
    assert np.all(probe.scale > 0) and np.any(probe.weights != 0)


@pytest.mark.slow
@needs_shared
def test_real_cantonese_is_heard_and_mandarin_is_not(tmp_path):
    """Issue 29: ≥ 90 % of the test split's Cantonese speech labelled yue, ≤ 5 % of its Mandarin,
    through an 8 kHz G.711 telephone channel and wideband, by the pipeline's own VAD and packing."""
    from pipeline import asr, config

    tool = _fit_tool()
    cfg = config.load()
    tr = asr.Transcriber(cfg.asr)
    got = tool.shares(tr.probe, tool.collect(tr, "test", cfg, tmp_path))
    print(f"test split: Cantonese labelled yue {got['yue_as_yue']:.1%}, Mandarin {got['zh_as_yue']:.1%}")
    assert got["yue_as_yue"] >= 0.90
    assert got["zh_as_yue"] <= 0.05


@pytest.mark.slow
@needs_shared
def test_v003_fires_when_the_agent_stays_in_mandarin_with_a_cantonese_customer(tmp_path):
    """Seed 000 服务语种选择: "客户使用另一种语种咨询,客服代表未能适时正确使用相应的语种". Real
    test-split clips: a Mandarin agent and a customer speaking Cantonese throughout; the same
    agent with a Mandarin customer is the control (no V003, no agent turn called Cantonese)."""
    import pandas as pd

    from pipeline import config, scorecard
    from pipeline.batch import Engine, run
    from pipeline.cli import DEFAULT_SCORECARD

    realcalls = _fit_tool().realcalls  # bench/realcalls.py: the call layout and the telephone line
    test = [c for c in realcalls.read_clips() if c.split == "test"]
    zh, yue = [c for c in test if c.language == "zh"], [c for c in test if c.language == "yue"]
    calls = tmp_path / "calls"
    for name, agent, customer, seed in (("cantonese_customer", zh[:4], yue[:4], 1),
                                        ("mandarin_customer", zh[:4], zh[4:8], 2)):
        order = [x for pair in zip(agent, customer)
                 for x in ((pair[0], realcalls.AGENT), (pair[1], realcalls.CUSTOMER))]
        stereo, segments = realcalls.build(order, seed)
        realcalls.write_call(calls / f"{name}.wav", stereo, segments)
    out = tmp_path / "out"
    summary = run(calls, out, Engine(config.load(), scorecard.load(DEFAULT_SCORECARD)))
    assert summary.processed == 2 and not summary.failed
    findings = pd.read_parquet(out / "findings")
    v003 = set(findings.loc[findings["rule_name"] == "language_switch", "source"].str.rsplit("/", n=1).str[-1])
    turns_ = pd.read_parquet(out / "turns")
    agent = turns_[turns_["role"] == "agent"]
    assert not (agent["language"] == "yue").any(), agent[["source", "text", "language", "language_prob"]]
    assert v003 == {"cantonese_customer.wav"}, findings[["source", "rule_name", "message"]]
