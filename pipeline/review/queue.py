"""The review queue: calls with suggestions, what most needs a human first.

Order (`sort=risk`, the default): calls at high complaint risk first, riskiest first (issue #18:
"inspectors review the angry calls first"); then, and for every call with `sort=points`,
suggested points (most first), then the lowest finding confidence (least sure first).
Everything is one SQL query on the index in review.db, so a page costs the same with 100,000
calls as with ten. A call's review status is per viewer: an inspector's own decisions, or for a
lead anyone's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

STATUSES = {"todo": "未审核", "doing": "审核中", "done": "已审核", "stale": "需复核"}
SORTS = {"risk": "投诉风险优先", "points": "建议扣分优先"}
SORT_NOTES = {
    "risk": "高投诉风险的通话在前（风险从高到低），其余按建议扣分从多到少、置信度从低到高",
    "points": "按建议扣分从多到少、置信度从低到高",
}
PAGE_SIZE = 50
# calls.complaint_risk bands (pipeline/complaint.py). An upset turn (score >= 0.35 counts 0.28)
# with one aggravating reason (a complaint threat x0.5, an outburst left unanswered or argued
# with x0.65) lands at 0.53 or more, and an outburst the agent soothed mostly stays under: HIGH.
# MEDIUM: about one upset turn and nothing else.
HIGH_RISK = 0.5
MEDIUM_RISK = 0.25


RISK_LABELS = {"high": "高", "medium": "中", "low": "低"}


def risk_level(risk: float | None) -> str:
    """'high' | 'medium' | 'low' | '' (no customer state: mono or pre-#18 output)."""
    if risk is None:
        return ""
    return "high" if risk >= HIGH_RISK else "medium" if risk >= MEDIUM_RISK else "low"


# One call's index row with its risk (the call page, next_call).
CALL_ROW = (
    "SELECT c.*, r.complaint_risk, r.risk_reasons FROM calls_index c "
    "LEFT JOIN calls_risk r ON r.call_id = c.call_id WHERE c.call_id = ?"
)


def _order(sort: str, p: str = "", r: str = "") -> tuple[str, list[str]]:
    """(ORDER BY clause, its keyset: expressions whose row value grows along the order) for
    `sort`; `p` prefixes calls_index's columns, `r` calls_risk's."""
    keys = [f"-{p}points", f"{p}min_conf", f"{p}call_id"]
    order = f"{p}points DESC, {p}min_conf ASC, {p}call_id"  # the calls_queue index's order
    if sort == "risk":
        band = f"(COALESCE({r}complaint_risk, 0) >= {HIGH_RISK})"
        top = f"(CASE WHEN {band} THEN {r}complaint_risk ELSE 0 END)"
        order = f"{band} DESC, {top} DESC, " + order
        keys = [f"-{band}", f"-{top}", *keys]
    return order, keys


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
    sort: str = "risk"  # SORTS

    @classmethod
    def from_query(cls, q: Any) -> Filters:
        def get(k: str) -> str:
            return str(q.get(k, "")).strip()[:100]

        status, sort = get("status"), get("sort")
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
            sort if sort in SORTS else "risk",
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
        f"WITH x AS ({_DECIDED}) SELECT c.*, r.complaint_risk, r.risk_reasons, {_STATUS} AS status "
        "FROM calls_index c LEFT JOIN x ON x.call_id = c.call_id "
        f"LEFT JOIN calls_risk r ON r.call_id = c.call_id WHERE {_where(f, args)}"
    )
    counts = {k: 0 for k in STATUSES}
    for r in conn.execute(f"SELECT status, COUNT(*) AS n FROM ({base}) GROUP BY status", args):
        counts[r["status"]] = r["n"]
    total = counts[f.status] if f.status else sum(counts.values())
    pages = max(1, -(-total // size))
    n = min(max(1, n), pages)
    sql = f"SELECT * FROM ({base}) WHERE (:status = '' OR status = :status) "
    sql += f"ORDER BY {_order(f.sort)[0]} LIMIT :limit OFFSET :offset"
    rows = [
        dict(r)
        for r in conn.execute(
            sql, args | {"status": f.status, "limit": size, "offset": (n - 1) * size}
        )
    ]
    return Page(rows, counts, total, n, pages)


def next_call(
    conn: sqlite3.Connection,
    current: dict[str, Any],
    viewer: str | None,
    me: str,
    sort: str = "risk",
) -> str | None:
    """The call after `current` in queue order (`sort`) that still needs this viewer (not 已审核)."""
    sort = sort if sort in SORTS else "risk"
    order, keys = _order(sort, "c.", "r.")
    joins = "FROM calls_index c LEFT JOIN calls_risk r ON r.call_id = c.call_id"
    # The current call's key, computed by SQLite from its row: the comparison below sees the
    # same values, so no call is skipped or repeated at equal points or risk.
    here = conn.execute(
        f"SELECT {', '.join(keys)} {joins} WHERE c.call_id = ?", (current["call_id"],)
    ).fetchone()
    if here is None:
        return None
    args: dict[str, Any] = {"viewer": viewer, "me": me} | {f"k{i}": v for i, v in enumerate(here)}
    bound = ", ".join(f":k{i}" for i in range(len(keys)))
    sql = (
        f"WITH x AS ({_DECIDED}) SELECT c.call_id {joins} "
        f"LEFT JOIN x ON x.call_id = c.call_id WHERE c.n_findings > 0 AND {_STATUS} != 'done' "
        f"AND ({', '.join(keys)}) > ({bound}) ORDER BY {order} LIMIT 1"
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
