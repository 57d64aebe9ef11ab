"""pipeline.evaluate: the share of speech lost to empty turns, and its place in the report."""

from __future__ import annotations

import pytest

from pipeline.evaluate import Lost, Report, format_report, lost_to_empty_turns

TRUTH = [
    {"start": 1.0, "end": 5.0, "text": "您好，很高兴为您服务"},  # 9 字
    {"start": 6.0, "end": 8.0, "text": "请稍等"},  # 3 字
]


def test_nothing_lost_when_every_turn_has_text():
    lost = lost_to_empty_turns(TRUTH, [(0.9, 5.1, "您好很高兴为您服务"), (6.0, 8.0, "请稍等")])
    assert lost.chars == 0 and lost.char_share == 0 and lost.speech_share == 0


def test_a_whole_turn_returned_empty_loses_its_characters():
    lost = lost_to_empty_turns(TRUTH, [(0.9, 5.1, ""), (6.0, 8.0, "请稍等")])
    assert lost.chars == pytest.approx(9) and lost.char_share == pytest.approx(9 / 12)
    assert lost.speech_share == pytest.approx(4.2 / 6.2) and lost.empty_turns == 1


def test_an_empty_turn_under_a_heard_one_loses_nothing():
    # The VAD cut a breath inside a heard turn: the words are in the heard turn.
    lost = lost_to_empty_turns(TRUTH, [(1.0, 5.0, "您好很高兴为您服务"), (2.0, 3.0, "，")])
    assert lost.chars == 0 and lost.empty_turns == 1


def test_half_a_turn_in_an_empty_turn_loses_half_its_characters():
    lost = lost_to_empty_turns(TRUTH[:1], [(1.0, 3.0, ""), (3.0, 5.0, "为您服务")])
    assert lost.chars == pytest.approx(4.5)


def test_the_report_prints_the_worst_call_and_the_bound():
    r = Report()
    r.lost[("a.wav", "agent")] = Lost(chars=1, total_chars=100, empty_s=1, speech_s=50)
    r.lost[("b.wav", "agent")] = Lost(chars=10, total_chars=100, empty_s=5, speech_s=50, empty_turns=2, turns=9)
    r.lost[("b.wav", "customer")] = Lost(total_chars=80, speech_s=40, turns=8)
    text = format_report(r)
    assert "agent 最多丢失：10.0% 字符、10.0% 语音（b.wav，空话轮 2/9）；超过 5% 的通话：b.wav" in text
    assert "customer 最多丢失：0.0%" in text and "超过 5% 的通话：无" in text
