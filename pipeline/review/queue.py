"""The review queue: calls with suggestions, what most needs a human first.

Order: suggested points (most first), then the lowest finding confidence (least sure first).
Everything is one SQL query on the index in review.db, so a page costs the same with 100,000
calls as with ten. A call's review status is per viewer: an inspector's own decisions, or for a
lead anyone's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

STATUSES = {"todo": "未审核", "doing": "审核中", "done": "已审核", "stale": "需复核"}
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Filters:
    date_from: str = ""
    date_to: str = ""
    agent: str = ""
    rule: str = ""
    item: str = ""
    status: str = ""
    assigned: bool = False  # only calls assigned to the viewer
    all_calls: bool = False  # include calls without suggestions
    sampled: bool = False  # only calls drawn by `callqa sample` (clean ones included)

    @classmethod
    def from_query(cls, q: Any) -> Filters:
        def get(k: str) -> str:
            return str(q.get(k, "")).strip()[:100]

        status = get("status")
        return cls(
            get("date_from"),
            get("date_to"),
            get("agent"),
            get("rule"),
            get("item"),
            status if status in STATUSES else "",
            get("assigned") == "1",
            get("all") == "1",
            get("sampled") == "1",
        )


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    counts: dict[str, int]  # per status, over the filtered calls
    total: int  # calls matching the filters (status filter included)
    page: int
    pages: int


# Per call, for the viewer: decisions still valid, and decisions whose finding changed or went.
_DECIDED = """
SELECT d.call_id,
       COUNT(DISTINCT CASE WHEN e.verdict IN ('confirmed', 'rejected') AND f.fingerprint = e.fingerprint
                           THEN d.finding_id END) AS decided,
       SUM(CASE WHEN e.verdict IN ('confirmed', 'rejected')
                 AND (f.id IS NULL OR f.fingerprint != e.fingerprint) THEN 1 ELSE 0 END) AS stale
FROM decisions d JOIN events e ON e.seq = d.seq LEFT JOIN findings_index f ON f.id = d.finding_id
WHERE (:viewer IS NULL OR d.user = :viewer)
GROUP BY d.call_id
"""

_STATUS = """CASE WHEN COALESCE(x.stale, 0) > 0 THEN 'stale'
                 WHEN COALESCE(x.decided, 0) = 0 THEN 'todo'
                 WHEN x.decided >= c.n_findings THEN 'done' ELSE 'doing' END"""


def _where(f: Filters, args: dict[str, Any]) -> str:
    clauses = [] if f.all_calls or f.sampled else ["c.n_findings > 0"]
    if f.sampled:  # table `samples`: pipeline/sampling_commands.py, created when the app starts
        clauses.append("c.call_id IN (SELECT call_id FROM samples)")
    if f.date_from:
        clauses.append("c.call_date >= :date_from")
        args["date_from"] = f.date_from
    if f.date_to:
        clauses.append("c.call_date <= :date_to")
        args["date_to"] = f.date_to
    if f.agent:
        clauses.append("c.agent_id = :agent")
        args["agent"] = f.agent
    # EXISTS probes the (rule, call_id) index per call; `IN (SELECT …)` was planned as a scan
    # (4x slower at 100,000 findings, bench/review_queue.py).
    if f.rule:
        clauses.append(
            "EXISTS (SELECT 1 FROM findings_index r WHERE r.rule = :rule AND r.call_id = c.call_id)"
        )
        args["rule"] = f.rule
    if f.item:
        clauses.append(
            "EXISTS (SELECT 1 FROM findings_index i WHERE i.item = :item AND i.call_id = c.call_id)"
        )
        args["item"] = f.item
    if f.assigned:
        clauses.append("c.call_id IN (SELECT call_id FROM assignments WHERE user = :me)")
    return " AND ".join(clauses) or "1"


def page(
    conn: sqlite3.Connection,
    f: Filters,
    viewer: str | None,
    me: str,
    n: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the queue; viewer=None counts everyone's decisions (a lead's view)."""
    args: dict[str, Any] = {"viewer": viewer, "me": me}
    base = (
        f"WITH x AS ({_DECIDED}) SELECT c.*, {_STATUS} AS status FROM calls_index c "
        f"LEFT JOIN x ON x.call_id = c.call_id WHERE {_where(f, args)}"
    )
    counts = {k: 0 for k in STATUSES}
    for r in conn.execute(f"SELECT status, COUNT(*) AS n FROM ({base}) GROUP BY status", args):
        counts[r["status"]] = r["n"]
    total = counts[f.status] if f.status else sum(counts.values())
    pages = max(1, -(-total // size))
    n = min(max(1, n), pages)
    sql = f"SELECT * FROM ({base}) WHERE (:status = '' OR status = :status) "
    sql += "ORDER BY points DESC, min_conf ASC, call_id LIMIT :limit OFFSET :offset"
    rows = [
        dict(r)
        for r in conn.execute(
            sql, args | {"status": f.status, "limit": size, "offset": (n - 1) * size}
        )
    ]
    return Page(rows, counts, total, n, pages)


def next_call(
    conn: sqlite3.Connection, current: dict[str, Any], viewer: str | None, me: str
) -> str | None:
    """The call after `current` in queue order that still needs this viewer (not 已审核)."""
    args: dict[str, Any] = {
        "viewer": viewer,
        "me": me,
        "p": current["points"],
        "mc": current["min_conf"],
        "id": current["call_id"],
    }
    sql = (
        f"WITH x AS ({_DECIDED}) SELECT c.call_id FROM calls_index c "
        f"LEFT JOIN x ON x.call_id = c.call_id WHERE c.n_findings > 0 AND {_STATUS} != 'done' "
        "AND (c.points < :p OR (c.points = :p AND (c.min_conf > :mc "
        "OR (c.min_conf = :mc AND c.call_id > :id)))) "
        "ORDER BY c.points DESC, c.min_conf ASC, c.call_id LIMIT 1"
    )
    row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


def choices(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Values for the filter drop-downs (distinct over indexed columns: fast)."""
    return {
        "agents": [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT agent_id FROM calls_index WHERE agent_id != '' ORDER BY 1 LIMIT 500"
            )
        ],
        "rules": [
            r[0] for r in conn.execute("SELECT DISTINCT rule FROM findings_index ORDER BY 1")
        ],
        "items": [
            r[0] for r in conn.execute("SELECT DISTINCT item FROM findings_index ORDER BY 1")
        ],
    }
