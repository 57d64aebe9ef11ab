"""V001 speech_rate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median

from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import rule
from pipeline.rules.spans import extent, heard, is_empty, lost, speech_minutes, turn_confidence
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    min_cpm: float = 120.0  # DOMAIN.md §2: "正常的语速范围在120到160字每分钟" (jiangshitai)
    max_cpm: float = 280.0  # DOMAIN.md §2: Alibaba SCA 语速检查 example VelocityInMint=280
    min_call_chars: int = 30  # DOMAIN.md §2 (minWordSize guard): too little speech to judge
    greeting_max_cpm: float = 280.0  # seed 000: "在报工号或问候语时语速过快"; same bound as max_cpm
    min_turn_chars: int = 8  # DOMAIN.md §2: per-utterance rate only on turns of ≥ 8 字
    lost_turn_s: Seconds = 0.5  # issue #15: an empty turn this long is speech the ASR lost


def _cpm(turns: tuple) -> float:
    minutes = speech_minutes(turns)
    return sum(han_count(t.text) for t in turns) / minutes if minutes > 0 else 0.0


@rule("V001", "speech_rate", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent speaks too fast or too slow (字/分钟), over the call or in the greeting.

    What it flags: (a) the agent's average rate — Chinese characters over minutes of agent speech
    (VAD turn time, so holds and silences don't count) — outside [`min_cpm`, `max_cpm`], once per
    call over the agent's speech, when the median rate of the agent's turns of ≥ `min_turn_chars`
    字 is outside the band on the same side (a steady habit, not a few turns the ASR half lost);
    (b) the first agent turn of ≥ `min_turn_chars` 字 (the greeting, where 工号 is read out)
    faster than `greeting_max_cpm`.
    Only heard speech is measured: turns the ASR returned empty (issue #15: lost turns) would
    add minutes without characters and make any agent look slow, so they are left out of both
    the characters and the minutes; when the opening turn itself was lost (empty, ≥
    `lost_turn_s`), the greeting's rate is not judged.
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
    agent = heard(call.by(Role.AGENT))
    chars, cpm = sum(han_count(t.text) for t in agent), _cpm(agent)
    if chars >= p.min_call_chars and cpm > 0 and not p.min_cpm <= cpm <= p.max_cpm:
        fast = cpm > p.max_cpm
        rates = [_cpm((t,)) for t in agent if han_count(t.text) >= p.min_turn_chars]
        typical = median(rates) if rates else cpm
        if (typical > p.max_cpm) if fast else (typical < p.min_cpm):
            bound = f"上限 {p.max_cpm:g}" if fast else f"下限 {p.min_cpm:g}"
            yield Evidence(
                *extent(agent),
                f"坐席整通语速过{'快' if fast else '慢'}：{cpm:.0f} 字/分钟（{bound}）",
                confidence=round(sum(map(turn_confidence, agent)) / len(agent), 3),
            )
    greeting = None
    for t in call.by(Role.AGENT):
        if lost(t, p.lost_turn_s):
            break  # the greeting may be in it
        if not is_empty(t) and han_count(t.text) >= p.min_turn_chars:
            greeting = t
            break
    if greeting is not None and greeting.duration > 0:
        cpm = _cpm((greeting,))
        if cpm > p.greeting_max_cpm:
            yield Evidence(
                greeting.start,
                greeting.end,
                f"问候语语速过快：{cpm:.0f} 字/分钟（上限 {p.greeting_max_cpm:g}）",
                quote=greeting.text,
                confidence=turn_confidence(greeting),
            )
