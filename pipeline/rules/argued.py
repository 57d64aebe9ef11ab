"""E002 argued."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median

from pipeline import complaint, emotion
from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Turn
from pipeline.rules.registry import lexicon_file, rule



@dataclass(frozen=True)
class Params:
    words: Lexicon = lexicon_file("emotion")
    replies: Lexicon = lexicon_file("deescalation")  # `kind=argue`: 是您自己, 投诉也没用 …
    upset: float = 0.35  # as E001
    reply_turns: int = 2  # issue #18: "within the next turn or two"
    window_s: float = 15.0
    loud_db: float = 6.0  # agent louder than their own median: the V002 bar (issue #15)
    confidence: float = 0.85  # an arguing phrase after a turn with two or more cues
    one_cue_confidence: float = 0.5  # issue #18: one cue alone (in the customer, or in the agent)


def _codes(t: Turn, p: Params, agent_median: float | None) -> tuple[str, ...]:
    codes = set(emotion.reply_codes(t, p.replies))  # lexicon, and a rebuttal that blames
    if agent_median is not None and t.level_db is not None and t.level_db - agent_median >= p.loud_db:
        codes.add("loud")
    return tuple(codes)


@rule("E002", "argued", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent argues with, blames or brushes off an upset customer (言语对立).

    What it flags: after an upset customer turn (as E001), one of the agent's next `reply_turns`
    turns has an arguing phrase of the `replies` lexicon (`kind=argue`: 是您自己…, 您听我说,
    投诉也没用, 这是规定) or opens with a rebuttal that blames the customer (不是/不对/不可能 … 你当时/
    你自己/你没/你搞错) without an apology, or is raised in voice (`loud_db` over the agent's own median) without one — span:
    the upset turn to that reply. One cue alone (in the customer's state, or only the raised
    voice) gives `one_cue_confidence`.
    Why: seed 004 3.4 Not meet 3 "无论客户的言语是多麽尖锐,服务人员应该避免被客户的情绪干扰,以争辩的
    方式和客户解释,与客户发生言语上的对立,甚至冲突"; Not meet 4 "质问或指责客户".
    Not flagged: the same words to a calm customer (W001 judges 忌语 anywhere); a rebuttal that
    apologises (不是的，非常抱歉…) or only corrects the facts (不是的，您的订单昨天已经发出了).

    Bad:
        C 10.0 14.0 你们到底怎么回事，太过分了，我要投诉
        A 14.5 17.0 这是您自己没看清楚，跟我们没关系
    Good:
        C 10.0 14.0 你们到底怎么回事，太过分了，我要投诉
        A 14.5 18.0 非常抱歉，我理解您的心情，我马上帮您反馈
    """
    levels = [t.level_db for t in call.by(Role.AGENT) if t.level_db is not None]
    agent_median = median(levels) if len(levels) >= 3 else None
    states = emotion.states(call, p.words)
    for ep in complaint.episodes(call, states, lambda t: _codes(t, p, agent_median), p.upset,
                                 p.reply_turns, p.window_s):
        loud_only = "argue" not in ep.codes
        if loud_only and ("loud" not in ep.codes or ep.codes & {"soothe", "followup"}):
            continue
        reply = next(t for t in ep.replies if ("loud" if loud_only else "argue") in _codes(t, p, agent_median))
        one = len(ep.state.codes) == 1 or loud_only
        what = "提高音量回应" if loud_only else "与客户争辩/指责客户"
        cues = "、".join(emotion.LABELS[c] for c in ep.state.codes)
        # the reply itself is the quote (the card shows it): the message says why it counts
        yield Evidence(ep.state.turn.start, reply.end, f"客户情绪激动（{cues}）时坐席{what}",
                       quote=reply.text, confidence=p.one_cue_confidence if one else p.confidence)
