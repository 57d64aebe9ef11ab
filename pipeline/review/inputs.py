"""Every value a request brings, checked before it reaches review.db: pure functions.

A bad value raises `BadInput` with the Chinese sentence the page shows (the handler answers 400);
nothing is stored. `float()` alone is not a check: it takes "inf", "nan", "1e308" and "1_0".
The read side has its own guard (`finite`), for rows stored before these checks existed.
"""

from __future__ import annotations

import math
import re

from pipeline.scorecard import Item

ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")  # call ids and finding ids (media.CALL_ID's shape)
MISSED_ID = re.compile(r"^m-[0-9a-f]{16}$")  # decisions.add_missed's ids
# Plain decimals, nothing else; \d is Unicode on purpose: a Chinese IME's fullwidth "１２" is fine.
_NUMBER = re.compile(r"^[+-]?(\d{1,9}(\.\d{0,6})?|\.\d{1,6})$")
SLACK_S = 1.0  # a span may end this far past the stored duration (players round the last frame)


class BadInput(ValueError):
    """A request value that fails its check; str() is the message for the inspector."""


def ident(value: str, pattern: re.Pattern[str] = ID, what: str = "编号") -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise BadInput(f"{what}格式不正确")
    return value


def number(text: str | None, what: str) -> float:
    """A plain decimal (`12`, `12.5`, `-0.5`): no exponent, no inf/nan, at most 9 digits."""
    text = (text or "").strip()
    if not _NUMBER.match(text):
        raise BadInput(f"{what}必须是数字（例如 12.5）")
    value = float(text)
    if not math.isfinite(value):  # unreachable through _NUMBER; kept so a looser regex cannot
        raise BadInput(f"{what}必须是数字（例如 12.5）")
    return value


def span(start: str | None, end: str | None, duration: float | None) -> tuple[float, float]:
    """Start and end in seconds, 0 ≤ start ≤ end ≤ the call's duration."""
    s, e = number(start, "开始时间"), number(end, "结束时间")
    if s < 0 or e < 0:
        raise BadInput("起止时间不能是负数")
    if s > e:
        raise BadInput("开始时间不能晚于结束时间")
    limit = duration if duration is not None and finite(duration) is not None else None
    if limit is not None and e > limit + SLACK_S:
        raise BadInput(f"起止时间必须在通话时长（{limit:.1f} 秒）以内")
    return s, e


def item_range(item: Item) -> float:
    """The most one decision may deduct for `item`: its per-call cap, else the most one hit of
    it deducts (its points, or the highest of points_by_severity)."""
    if item.max_points is not None:
        return float(item.max_points)
    return float(max([item.points, *item.points_by_severity.values()]))


def points(text: str | None, item: Item) -> float:
    value = number(text, "扣分")
    top = item_range(item)
    if not 0 <= value <= top:
        raise BadInput(f"扣分必须在 0 到 {top:g} 之间（{item.title}）")
    return round(value, 2)


def finite(value: object, lo: float = -1e9, hi: float = 1e9) -> float | None:
    """A stored number as a float when it is finite and sane, else None: pages and exports
    stay whole whatever an old or hand-edited row holds (NaN, inf, 1e308, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) and lo <= v <= hi else None
