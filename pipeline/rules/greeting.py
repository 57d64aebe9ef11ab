"""S001 greeting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, is_empty, lost, turn_confidence


@dataclass(frozen=True)
class Params:
    phrases: Lexicon = lexicon_file("greetings")  # DOMAIN.md §3.3; seed 003 "您好,很高兴为您服务…"
    opening_turns: int = 2  # DOMAIN.md §3.3: "first agent utterance, or first 2 … within 15 s"
    window_s: Seconds = 15.0  # DOMAIN.md §3.3, counted from the agent's first turn
    # Issue #15: the ASR returned nothing for a greeting turn. An empty turn this long may hold
    # a greeting (您好，很高兴为您服务 takes ~2 s); shorter empty turns are line noise, clicks and
    # breaths on an 8 kHz channel, which must not excuse a missing greeting.
    lost_turn_s: Seconds = 1.0


@rule("S001", "greeting", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent opens the call without a greeting (您好, 很高兴为您服务, 工号…).

    What it flags: none of the first `opening_turns` agent turns that start within `window_s` of
    the agent's first turn contains a `phrases` (greetings lexicon) hit; the span is the agent's
    first turn. Matching is pinyin-tolerant (您号 still reads as 您好).
    Why: seed 000 (问候语\\结束语): "客服代表没有说问候语或没按要求说问候语"; seed 002:
    "电话接通没有主动的向机主问好", "开头语结束语(3分)适时、完整、全面"; seed 003's model
    opening "您好,很高兴为您服务,请问有什么可以帮到您?".
    Empty agent turns (VAD speech, no ASR text) shorter than `lost_turn_s` are noise and don't
    count as opening turns; when an opening turn of `lost_turn_s` or more came back empty, the
    greeting may be in it, so nothing is flagged: absence is only concluded from heard speech.
    Not flagged: a call where the agent never speaks (T001 no_answer covers it); an opening the
    ASR lost; a greeting that comes later than the opening window is still a miss; how fast it
    was said is V001's business.

    Bad:
        C 0.5 1.0 喂
        A 1.5 3.0 什么事
        C 3.5 5.0 我想查一下话费
    Good:
        C 0.5 1.0 喂
        A 1.5 4.0 您好，很高兴为您服务
        C 4.5 6.0 我想查一下话费
    """
    agent = [t for t in call.by(Role.AGENT) if not is_empty(t) or lost(t, p.lost_turn_s)]
    if not agent:
        return
    first = agent[0]
    opening = [t for t in agent[: p.opening_turns] if t.start <= first.start + p.window_s]
    if any(find(p.phrases, t) for t in opening) or any(is_empty(t) for t in opening):
        return
    yield Evidence(
        first.start,
        first.end,
        f"开场未使用问候语（坐席前 {len(opening)} 句中没有“您好”“很高兴为您服务”等）",
        quote=first.text,
        confidence=turn_confidence(first),
    )
