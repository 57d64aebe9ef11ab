"""V001 speech_rate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import rule
from pipeline.rules.spans import extent, speech_minutes, turn_confidence
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    min_cpm: float = 120.0  # DOMAIN.md §2: "正常的语速范围在120到160字每分钟" (jiangshitai)
    max_cpm: float = 280.0  # DOMAIN.md §2: Alibaba SCA 语速检查 example VelocityInMint=280
    min_call_chars: int = 30  # DOMAIN.md §2 (minWordSize guard): too little speech to judge
    greeting_max_cpm: float = 280.0  # seed 000: "在报工号或问候语时语速过快"; same bound as max_cpm
    min_turn_chars: int = 8  # DOMAIN.md §2: per-utterance rate only on turns of ≥ 8 字


@rule("V001", "speech_rate", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent speaks too fast or too slow (字/分钟), over the call or in the greeting.

    What it flags: (a) the agent's average rate — Chinese characters over minutes of agent speech
    (VAD turn time, so holds and silences don't count) — outside [`min_cpm`, `max_cpm`], once per
    call over the agent's speech; (b) the first agent turn of ≥ `min_turn_chars` 字 (the greeting,
    where 工号 is read out) faster than `greeting_max_cpm`.
    Why: seed 002: "语速过快或者过慢,或者声音过小客户无法听清"; seed 000 (问候语\\结束语):
    "客服代表在报工号或问候语时语速过快,发音模糊,令客户无法听清楚". The seeds give no number:
    the defaults come from DOMAIN.md §2.
    Not flagged: calls where the agent said fewer than `min_call_chars` 字; single fast turns later
    in the call; the customer's rate.

    Bad:
        A 1.0 3.0 您好，工号一零二四很高兴为您服务请问有什么可以帮您
        C 3.5 5.0 我查一下话费
        A 5.5 8.0 好的您的话费余额是五十元本月已经使用三十元还剩二十元
    Good:
        A 1.0 7.0 您好，工号一零二四很高兴为您服务请问有什么可以帮您
        C 7.5 9.0 我查一下话费
        A 9.5 16.0 好的您的话费余额是五十元本月已经使用三十元还剩二十元
    """
    agent = call.by(Role.AGENT)
    chars, minutes = sum(han_count(t.text) for t in agent), speech_minutes(agent)
    if chars >= p.min_call_chars and minutes > 0:
        cpm = chars / minutes
        if not p.min_cpm <= cpm <= p.max_cpm:
            fast = cpm > p.max_cpm
            bound = f"上限 {p.max_cpm:g}" if fast else f"下限 {p.min_cpm:g}"
            yield Evidence(
                *extent(agent),
                f"坐席整通语速过{'快' if fast else '慢'}：{cpm:.0f} 字/分钟（{bound}）",
                confidence=round(sum(map(turn_confidence, agent)) / len(agent), 3),
            )
    greeting = next((t for t in agent if han_count(t.text) >= p.min_turn_chars), None)
    if greeting is not None and greeting.duration > 0:
        cpm = han_count(greeting.text) / (greeting.duration / 60)
        if cpm > p.greeting_max_cpm:
            yield Evidence(
                greeting.start,
                greeting.end,
                f"问候语语速过快：{cpm:.0f} 字/分钟（上限 {p.greeting_max_cpm:g}）",
                quote=greeting.text,
                confidence=turn_confidence(greeting),
            )
