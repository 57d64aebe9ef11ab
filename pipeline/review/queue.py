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


# The order as bands, each read in an index's order and stopping at the page: with sort=risk the
# calls at high risk (few) by calls_risk's risk, then the rest by calls_queue. One ORDER BY over
# the band expression sorted every call: 139 ms for the first page at 100,000 calls, against 0.
Band = tuple[str, list[tuple[str, bool]]]  # (condition, [(column, descending), …])


def _bands(sort: str, p: str = "", r: str = "") -> list[Band]:
    """The queue's bands for `sort`; `p` prefixes calls_index's columns, `r` calls_risk's."""
    rest = [(f"{p}points", True), (f"{p}min_conf", False), (f"{p}call_id", False)]
    if sort != "risk":
        return [("1", rest)]
    risk = f"{r}complaint_risk"
    return [(f"{risk} >= {HIGH_RISK}", [(risk, True), *rest]),
            (f"({risk} IS NULL OR {risk} < {HIGH_RISK})", rest)]


def _order_by(cols: list[tuple[str, bool]]) -> str:
    return ", ".join(f"{c} {'DESC' if desc else 'ASC'}" for c, desc in cols)


def _after(cols: list[tuple[str, bool]]) -> str:
    """Rows after (:k0, :k1, …) in the order of `cols`, written so an index on them can seek."""
    c, desc = cols[0]
    first = f"{c} {'<' if desc else '>'} :k{len(cols)}"
    if len(cols) == 1:
        return first
    return f"({first} OR ({c} = :k{len(cols)} AND {_after(cols[1:])}))"


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
    def per_status(cond: str) -> dict[str, int]:
        out = {k: 0 for k in STATUSES}
        sql = f"SELECT status, COUNT(*) AS n FROM ({base}) WHERE {cond} GROUP BY status"
        for r in conn.execute(sql, args):
            out[r["status"]] = r["n"]
        return out

    def of(c: dict[str, int]) -> int:
        return c[f.status] if f.status else sum(c.values())

    bands = _bands(f.sort)
    counts = per_status("1")  # no risk column: SQLite leaves calls_risk out of this scan
    total = of(counts)
    pages = max(1, -(-total // size))
    n = min(max(1, n), pages)
    in_first = of(per_status(bands[0][0])) if len(bands) == 2 else total  # by calls_risk_order
    sizes = [in_first, total - in_first] if len(bands) == 2 else [total]
    rows: list[dict[str, Any]] = []
    offset = (n - 1) * size
    for (cond, cols), band_n in zip(bands, sizes):
        if len(rows) < size and offset < band_n:
            sql = f"SELECT * FROM ({base}) WHERE (:status = '' OR status = :status) AND {cond} "
            sql += f"ORDER BY {_order_by(cols)} LIMIT :limit OFFSET :offset"
            got = conn.execute(sql, args | {"status": f.status, "limit": size - len(rows), "offset": offset})
            rows += [dict(r) for r in got]
        offset = max(0, offset - band_n)
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
    joins = "FROM calls_index c LEFT JOIN calls_risk r ON r.call_id = c.call_id"
    mine = False  # reached the current call's band: later bands are read from their start
    for cond, cols in _bands(sort, "c.", "r."):
        args: dict[str, Any] = {"viewer": viewer, "me": me}
        after = ""
        if not mine:
            # the current call's key as SQLite reads it, so the comparison sees the same values
            here = conn.execute(
                f"SELECT {cond}, {', '.join(c for c, _ in cols)} {joins} WHERE c.call_id = ?",
                (current["call_id"],),
            ).fetchone()
            if here is None:
                return None
            if not here[0]:
                continue
            mine = True
            args |= {f"k{len(cols) - i}": v for i, v in enumerate(here[1:])}
            after = f" AND {_after(cols)}"
        row = conn.execute(
            f"WITH x AS ({_DECIDED}) SELECT c.call_id {joins} LEFT JOIN x ON x.call_id = c.call_id "
            f"WHERE c.n_findings > 0 AND {_STATUS} != 'done' AND {cond}{after} "
            f"ORDER BY {_order_by(cols)} LIMIT 1",
            args,
        ).fetchone()
        if row:
            return row[0]
    return None


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
