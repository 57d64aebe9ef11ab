"""V002 loudness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median

from pipeline.model import Call, Evidence, Role, Seconds, Turn
from pipeline.rules.registry import rule
from pipeline.rules.spans import extent


@dataclass(frozen=True)
class Params:
    # No seed number. 6 dB is twice the sound pressure of the agent's usual voice: a raised voice,
    # not a livelier sentence. It was 8 dB until a shout measured ~8 dB over the agent's level
    # after the recorder's limiter slipped under it (issue #15): limiters squash shouts, so the
    # bar sits below what an unlimited shout (10–15 dB) reaches.
    jump_db: float = 6.0
    spread_k: float = 2.5  # … and ≥ 2.5 robust SDs (1.4826 × MAD) of the agent's own levels: an
    # agent whose level swings anyway (distance to the mic) needs a bigger jump to count
    min_level_db: float = -40.0  # dBFS; telephone speech usually sits at −30…−15 dBFS RMS
    quiet_vs_customer_db: float = 15.0  # agent this far under the customer's median: too quiet
    min_turn_s: Seconds = 0.8  # shorter turns (嗯, a cough) give no stable level
    min_turns: int = 3  # a median of fewer turns is no baseline
    confidence: float = 0.7  # the level is measured, but mic distance and line gain move it too


def _levels(turns: tuple[Turn, ...], p: Params) -> list[tuple[Turn, float]]:
    return [(t, t.level_db) for t in turns if t.level_db is not None and t.duration >= p.min_turn_s]


@rule("V002", "loudness", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent's voice gets loud (音量失控, 大声应对) or is too quiet to follow (声音过小).

    What it flags, from each turn's speech level (`Turn.level_db`, dBFS; turns without one or
    shorter than `min_turn_s` are skipped), given at least `min_turns` such agent turns:
    (a) agent turns louder than the agent's own usual level — the median of the agent's other
    measured turns — by more than `jump_db` and by `spread_k` robust standard deviations of the
    agent's levels (median absolute deviation × 1.4826), so the bar follows the agent's own
    voice and a recorder's limiter, which squashes shouts, doesn't hide one; consecutive loud
    agent turns make one evidence spanning them; (b) the agent's median level
    below `min_level_db`, or (with `min_turns` customer turns) more than `quiet_vs_customer_db`
    below the customer's median — one evidence over the agent's speech.
    Why: seed 000 (语气\\语调\\语速\\音量): "在客户情绪激动的情况下,客服代表心情平和,音量保持平
    稳", deduction "客服代表心情和语气随之波动,音量失控,大声应对"; seed 002: "语速过快或者过慢,
    或者声音过小客户无法听清".
    Not flagged: the customer's loudness; a call that is loud or quiet all through on both
    channels alike; calls with too few measured agent turns.

    Bad:
        A 1.0 4.0 level=-24 您好，请问有什么可以帮您
        C 4.5 7.0 level=-20 我的宽带又断了
        A 7.5 10.0 level=-23 好的我帮您查一下
        A 11.0 14.0 level=-12 我已经跟您说过很多次了
        A 15.0 18.0 level=-24 您先重启一下光猫
    Good:
        A 1.0 4.0 level=-24 您好，请问有什么可以帮您
        C 4.5 7.0 level=-20 我的宽带又断了
        A 7.5 10.0 level=-23 好的我帮您查一下
        A 11.0 14.0 level=-21 我这边看到线路有故障
        A 15.0 18.0 level=-24 您先重启一下光猫
    """
    agent = _levels(call.by(Role.AGENT), p)
    if len(agent) < p.min_turns:
        return
    levels = [level for _, level in agent]
    mid = median(levels)
    spread = 1.4826 * median(abs(lv - mid) for lv in levels)
    loud: list[list[tuple[Turn, float]]] = []
    last = -2
    for i, (t, level) in enumerate(agent):
        usual = median(levels[:i] + levels[i + 1 :])  # leave the turn itself out
        if level - usual > max(p.jump_db, p.spread_k * spread):
            if i == last + 1:  # the previous measured agent turn was loud too: one outburst
                loud[-1].append((t, level))
            else:
                loud.append([(t, level)])
            last = i
    for group in loud:
        top, level = max(group, key=lambda x: x[1])
        bar = max(p.jump_db, p.spread_k * spread)
        yield Evidence(group[0][0].start, group[-1][0].end, f"坐席音量突然增大：比本人通常音量高 "
                       f"{level - mid:.0f} dB（上限 {bar:.0f} dB）", quote=top.text,
                       confidence=p.confidence)
    customer = _levels(call.by(Role.CUSTOMER), p)
    below = median(lv for _, lv in customer) - mid if len(customer) >= p.min_turns else 0.0
    if mid < p.min_level_db:
        message = f"坐席音量过小：{mid:.0f} dBFS（下限 {p.min_level_db:g} dBFS），客户可能听不清"
    elif below > p.quiet_vs_customer_db:
        message = f"坐席音量过小：比客户低 {below:.0f} dB（上限 {p.quiet_vs_customer_db:g} dB）"
    else:
        return
    yield Evidence(*extent(tuple(t for t, _ in agent)), message, confidence=p.confidence)
