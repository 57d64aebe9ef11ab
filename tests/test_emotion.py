"""Customer emotion on hand-made turns: each text cue and its near-misses, each voice cue against
the customer's own baseline, the per-call outlook, and the store round trip (rescore reproduces)."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import complaint, emotion, rows
from pipeline.model import Role
from pipeline.rescoring import load_calls
from pipeline.rows import CallRow
from pipeline.store import Store
from pipeline.tables import TURNS
from pipeline.testing import call

CUES = emotion.default_cues()


def codes(spec: str) -> list[tuple[str, ...]]:
    return [s.codes for s in emotion.states(call(spec), CUES.words)]


def last(spec: str) -> tuple[str, ...]:
    return codes(spec)[-1]


@pytest.mark.parametrize("text", ["我要投诉", "我就去12315投诉你们", "投诉你们！", "再这样我要曝光你们",
                                  "你们这什么服务，投诉", "我已经投诉过了", "我要打一二三一五",
                                  "我想投诉一下你们的快递员", "你们是想让我投诉吗"])
def test_complaint_threats(text):
    assert "threat" in last(f"C 1 4 {text}")


@pytest.mark.parametrize("text", ["投诉电话是多少", "请问怎么投诉", "在哪里投诉快递员", "我不投诉了",
                                  "上次投诉的事情有结果了吗", "12315是多少", "没投诉啊",
                                  "我想了解一下投诉流程", "要不要投诉呢"])
def test_complaint_words_in_passing_are_no_threat(text):
    assert "threat" not in last(f"C 1 4 {text}")


@pytest.mark.parametrize("text, threat", [("找你们领导来", True), ("叫你们经理跟我说", True),
                                          ("你们领导是谁", False), ("不用找领导了", False)])
def test_escalation(text, threat):
    assert ("escalation" in last(f"C 1 4 {text}")) is threat


@pytest.mark.parametrize("text, code", [("你们这服务太差了", "negative"), ("骗人的吧", "negative"),
                                        ("把钱退给我", "demand"), ("你凭什么扣我钱", "intensity"),
                                        ("快点快点", "exclaim"), ("怎么还没到！", "exclaim"),
                                        ("我都问了好几次了", "repeat")])
def test_text_cues(text, code):
    assert code in last(f"C 1 4 {text}")


@pytest.mark.parametrize("text", ["好的好的", "谢谢谢谢", "嗯嗯嗯", "我想问一下话费", "好的，谢谢！"])
def test_calm_turns_have_no_cue(text):
    assert last(f"C 1 4 {text}") == ()


def test_repeated_question_is_similar_text_asked_again():
    spec = """
        C 1 4 我的退款什么时候到账
        A 5 8 我帮您查一下
        C 9 12 那我的退款什么时候能到账啊
        C 13 15 你们几点下班
    """
    assert [("repeat" in c) for c in codes(spec)] == [False, True, False]


BASE = """
    C 1.0 3.0 level=-26 pitch=180 range=3 我想问一下
    A 3.5 5.0 level=-20 您说
    C 5.5 8.0 level=-25 pitch=176 range=3 我的宽带坏了
    A 8.5 10.0 level=-20 好的
    C 10.5 13.0 level=-27 pitch=182 range=4 昨天开始的
    A 13.5 16.0 level=-20 我帮您看一下
"""


@pytest.mark.parametrize("turn, code", [
    ("C 16.5 19.0 level=-19 pitch=180 range=3 还没好", "loud"),
    ("C 16.5 19.0 level=-26 pitch=205 range=3 还没好", "high_pitch"),
    ("C 16.5 19.0 level=-26 pitch=180 range=8 还没好", "wide_pitch"),
    ("C 16.5 18.0 level=-26 pitch=180 range=3 怎么还一直没有修好呀", "fast"),
    ("C 14.0 16.5 level=-26 pitch=180 range=3 还没好", "overlap"),
])
def test_voice_cues_against_the_customers_own_baseline(turn, code):
    got = last(BASE + "\n" + turn)
    assert code in got and set(got) <= {code}


def test_voice_just_under_the_bars_is_calm():
    assert last(BASE + "\nC 16.5 19.0 level=-21 pitch=198 range=5 还没好") == ()


def test_a_fragment_under_a_second_has_no_level_or_pitch_cue():
    # e.g. a mono call's 0.75 s agent fragment (236 Hz) attributed to a 120 Hz customer
    assert last(BASE + "\nC 16.5 17.3 level=-15 pitch=360 range=12 还没好") == ()
    assert set(last(BASE + "\nC 16.5 17.5 level=-15 pitch=360 range=12 还没好")) == {
        "loud", "high_pitch", "wide_pitch"}


def test_no_baseline_no_voice_cue():
    assert last("C 1 3 level=-5 pitch=400 还没好") == ()


def test_overlap_is_not_judged_on_a_mixed_call():
    c = dataclasses.replace(call(BASE + "\nC 14.0 16.5 还没好"), mixed=True)
    assert emotion.states(c, CUES.words)[-1].codes == ()


def test_score_adds_agreeing_cues():
    assert emotion.score(()) == 0.0
    upset = emotion.Options().upset
    assert emotion.score(("loud",)) < upset <= emotion.score(("loud", "high_pitch"))
    assert emotion.score(("threat",)) == 0.6


ANGRY_SOOTHED = """
    A 1 3 您好，请问有什么可以帮您
    C 4 7 我的快递丢了
    A 8 10 我帮您查一下
    C 11 15 你们太过分了，到底管不管，我要投诉
    A 16 20 非常抱歉，理解您的心情，我马上帮您升级处理
    C 21 23 好吧，那尽快
"""
ANGRY_ARGUED = """
    A 1 3 您好
    C 4 7 我的快递丢了
    A 8 10 我帮您查一下
    C 11 15 你们太过分了，我要投诉
    A 16 20 那是您自己地址写错了，跟我们没关系
    C 21 24 什么态度，我要找你们领导
"""
CALM_NEAR_MISS = """
    A 1 3 您好，请问有什么可以帮您
    C 4 7 请问你们的投诉电话是多少
    A 8 10 投诉热线是九五五幺八
    C 11 13 好的谢谢
"""


def outlook(spec: str) -> complaint.Outlook:
    return complaint.outlook(emotion.annotate(call(spec)))


def test_outlook_ranks_angry_calls_above_calm_ones():
    soothed, argued, calm = (outlook(s) for s in (ANGRY_SOOTHED, ANGRY_ARGUED, CALM_NEAR_MISS))
    assert calm.complaint_risk == 0.0 and calm.deescalation == "" and calm.risk_reasons == ""
    assert argued.complaint_risk > soothed.complaint_risk > calm.complaint_risk
    assert soothed.deescalation == "soothed" and argued.deescalation == "argued"
    assert soothed.emotion_trend == "steady" and argued.emotion_trend == "angrier"
    assert "客户表示要投诉" in argued.risk_reasons and "争辩" in argued.risk_reasons


def test_trend():
    assert complaint.trend([0.6, 0.5, 0.1, 0.0]) == "calmer"
    assert complaint.trend([0.0, 0.1, 0.6]) == "angrier" and complaint.trend([0.0, 0.1, 0.2]) == "steady"
    assert complaint.trend([0.3, 0.3, 0.3]) == "steady" and complaint.trend([0.9]) == ""


def test_silence_after_an_outburst_is_ignored():
    o = outlook("A 1 3 您好\nC 4 8 你们太过分了，到底管不管")
    assert o.deescalation == "ignored" and "未安抚" in o.risk_reasons


@pytest.mark.parametrize("text, kinds", [
    ("不是，您当时自己同意开通的", ("argue",)),  # a rebuttal, then the customer at fault
    ("不对，你没看清楚合同", ("argue",)),
    ("不是的，非常抱歉，您当时可能没注意到", ("soothe",)),  # a rebuttal that apologises
    ("不是的，您的订单昨天已经发出了", ()),  # only corrects the facts
    ("您当时没有收到短信吗", ()),  # no rebuttal: a question
])
def test_a_rebuttal_that_blames_the_customer_argues(text, kinds):
    assert emotion.reply_codes(call(f"A 1 3 {text}").turns[0], CUES.replies) == kinds


def test_the_stored_outlook_sees_a_rebuttal_as_arguing():
    o = outlook("C 1 4 你们这是骗人，凭什么扣我的钱\nA 4.5 7 不是，您当时自己点的开通")
    assert o.deescalation == "argued" and "争辩" in o.risk_reasons


def test_annotate_marks_agent_replies():
    c = emotion.annotate(call(ANGRY_SOOTHED))
    reply = next(t for t in c.by(Role.AGENT) if "抱歉" in t.text)
    assert reply.emotion is None and reply.emotion_cues == "soothe,followup"


def test_rescore_reproduces_emotion_and_risk(tmp_path):
    c = emotion.annotate(call(BASE + "\nC 16.5 19.0 level=-18 pitch=215 range=6 你们太过分了，我要投诉", id="e1"))
    row = rows.scored(CallRow("e1", "e1.wav", duration_s=c.duration), c, [], [])
    assert row.complaint_risk and row.complaint_risk > 0.5 and row.risk_reasons
    store = Store(tmp_path)
    store.save_call(row, c, [])
    ((stored, again),) = list(Store(tmp_path).load_calls())
    assert again == c  # pitch, range, emotion and cues survive the store
    assert emotion.annotate(again) == c  # recomputed from the stored raw numbers: the same
    assert rows.scored(CallRow.from_record(stored), again, [], []) == row
    bulk = load_calls(store, Store(tmp_path).rows())  # the rescore's own bulk reader
    assert bulk["e1"] == c


def test_old_stores_without_the_columns_load_as_none(tmp_path):
    store = Store(tmp_path)
    c = call("C 1 3 level=-20 我要投诉\nA 4 6 好的", id="old")
    store.save_call(rows.scored(CallRow("old", "old.wav", duration_s=c.duration), c, [], []), c, [])
    old = pa.schema([f for f in TURNS if f.name not in ("pitch_hz", "pitch_range_st", "emotion",
                                                       "emotion_cues")])
    part = store.part("turns", "old")
    pq.write_table(pa.Table.from_pylist(pq.read_table(part).to_pylist(), schema=old), part)
    ((_, loaded),) = list(Store(tmp_path).load_calls())
    assert all(t.emotion is None and t.pitch_hz is None and t.emotion_cues == "" for t in loaded.turns)
    assert load_calls(store, store.rows())["old"].turns == loaded.turns
    assert complaint.outlook(loaded) == complaint.Outlook()
