"""How good the rules are, measured by the inspectors' decisions (the tuning loop's ground truth).

Per scorecard item: precision = confirmed / (confirmed + rejected) over the suggestions people
decided; recall = confirmed / (confirmed + missed), where "missed" are the deductions inspectors
added by hand. Each inspector's decision counts once; decisions that need re-review are left out
(they judged a finding that has since changed).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ItemQuality:
    item: str
    confirmed: int
    rejected: int
    missed: int

    @property
    def precision(self) -> float | None:
        n = self.confirmed + self.rejected
        return self.confirmed / n if n else None

    @property
    def recall(self) -> float | None:
        n = self.confirmed + self.missed
        return self.confirmed / n if n else None


def by_item(conn: sqlite3.Connection) -> list[ItemQuality]:
    counts: dict[str, list[int]] = {}
    for r in conn.execute("""
            SELECT e.item, e.verdict, COUNT(*) AS n FROM decisions d JOIN events e ON e.seq = d.seq
            LEFT JOIN findings_index f ON f.id = d.finding_id
            WHERE e.verdict = 'missed'
               OR (e.verdict IN ('confirmed', 'rejected') AND f.fingerprint = e.fingerprint)
            GROUP BY e.item, e.verdict"""):
        row = counts.setdefault(r["item"], [0, 0, 0])
        row[("confirmed", "rejected", "missed").index(r["verdict"])] += r["n"]
    return [ItemQuality(item, *c) for item, c in sorted(counts.items())]


def text(rows: list[ItemQuality]) -> str:
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.0%}"

    lines = ["规则质量（按人工审核）：精确率 = 确认 / (确认 + 驳回)，召回率 = 确认 / (确认 + 补充扣分)"]
    lines += [f"  {q.item:<28} 确认 {q.confirmed:>4}  驳回 {q.rejected:>4}  补充 {q.missed:>4}  "
              f"精确率 {pct(q.precision):>4}  召回率 {pct(q.recall):>4}" for q in rows]
    return "\n".join(lines if rows else lines + ["  （还没有审核决定）"])
