"""E003 complaint_unhandled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline import emotion
from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import lexicon_file, rule
from pipeline.text import key_of


@dataclass(frozen=True)
class Params:
    words: Lexicon = lexicon_file("emotion")  # `kind=complaint|escalation`, judged by structure
    replies: Lexicon = lexicon_file("deescalation")  # `kind=soothe|followup` handle the threat
    reply_turns: int = 3  # ours: one turn more than E001, an escalation offer may come second
    window_s: float = 30.0  # ours
    lost_turn_s: float = 0.6  # an empty agent turn this long may have held the answer
    confidence: float = 0.8  # the threat came with other cues (negative words, raised voice)
    one_cue_confidence: float = 0.5  # issue #18: the threat is the only cue


@rule("E003", "complaint_unhandled", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The customer threatens to complain or escalate, and the agent neither acknowledges it nor
    offers to escalate or follow up.

    What it flags: a customer turn with a complaint or escalation *threat* (我要投诉, 打12315,
    找你们领导: the `words` lexicon's `kind=complaint|escalation`, by structure — see
    pipeline/emotion.py) whose next `reply_turns` agent turns within `window_s` have no `soothe` or
    `followup` phrase (非常抱歉, 帮您反馈, 给您升级, 给您回电) — span: the threat to the last reply.
    One finding per call (the first unhandled threat).
    Why: seed 004 4.2 "适当的升级或者按照客户反馈采取相应行动(下架,提交TT,或升级给领导)", "客户对于解决
    方案已经明确提出不满或困惑。CSA未给出积极的处理方案并升级跟进处理"; seed 000 "结果造成客户的投诉".
    Not flagged: 投诉 in passing (投诉电话是多少, 怎么投诉, 不投诉了, 上次投诉的事); replies the ASR
    returned empty.

    Bad:
        C 10.0 13.0 你们再不处理我就打12315投诉你们
        A 13.5 16.0 这个要等仓库那边
    Good:
        C 10.0 13.0 你们再不处理我就打12315投诉你们
        A 13.5 17.0 非常抱歉，我马上帮您升级处理，今天给您回电
    """
    agent = call.by(Role.AGENT)
    for s in emotion.states(call, p.words):
        if not {"threat", "escalation"} & set(s.codes):
            continue
        after = [t for t in agent if s.turn.start < t.start <= s.turn.end + p.window_s][: p.reply_turns]
        if any(not key_of(t.text).key and t.duration >= p.lost_turn_s for t in after):
            return
        if any({"soothe", "followup"} & set(emotion.reply_codes(t, p.replies)) for t in after):
            continue
        end = max([s.turn.end, *(t.end for t in after)])
        yield Evidence(s.turn.start, end, f"客户表示要投诉/找领导（“{s.quote}”），坐席未致歉、未提出升级或跟进",
                       quote=s.turn.text, confidence=p.one_cue_confidence if len(s.codes) == 1 else p.confidence)
        return
