"""S002 closing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, is_empty, lost, turn_confidence


@dataclass(frozen=True)
class Params:
    phrases: Lexicon = lexicon_file("closings")  # DOMAIN.md §3.4; seed 002 "感谢来电,再见。"
    closing_turns: int = 2  # DOMAIN.md §3.4: "last 2 agent utterances"
    lost_turn_s: Seconds = 0.6  # an empty turn this long may hold 好的再见 (issue #15: lost turns)


@rule("S002", "closing", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent ends the call without a closing (再见, 感谢您的来电, 还有其他问题吗 …).

    What it flags: none of the agent's last `closing_turns` turns contains a `phrases` (closings
    lexicon) hit; the span is the agent's last turn. Matching is pinyin-tolerant (在见 → 再见).
    Why: seed 000 (问候语\\结束语): "客服代表没有按要求报结束语"; seed 002: "电话结束前没有和客户
    道别", "开头语结束语(3分)适时、完整、全面", model scripts "感谢来电,再见。" / "感谢您的配合,
    再见。".
    Empty agent turns shorter than `lost_turn_s` are noise and are skipped; when one of the last
    turns is an empty turn of `lost_turn_s` or more, the closing may be in it: nothing is flagged.
    Not flagged: a call where the agent never speaks; a closing the ASR lost; a closing said
    earlier in the call but not at the end; whether the customer confirmed before the agent hung
    up (a separate check).

    Bad:
        C 30.0 32.0 好的我知道了
        A 32.5 34.0 嗯，那就这样
    Good:
        C 30.0 32.0 好的我知道了
        A 32.5 35.0 感谢您的来电，再见
    """
    agent = [t for t in call.by(Role.AGENT) if not is_empty(t) or lost(t, p.lost_turn_s)]
    if not agent:
        return
    tail = agent[max(len(agent) - p.closing_turns, 0) :]
    if any(find(p.phrases, t) for t in tail) or any(is_empty(t) for t in tail):
        return
    last = agent[-1]
    n = min(p.closing_turns, len(agent))
    message = f"结束通话前未使用结束语（坐席最后 {n} 句中没有“再见”“感谢来电”等）"
    yield Evidence(last.start, last.end, message, quote=last.text, confidence=turn_confidence(last))
