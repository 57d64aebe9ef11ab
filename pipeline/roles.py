"""Which voice of a mono call is the agent: decided from what each voice says, with a confidence.

Evidence, each worth points to the voice it points at (`Options`):
- a service greeting (greetings.txt, longer than a bare 您好/你好) in the voice's first two
  turns: agents open calls (seed 003 "您好,很高兴为您服务"); the strongest single cue. A bare
  您好/你好 counts little: the customer says it on picking up an outbound call;
- a closing (closings.txt) in its last two turns (seed 002 "电话结束前…和客户道别");
- agent phrasing (role_cues.txt kind=agent: 为您, 请您稍等, 工号 …) per turn, and customer
  phrasing (kind=customer: 你们, 帮我 …) against it, each capped so one talkative voice cannot win
  on volume alone;
- speaking first on an inbound call (the agent answers); on an outbound call the customer picks
  up first. Unknown direction: a small weight to the first speaker (recorders start at answer).

The margin between the two voices becomes a confidence of 0.5 (a coin flip) to 1. With one voice
only, it is the agent unless its words point at the customer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.lexicon import Lexicon

Said = tuple[float, str]  # (start, text) of one turn
SALUTATION = 2  # characters: a greeting entry this short is a bare 您好/你好


@dataclass(frozen=True, slots=True)
class Options:
    greeting: float = 2.0  # a service greeting: 很高兴为您服务, 工号…, 有什么可以帮您
    salutation: float = 0.5  # only 您好/你好
    closing: float = 1.0
    cue: float = 0.5  # per turn with a cue
    cue_cap: float = 3.0
    first_inbound: float = 1.0
    first_unknown: float = 0.5
    scale: float = 2.0  # margin at which confidence reaches tanh(1) ≈ 0.88


@dataclass(frozen=True, slots=True)
class Lexicons:
    greetings: Lexicon
    closings: Lexicon
    cues: Lexicon  # kind=agent / kind=customer


@dataclass(frozen=True, slots=True)
class Guess:
    agent: int  # speaker index
    confidence: float  # 0.5–1
    reasons: tuple[str, ...]  # in Chinese, for the calls row and the review page


def score(turns: Sequence[Said], first: bool, direction: str | None, lex: Lexicons,
          opts: Options = Options()) -> tuple[float, list[str]]:
    """Agent-ness of one voice: points and the reasons behind them."""
    points, why = 0.0, []
    texts = [t for _, t in sorted(turns)]
    opening = [h for t in texts[:2] for h in lex.greetings.find(t)]
    if any(len(h.entry.key) > SALUTATION for h in opening):
        points += opts.greeting
        why.append("开场问候")
    elif opening:  # a bare 您好/你好: whoever picks up says it, the caller as often as the agent
        points += opts.salutation
        why.append("您好")
    if any(lex.closings.contains(t) for t in texts[-2:]):
        points += opts.closing
        why.append("结束语")
    agent = customer = 0.0
    for t in texts:
        kinds = {h.entry.kind for h in lex.cues.find(t)}
        agent += opts.cue * ("agent" in kinds)
        customer += opts.cue * ("customer" in kinds)
    agent, customer = min(agent, opts.cue_cap), min(customer, opts.cue_cap)
    if agent:
        why.append(f"坐席用语 +{agent:g}")
    if customer:
        why.append(f"客户用语 −{customer:g}")
    points += agent - customer
    if first:
        bonus = {"in": opts.first_inbound, "out": -opts.first_inbound}.get(direction or "", opts.first_unknown)
        points += bonus
        why.append("呼入先开口" if direction == "in" else "呼出先接听" if direction == "out" else "先开口")
    return points, why


def guess(by_speaker: dict[int, Sequence[Said]], direction: str | None, lex: Lexicons,
          opts: Options = Options()) -> Guess:
    """The agent among the speakers (0, 1) and how sure the evidence makes it."""
    speakers = sorted(by_speaker)
    if not speakers:
        return Guess(0, 0.5, ())
    first = min(speakers, key=lambda s: min((t for t, _ in by_speaker[s]), default=math.inf))
    # Who spoke first only tells voices apart: a lone voice gets no bonus for it.
    scored = {s: score(by_speaker[s], s == first and len(speakers) > 1, direction, lex, opts) for s in speakers}
    if len(speakers) == 1:
        (s, (points, why)), = scored.items()  # the other voice never spoke
        return Guess(s if points >= 0 else 1 - s, _confidence(abs(points), opts), tuple(why))
    a, b = speakers[:2]
    agent, other = (a, b) if scored[a][0] >= scored[b][0] else (b, a)
    margin = scored[agent][0] - scored[other][0]
    return Guess(agent, _confidence(margin, opts), tuple(scored[agent][1]))


def _confidence(margin: float, opts: Options) -> float:
    return round(0.5 + 0.5 * math.tanh(max(margin, 0.0) / opts.scale), 3)
