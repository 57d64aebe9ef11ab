"""Per-call timing from stored turns: who spoke how long, silences, holds, the agent's speech rate.

A call's time splits into six disjoint parts (they add up to its duration): agent only, customer
only, both at once, hold, long silence, short pauses. Hold and silence are *mutual* silence
(nobody speaks): inside an announced hold (`spans.holds`, the same holds T003 judges) it is
hold; a silence longer than `SILENCE_S` outside holds is long silence; the rest is the ordinary
pause between turns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Role, Turn
from pipeline.rules.spans import holds, is_empty
from pipeline.scorecard import Scorecard
from pipeline.text import han_count

SILENCE_S = 3.0  # seed 004 §2.3 "3秒钟是极限": a longer mutual silence is dead air (as T002)

PARTS = ("agent_s", "customer_s", "both_s", "hold_s", "silence_s", "pause_s")
COLUMNS = ("call_id", *PARTS, "agent_chars", "agent_heard_s")


@dataclass(frozen=True, slots=True)
class HoldSpec:
    """How holds are found: T003's lexicon and thresholds from the scorecard."""

    phrases: Lexicon
    min_hold_s: float = 3.0
    carry_s: float = 5.0


def hold_spec(card: Scorecard) -> HoldSpec | None:
    """The hold_etiquette item's parameters; None when the scorecard has no T003 item."""
    for item in card.items:
        if item.rule.code == "T003":
            p = item.params
            return HoldSpec(p.hold_phrases, p.min_hold_s, p.announce_carry_s)
    return None


def _sweep(turns: tuple[Turn, ...], duration: float) -> tuple[dict[str, float], list[tuple]]:
    """Seconds of agent only / customer only / both, and the mutual silences (start, end)."""
    events = []
    for t in turns:
        a, b = max(t.start, 0.0), min(t.end, duration)
        if b > a:
            events += [(a, 1, t.role), (b, -1, t.role)]
    events.sort(key=lambda e: (e[0], e[1]))
    spoken = {"agent_s": 0.0, "customer_s": 0.0, "both_s": 0.0}
    active = {Role.AGENT: 0, Role.CUSTOMER: 0}
    gaps: list[tuple[float, float]] = []
    last = 0.0
    for time, step, role in [*events, (duration, 0, None)]:
        if time > last:
            a, c = active[Role.AGENT] > 0, active[Role.CUSTOMER] > 0
            if a and c:
                spoken["both_s"] += time - last
            elif a:
                spoken["agent_s"] += time - last
            elif c:
                spoken["customer_s"] += time - last
            elif gaps and gaps[-1][1] == last:
                gaps[-1] = (gaps[-1][0], time)
            else:
                gaps.append((last, time))
            last = time
        if role is not None:
            active[role] += step
    return spoken, gaps


def _overlap(a: float, b: float, spans: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)


def call_metrics(call: Call, spec: HoldSpec | None) -> dict[str, float | str]:
    """The six parts of one call's time, and the agent's characters and heard speech seconds."""
    duration = max(call.duration, max((t.end for t in call.turns), default=0.0))
    row: dict[str, float | str] = {"call_id": call.id}
    spoken, gaps = _sweep(call.turns, duration)
    row.update(spoken)
    # A hold starts with a mutual silence longer than min_hold_s after speech: a call without one
    # has none, and skipping it saves the lexicon look-ups that are most of this function's time.
    long_gap = spec is not None and any(b - a > spec.min_hold_s for a, b in gaps if a > 0)
    held = [(s, e) for s, e, _ in holds(call, spec.phrases, spec.min_hold_s, spec.carry_s)] \
        if spec is not None and long_gap else []
    hold = silence = pause = 0.0
    for a, b in gaps:
        h = _overlap(a, b, held)
        hold += h
        if b - a > SILENCE_S:
            silence += b - a - h
        else:
            pause += b - a - h
    row.update(hold_s=hold, silence_s=silence, pause_s=pause)
    heard = [t for t in call.by(Role.AGENT) if not is_empty(t)]
    row["agent_chars"] = float(sum(han_count(t.text) for t in heard))
    row["agent_heard_s"] = sum(t.duration for t in heard)
    return row


def frame(calls: pd.DataFrame, turns: pd.DataFrame, spec: HoldSpec | None) -> pd.DataFrame:
    """call_metrics for every call of `calls` (a call without turns is all silence)."""
    by_call: dict[str, list[Turn]] = {}
    ordered = turns.sort_values(["call_id", "start_s"], kind="stable")
    for i, (cid, role, s, e, text) in enumerate(ordered[["call_id", "role", "start_s", "end_s",
                                                         "text"]].itertuples(index=False)):
        by_call.setdefault(cid, []).append(Turn(i, Role(role), float(s), float(e), text or ""))
    rows = [call_metrics(Call(cid, float(d), tuple(by_call.get(cid, ()))), spec)
            for cid, d in zip(calls["call_id"], calls["duration_s"])]
    return pd.DataFrame(rows, columns=list(COLUMNS))
