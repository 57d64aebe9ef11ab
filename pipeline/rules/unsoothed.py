"""E001 unsoothed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline import complaint, emotion
from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import lexicon_file, rule


@dataclass(frozen=True)
class Params:
    words: Lexicon = lexicon_file("emotion")  # customer cues: complaint, negative … (kind=…)
    replies: Lexicon = lexicon_file("deescalation")  # agent: soothe / followup / argue
    upset: float = 0.35  # emotion score of an upset turn: one strong or two weaker cues (ours)
    reply_turns: int = 2  # issue #18: "within the next turn or two"
    window_s: float = 15.0  # ours: a reply later than this answers something else
    confidence: float = 0.8  # two or more cues agree
    one_cue_confidence: float = 0.5  # issue #18: "low confidence where only one cue fires"


@rule("E001", "unsoothed", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The customer is upset and the agent's next turn or two neither apologise nor acknowledge it.

    What it flags: a customer turn whose emotion score (pipeline/emotion.py: complaint threats,
    negative words, repeated questions, 到底/！, and voice louder, higher, faster than the customer's
    own median) reaches `upset`, followed by `reply_turns` agent turns without a `soothe` or
    `followup` phrase of the `replies` lexicon (理解您的心情, 非常抱歉, 帮您反馈…) — span: the
    upset turn to the last reply; confidence `one_cue_confidence` when one cue alone made it upset.
    Why: seed 004 3.2 Not meet 3 "不让客户宣泄情绪。当客户明确表示这个问题不满,而未作出适当的安抚";
    seed 000 "在客户情绪激动的情况下,客服代表心情平和,音量保持平稳,亲切安抚好客户".
    Not flagged: replies that argue (E002 judges those); a reply the ASR returned empty; an upset
    turn answered within a span already flagged (one finding per outburst).

    Bad:
        C 10.0 14.0 你们这什么服务，太差了，我到底还要等多久
        A 14.5 17.0 系统显示还在配送中
        C 17.5 19.0 那怎么办
        A 19.5 22.0 您再等等吧
    Good:
        C 10.0 14.0 你们这什么服务，太差了，我到底还要等多久
        A 14.5 18.0 非常抱歉让您久等了，我马上帮您催一下
    """
    states = emotion.states(call, p.words)
    done = 0.0
    for ep in complaint.episodes(call, states, lambda t: emotion.reply_codes(t, p.replies), p.upset,
                                 p.reply_turns, p.window_s):
        if ep.response != "ignored" or ep.state.turn.start < done:
            continue
        done = ep.end
        conf = p.one_cue_confidence if len(ep.state.codes) == 1 else p.confidence
        cues = "、".join(emotion.LABELS[c] for c in ep.state.codes)
        quiet = "坐席未回应" if not ep.replies else "坐席未致歉或安抚（如“理解您的心情”“非常抱歉”）"
        yield Evidence(ep.state.turn.start, ep.end, f"客户情绪激动（{cues}），{quiet}",
                       quote=ep.state.turn.text, confidence=conf, role=Role.AGENT)
