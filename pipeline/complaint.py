"""Per call: complaint risk 0–1 with its reasons, the customer's trend, and how the agent answered.

Computed in `rows.scored` from the turns' stored `emotion` / `emotion_cues` (customer turns carry
their state, agent turns their reply codes: `emotion.annotate`), so a rescore reproduces it from
the stored turns without audio or lexicons. The rules E001–E003 use `episodes` on fresh states.

An episode is an upset customer turn and the agent's next `reply_turns` turns with words within
`window_s` of it: soothed (an apology, empathy, or an offer to escalate or follow up), argued (an
arguing or blaming phrase), ignored (neither, or no agent turn at all: the agent went quiet), or
unknown (a reply the ASR returned empty might have held the apology).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline.emotion import LABELS, REPLY_WINDOW_S, Options, State
from pipeline.model import Call, Role, Seconds, Turn
from pipeline.text import key_of

Codes = Callable[[Turn], tuple[str, ...]]
TREND_DELTA = 0.15  # mean score of the last third minus the first third of the customer turns
LOST_S = 0.6  # an empty agent turn this long may have held words (rules/spans.lost)


@dataclass(frozen=True, slots=True)
class Episode:
    state: State
    replies: tuple[Turn, ...]
    codes: frozenset[str]
    response: str  # soothed | argued | ignored | unknown

    @property
    def end(self) -> Seconds:
        return max([self.state.turn.end, *(t.end for t in self.replies)])


def episodes(call: Call, states: Iterable[State], codes_of: Codes, upset: float = Options.upset,
             reply_turns: int = 2, window_s: Seconds = REPLY_WINDOW_S) -> list[Episode]:
    out = []
    agent = call.by(Role.AGENT)
    for s in states:
        if s.score < upset:
            continue
        after = [t for t in agent if s.turn.start < t.start <= s.turn.end + window_s]
        replies, lost = [], False
        for t in after:
            if not key_of(t.text).key:
                lost = lost or t.duration >= LOST_S
                continue
            replies.append(t)
            if len(replies) == reply_turns:
                break
        codes = frozenset(c for t in replies for c in codes_of(t))
        response = ("argued" if "argue" in codes else "soothed" if codes & {"soothe", "followup"}
                    else "unknown" if lost else "ignored")
        out.append(Episode(s, tuple(replies), codes, response))
    return out


@dataclass(frozen=True, slots=True)
class Outlook:
    """The `calls` row's columns (names as stored); all empty when no turn carries a state."""

    complaint_risk: float | None = None
    emotion_trend: str = ""  # calmer | angrier | steady ("" with < 3 customer turns)
    deescalation: str = ""  # soothed | argued | ignored | unknown ("" when nobody was upset)
    risk_reasons: str = ""  # Chinese, "；"-joined


def trend(scores: list[float], upset: float = Options.upset) -> str:
    """Mean of the last third of the customer's turns against the first third; a change counts
    only when the angrier end has an upset turn (small cues drifting are no trend)."""
    if len(scores) < 3:
        return ""
    k = max(1, len(scores) // 3)
    first, last = scores[:k], scores[-k:]
    delta = sum(last) / k - sum(first) / k
    if delta >= TREND_DELTA and max(last) >= upset:
        return "angrier"
    return "calmer" if delta <= -TREND_DELTA and max(first) >= upset else "steady"


def _stored_codes(t: Turn) -> tuple[str, ...]:
    return tuple(c for c in t.emotion_cues.split(",") if c)


def outlook(call: Call) -> Outlook:
    """Complaint risk, trend and the agent's response, from the stored per-turn states."""
    states = [State(t, t.emotion, _stored_codes(t)) for t in call.by(Role.CUSTOMER) if t.emotion is not None]
    if not states:
        return Outlook()
    eps = episodes(call, states, _stored_codes)
    responses = {e.response for e in eps}
    response = next((r for r in ("argued", "ignored", "unknown", "soothed") if r in responses), "")
    peak = max(states, key=lambda s: s.score)
    threat = next((s for s in states if {"threat", "escalation"} & set(s.codes)), None)
    repeats = sum("repeat" in s.codes for s in states)
    direction = trend([s.score for s in states])
    keep = (1 - 0.8 * peak.score) * (1 - 0.5 * (threat is not None)) * (1 - 0.15 * (repeats >= 2))
    keep *= (1 - 0.3 * (direction == "angrier")) * (1 - 0.35 * (response in ("argued", "ignored")))
    risk = 1 - keep
    if response == "soothed" and direction != "angrier":
        risk *= 0.75  # the agent calmed it: less likely to end in a complaint
    reasons = []
    if threat is not None:
        reasons.append(f"客户表示要投诉或找领导（“{threat.turn.text[:30]}”）")
    if peak.score >= Options.upset:
        cues = "、".join(LABELS[c] for c in peak.codes if c in LABELS)
        reasons.append(f"客户情绪激动（{cues}，{peak.turn.start:.0f} 秒处）")
    if repeats >= 2:
        reasons.append(f"客户重复提问 {repeats} 次")
    reasons += {"angrier": ["客户情绪越来越激动"], "calmer": ["客户情绪由激动转为平和"]}.get(direction, [])
    reasons += {"argued": ["坐席与情绪激动的客户争辩"], "ignored": ["客户不满后坐席未安抚"],
                "soothed": ["坐席已安抚客户"]}.get(response, [])
    return Outlook(round(risk, 3), direction, response, "；".join(reasons))
