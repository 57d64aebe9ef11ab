"""Run config, metadata from file names, and ASR window planning (pure functions, no model)."""

import dataclasses

import pytest

from pipeline import config
from pipeline.windows import plan, split_long
from pipeline.config import AsrOptions, MetadataOptions
from pipeline.errors import ConfigError
from pipeline.metadata import from_path, mask_number


def test_shipped_run_config_loads():
    cfg = config.load()
    assert cfg.roles[0].value == "agent" and cfg.roles[1].value == "customer"


@pytest.mark.parametrize("yaml_text, message", [
    ("vad: {aggressivenes: 2}", "unknown key aggressivenes"),
    ("vad: {aggressiveness: two}", "expected a whole number"),
    ("channels: {0: agent, 1: agent}", "one channel to each of agent, customer"),
    ("metadata: {pattern: '(?P<when>x)'}", "unknown group when"),
    ("metadata: {pattern: '(unclosed'}", "not a valid regular expression"),
    ("asr: [1, 2]", "expected a mapping"),
    ("vad: {frame_ms: 30\n", "not valid YAML"),
])
def test_bad_run_config_names_the_file_and_key(tmp_path, yaml_text, message):
    p = tmp_path / "run.yaml"
    p.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert str(p) in str(e.value) and message in str(e.value)


def test_speed_only_settings_do_not_change_the_fingerprint():
    import dataclasses

    cfg = config.load()
    faster = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, cpu_threads=1, batch_size=8))
    assert faster.fingerprint() == cfg.fingerprint()
    other = dataclasses.replace(cfg, vad=dataclasses.replace(cfg.vad, aggressiveness=3))
    assert other.fingerprint() != cfg.fingerprint()


def test_metadata_from_recorder_paths():
    m = from_path("2026/11/21/agent1023/20261121_143000_in_13800138000.wav", MetadataOptions())
    assert m["agent_id"] == "1023" and m["direction"] == "inbound" and m["caller"] == "138****8000"
    assert m["call_time"].isoformat() == "2026-11-21T14:30:00" and m["call_date"] == "2026-11-21"
    assert from_path("c01.mp3", MetadataOptions())["call_date"] == "unknown"
    raw = from_path("20261121_143000_out_13800138000.wav", MetadataOptions(mask_caller=False))
    assert raw["caller"] == "13800138000" and raw["direction"] == "outbound"
    assert mask_number("10086") == "***86"


def test_plan_packs_every_turn_once_within_the_window_length():
    regions = [[(0.5, 3.0), (3.6, 10.0), (11.0, 50.0)], [(3.1, 3.5), (60.0, 61.0)]]
    opts = AsrOptions()
    windows = plan(regions, None, opts)
    assert all(w.length <= opts.chunk_s + 1e-6 for w in windows)
    covered = {}
    for w in windows:
        chans = [p.key[0] for p in w.pieces]
        assert chans == sorted(chans, key=chans.index)  # each party's turns in one block
        for p in w.pieces:
            covered.setdefault(p.key, []).append((p.start, p.end))
            assert p.audio_start <= p.start and p.audio_end >= p.end
            ch, r = p.key
            if r > 0:
                assert p.audio_start >= regions[ch][r - 1][1]  # context never reaches the neighbour
    assert set(covered) == {(c, r) for c, regs in enumerate(regions) for r in range(len(regs))}
    long = sorted(covered[(0, 2)])
    assert long[0][0] == 11.0 and long[-1][1] == 50.0 and len(long) == 2


def test_part_filled_windows_of_the_two_parties_are_shared():
    opts = AsrOptions()
    regions = [[(0.0, 20.0), (21.0, 31.0)], [(40.0, 45.0)]]  # agent: 20 s + 10 s; customer: 5 s
    alone = plan(regions, None, dataclasses.replace(opts, share_windows=False))
    shared = plan(regions, None, opts)
    assert len(alone) == 3 and len(shared) == 2
    both = next(w for w in shared if len(w.pieces) == 2)
    assert [p.key for p in both.pieces] == [(0, 0), (1, 0)]  # the fullest window that fits; earlier block first
    assert both.pieces[1].packed == pytest.approx(20.2 + opts.gap_s)
    assert both.ready_at == pytest.approx(45.2) and both.length <= opts.chunk_s
    far = [[(0.0, 5.0)], [(400.0, 405.0)]]  # beyond SHARE_HORIZON_S: a long recording keeps streaming
    assert len(plan(far, None, opts)) == 2


def test_split_long_cuts_at_the_quietest_frame():
    import numpy as np

    energy = np.zeros(2000)
    energy[700] = -80  # 21.0 s at 30 ms frames
    parts = split_long((0.0, 40.0), energy, 0.03, 28.0)
    assert len(parts) == 2 and abs(parts[0][1] - 21.0) < 0.05


def test_zh_or_yue_from_whisper_language_probabilities():
    from pipeline.asr import _zh_or_yue

    assert _zh_or_yue([("yue", 0.6), ("zh", 0.2), ("en", 0.1)]) == ("yue", 0.75)
    assert _zh_or_yue([("zh", 0.9), ("ja", 0.05)]) == ("zh", 1.0)
    assert _zh_or_yue([("en", 0.9)]) == ("", 0.0)


def test_a_word_stretched_back_over_a_gap_goes_to_the_turn_it_ends_in():
    from pipeline.asr import _anchor
    from pipeline.windows import place

    opts = AsrOptions()
    (window,) = plan([[(15.56, 17.05), (31.88, 35.8)]], None, opts)
    first, second = window.pieces
    # c08: 不用 aligned from the end of 你说 over the 0.4 s gap into the next turn, where it was said
    start, end = first.packed + 1.30, second.packed + 0.31
    assert place((start + end) / 2, window) is first  # its middle lies in the first turn's margin
    assert place(_anchor(start, end), window) is second
    assert _anchor(1.0, 1.2) == pytest.approx(1.1)  # a short word: its middle
