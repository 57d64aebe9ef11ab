"""A call's score: full marks minus deductions, capped per item and per category.

Item caps are the scorecard's `max_points`; category caps come from the scorecard's optional
`categories:` block (the category of `attitude.silence_gap` is `attitude`). Pure functions: the
page computes the machine's score and the inspector's side by side from the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import read_yaml
from pipeline.scorecard import Scorecard

FULL_MARKS = 100.0  # seed 002 scores a call out of 100


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    title: str
    max_points: float | None = None


@dataclass(frozen=True)
class Caps:
    full_marks: float = FULL_MARKS
    items: dict[str, float | None] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    deducted: float
    by_category: tuple[tuple[str, str, float, float | None], ...]  # (id, title, deducted, cap)


def caps(card: Scorecard) -> Caps:
    doc: dict = {}
    if card.path and Path(card.path).is_file():
        _, doc = read_yaml(Path(card.path), "scorecard file")
    cats = {}
    for cid, c in ((doc or {}).get("categories") or {}).items():
        c = c or {}
        cap = c.get("max_points")
        cats[str(cid)] = Category(
            str(cid), str(c.get("title", cid)), float(cap) if cap is not None else None
        )
    return Caps(
        float((doc or {}).get("full_marks", FULL_MARKS)),
        {i.id: i.max_points for i in card.items},
        {i.id: i.title for i in card.items},
        cats,
    )


def category_of(item: str) -> str:
    return item.split(".", 1)[0]


def score(deductions: Iterable[tuple[str, float]], c: Caps) -> Score:
    """Score from (item, points) pairs: sum per item, cap per item, sum per category, cap."""
    per_item: dict[str, float] = {}
    for item, points in deductions:
        per_item[item] = per_item.get(item, 0.0) + max(points, 0.0)
    per_cat: dict[str, float] = {}
    for item, pts in per_item.items():
        cap = c.items.get(item)
        per_cat[category_of(item)] = per_cat.get(category_of(item), 0.0) + (
            min(pts, cap) if cap is not None else pts
        )
    rows = []
    for cat, pts in sorted(per_cat.items()):
        meta = c.categories.get(cat, Category(cat, cat))
        rows.append(
            (
                cat,
                meta.title,
                round(min(pts, meta.max_points) if meta.max_points is not None else pts, 2),
                meta.max_points,
            )
        )
    deducted = min(sum(r[2] for r in rows), c.full_marks)
    return Score(round(c.full_marks - deducted, 2), round(deducted, 2), tuple(rows))
