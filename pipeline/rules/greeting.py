"""S001 greeting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, turn_confidence


@dataclass(frozen=True)
class Params:
    phrases: Lexicon = lexicon_file("greetings")  # DOMAIN.md §3.3; seed 003 "您好,很高兴为您服务…"
    opening_turns: int = 2  # DOMAIN.md §3.3: "first agent utterance, or first 2 … within 15 s"
    window_s: Seconds = 15.0  # DOMAIN.md §3.3, counted from the agent's first turn


@rule("S001", "greeting", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent opens the call without a greeting (您好, 很高兴为您服务, 工号…).

    What it flags: none of the first `opening_turns` agent turns that start within `window_s` of
    the agent's first turn contains a `phrases` (greetings lexicon) hit; the span is the agent's
    first turn. Matching is pinyin-tolerant (您号 still reads as 您好).
    Why: seed 000 (问候语\\结束语): "客服代表没有说问候语或没按要求说问候语"; seed 002:
    "电话接通没有主动的向机主问好", "开头语结束语(3分)适时、完整、全面"; seed 003's model
    opening "您好,很高兴为您服务,请问有什么可以帮到您?".
    Not flagged: a call where the agent never speaks (T001 no_answer covers it); a greeting that
    comes later than the opening window is still a miss; how fast it was said is V001's business.

    Bad:
        C 0.5 1.0 喂
        A 1.5 3.0 什么事
        C 3.5 5.0 我想查一下话费
    Good:
        C 0.5 1.0 喂
        A 1.5 4.0 您好，很高兴为您服务
        C 4.5 6.0 我想查一下话费
    """
    agent = call.by(Role.AGENT)
    if not agent:
        return
    first = agent[0]
    opening = [t for t in agent[: p.opening_turns] if t.start <= first.start + p.window_s]
    if any(find(p.phrases, t) for t in opening):
        return
    yield Evidence(
        first.start,
        first.end,
        f"开场未使用问候语（坐席前 {len(opening)} 句中没有“您好”“很高兴为您服务”等）",
        quote=first.text,
        confidence=turn_confidence(first),
    )
