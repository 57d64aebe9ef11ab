"""What the call page draws: the SVG timeline and the transcript with evidence highlighted.

Pure functions from turns and findings to markup. Every piece of text that came from audio,
lexicons or people goes through `escape` here, so a transcript saying `<script>` stays text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from pipeline.emotion import LABELS as EMOTION_LABELS
from pipeline.emotion import Options as _EmotionOptions

SILENCE_S = 3.0  # seed 004 §2.3: "3秒钟是极限" — longer gaps are drawn as silence
UPSET = _EmotionOptions.upset  # the score at which a customer turn counts as upset (E001–E003)
HOLD_RULE = "T003"  # hold_etiquette: its evidence spans are drawn as holds
_NAMED = re.compile(r"「([^」]{1,40})」")
LANES = (("agent", "坐席"), ("customer", "客户"), ("silence", "静默/候线"), ("finding", "建议扣分"))
EMOTION_H = 40  # px of the customer-emotion lane under the others (score 0 at the bottom, 1 on top)


@dataclass(frozen=True, slots=True)
class Line:
    """One transcript line: a turn and the findings whose evidence falls on it."""

    turn_id: int
    role: str
    start_s: float
    end_s: float
    html: Markup
    finding_ids: tuple[str, ...]


MAX_CLOCK_S = 100 * 3600.0  # no recording is longer; a stored time beyond this is a bad row


def clock(seconds: float | None) -> str:
    """mm:ss.s; "—" for a time no call has (NaN, inf, 1e308 from a row stored before issue #28's
    checks), so a page shows the rest instead of failing on it."""
    if seconds is None:
        return ""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds > MAX_CLOCK_S:
        return "—"
    m, s = divmod(max(float(seconds), 0.0), 60)
    return f"{int(m):02d}:{s:04.1f}"


def silences(
    turns: list[dict[str, Any]], duration: float, min_s: float = SILENCE_S
) -> list[tuple[float, float]]:
    """Stretches where neither party speaks for longer than min_s."""
    out, last = [], 0.0
    for t in sorted(turns, key=lambda t: t["start_s"]):
        if t["start_s"] - last > min_s:
            out.append((last, t["start_s"]))
        last = max(last, t["end_s"])
    if duration - last > min_s:
        out.append((last, duration))
    return out


def timeline(
    turns: list[dict[str, Any]], findings: list[dict[str, Any]], duration: float, width: int = 1000
) -> Markup:
    """Both parties' turns, silences, holds and findings on one time axis; clickable (data-start)."""
    duration = max(duration, max((t["end_s"] for t in turns), default=0.0), 1.0)
    label_w, lane_h = 70, 22
    scale = (width - label_w - 10) / duration

    def x(t: float) -> float:
        return round(label_w + t * scale, 1)

    def rect(lane: int, s: float, e: float, cls: str, title: str, extra: str = "") -> str:
        return (
            f'<rect class="{cls}" x="{x(s)}" y="{lane * lane_h + 4}" width="{max(x(e) - x(s), 2):.1f}" '
            f'height="{lane_h - 8}" data-start="{s:.2f}"{extra}><title>{escape(title)}</title></rect>'
        )

    parts = []
    for i, (_, label) in enumerate(LANES):
        parts.append(f'<text class="lane" x="4" y="{i * lane_h + 15}">{label}</text>')
    for t in turns:
        lane = 0 if t["role"] == "agent" else 1
        parts.append(
            rect(
                lane,
                t["start_s"],
                t["end_s"],
                f"turn {t['role']}",
                f"{clock(t['start_s'])} {t['text'][:60]}",
            )
        )
    for s, e in silences(turns, duration):
        parts.append(rect(2, s, e, "silence", f"静默 {e - s:.1f} 秒（{clock(s)}）"))
    for f in findings:
        cls = "hold" if f["rule"] == HOLD_RULE else "finding"
        lane = 2 if cls == "hold" else 3
        parts.append(
            rect(
                lane,
                f["start_s"],
                max(f["end_s"], f["start_s"] + 0.3),
                cls,
                f"{clock(f['start_s'])} {f['message']}",
                f' data-finding="{escape(f["id"])}"',
            )
        )
    top = len(LANES) * lane_h
    curve = emotion_curve(turns, x, top + 4, EMOTION_H - 8, width - 10)
    if curve:
        parts.append(f'<text class="lane" x="4" y="{top + 15}">客户情绪</text>{curve}')
        top += EMOTION_H
    step = _tick_step(duration)
    for k in range(0, int(duration // step) + 1):
        t = k * step
        parts.append(f'<text class="tick" x="{x(t)}" y="{top + 12}">{clock(t)[:-2]}</text>')
    height = top + 16
    body = "".join(parts)
    return Markup(
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="通话时间轴">{body}<line id="playhead" x1="{label_w}" x2="{label_w}" '
        f'y1="0" y2="{height - 14}" data-x0="{label_w}" data-scale="{scale:.5f}"/></svg>'
    )


def emotion_curve(
    turns: list[dict[str, Any]], x: Any, y0: float, h: float, right: float
) -> str:
    """The customer's per-turn emotion score (turns.emotion, 0–1) as a line through a dot per
    customer turn at its middle, with the `upset` bar dashed; "" when no turn has a score (mono
    calls, output from before issue #18). A dot is clickable like a turn and names its cues."""
    pts = sorted(
        ((t["start_s"] + t["end_s"]) / 2, float(t["emotion"]), t)
        for t in turns
        if t["role"] == "customer" and t.get("emotion") is not None
    )
    if not pts:
        return ""

    def y(v: float) -> float:
        return round(y0 + h * (1 - min(max(v, 0.0), 1.0)), 1)

    left = x(0)
    out = [
        f'<line class="emotion-axis" x1="{left}" x2="{right}" y1="{y(0)}" y2="{y(0)}"/>',
        f'<line class="emotion-upset" x1="{left}" x2="{right}" y1="{y(UPSET)}" y2="{y(UPSET)}">'
        f"<title>激动线 {UPSET}（达到即视为客户情绪激动）</title></line>",
        '<polyline class="emotion-line" points="'
        + " ".join(f"{x(m)},{y(v)}" for m, v, _ in pts)
        + '"/>',
    ]
    for m, v, t in pts:
        codes = [c for c in (t.get("emotion_cues") or "").split(",") if c]
        cues = "、".join(EMOTION_LABELS.get(c, c) for c in codes) or "无明显情绪线索"
        upset = " upset" if v >= UPSET else ""
        out.append(
            f'<circle class="emotion{upset}" cx="{x(m)}" cy="{y(v)}" r="3.5" '
            f'data-start="{t["start_s"]:.2f}"><title>{escape(clock(t["start_s"]))} 客户情绪 '
            f"{v:.2f}：{escape(cues)}</title></circle>"
        )
    return "".join(out)


def _tick_step(duration: float) -> int:
    for step in (5, 10, 15, 30, 60, 120, 300, 600):
        if duration / step <= 12:
            return step
    return 1200


def transcript(turns: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[Line]:
    """Turns in time order; a finding's quote is marked where it occurs in a turn its span touches,
    and a finding without a quote marks the lines it overlaps."""
    lines = []
    for t in sorted(turns, key=lambda t: (t["start_s"], t["turn_id"])):
        hits = [
            f
            for f in findings
            if f["start_s"] <= t["end_s"] + 0.05
            and f["end_s"] >= t["start_s"] - 0.05
            and (not f["role"] or f["role"] == t["role"] or not f["quote"])
        ]
        marks = []
        for f in hits:
            for needle in _needles(f):
                if (i := t["text"].find(needle)) >= 0:
                    marks.append((i, i + len(needle), f["id"]))
                    break
        lines.append(
            Line(
                t["turn_id"],
                t["role"],
                t["start_s"],
                t["end_s"],
                _marked(t["text"], marks),
                tuple(f["id"] for f in hits),
            )
        )
    return lines


def _needles(f: dict[str, Any]) -> list[str]:
    """What to mark, most precise first: a phrase the message names in 「」 (the lexicon hit),
    then the quote (often the whole turn)."""
    named = [m for m in _NAMED.findall(f["message"]) if m and m in f["quote"]]
    return named + ([f["quote"]] if f["quote"] else [])


def _marked(text: str, marks: list[tuple[int, int, str]]) -> Markup:
    out, pos = [], 0
    for s, e, fid in sorted(marks):
        if s < pos:  # overlapping quotes: the first one wins, the text is shown once
            continue
        out.append(escape(text[pos:s]))
        out.append(Markup('<mark data-finding="{}">{}</mark>').format(fid, text[s:e]))
        pos = e
    out.append(escape(text[pos:]))
    return Markup("").join(out)
