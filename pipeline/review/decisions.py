"""Inspectors' decisions: each action appends one audit event and moves the inspector's pointer.

A decision carries a snapshot of the finding it was made on (item, span, machine points and a
fingerprint). When a rerun, rescore, lexicon change or swap changes or drops that finding, the
decision is not touched: `needs_rereview` compares the snapshot with the finding now in the index.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from pipeline.review.db import transaction
from pipeline.review.inputs import finite
from pipeline.review.view import MAX_CLOCK_S

# Reasons an inspector gives for rejecting a suggestion (issue 14); the keys are stored.
REASONS = {
    "wrong": "误报",
    "wrong_evidence": "证据不对",
    "wrong_points": "扣分不当",
    "other": "其他",
}
VERDICTS = {
    "": "未审核",
    "confirmed": "确认扣分",
    "rejected": "驳回",
    "missed": "补充扣分",
    "withdrawn": "已撤回",
}
MAX_POINTS = 100.0  # a deduction can never exceed the full marks of the 100-point scale (seed 002)


@dataclass(frozen=True, slots=True)
class Decision:
    seq: int
    at: str
    user: str
    call_id: str
    finding_id: str
    action: str
    verdict: str
    reason: str
    points: float | None  # the inspector's points; None = the machine's
    comment: str
    item: str
    start_s: float | None
    end_s: float | None
    machine_points: float | None
    fingerprint: str

    @property
    def missed(self) -> bool:
        return self.finding_id.startswith("m-")


_COLUMNS = (
    "seq, at, user, call_id, finding_id, action, verdict, reason, points, comment, item, "
    "start_s, end_s, machine_points, fingerprint"
)


_NUMBERS = {"points": MAX_POINTS, "machine_points": MAX_POINTS, "start_s": MAX_CLOCK_S,
            "end_s": MAX_CLOCK_S}


def _decision(row: sqlite3.Row) -> Decision:
    """A stored event; a number no decision can have (NaN, inf, 1e308, negative: rows stored
    before issue #28's checks) reads as None, so it deducts nothing and every page renders."""
    return Decision(*(
        finite(row[k], 0.0, _NUMBERS[k]) if k in _NUMBERS and row[k] is not None else row[k]
        for k in (c.strip() for c in _COLUMNS.split(","))
    ))


def current(conn: sqlite3.Connection, call_id: str, user: str | None) -> list[Decision]:
    """Latest decision per finding for one inspector (user=None: everyone's, for leads)."""
    sql = (
        f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))} FROM decisions d "
        "JOIN events e ON e.seq = d.seq WHERE d.call_id = ?"
    )
    args: list[Any] = [call_id]
    if user is not None:
        sql += " AND d.user = ?"
        args.append(user)
    return [_decision(r) for r in conn.execute(sql + " ORDER BY e.start_s, e.seq", args)]


def history(conn: sqlite3.Connection, call_id: str, user: str | None) -> list[Decision]:
    sql = f"SELECT {_COLUMNS} FROM events WHERE call_id = ?"
    args: list[Any] = [call_id]
    if user is not None:
        sql += " AND user = ?"
        args.append(user)
    return [_decision(r) for r in conn.execute(sql + " ORDER BY seq DESC", args)]


def needs_rereview(d: Decision, findings: dict[str, dict[str, Any]]) -> bool:
    """The finding this was decided on changed or disappeared (missed deductions never do)."""
    if d.missed or not d.verdict:
        return False
    f = findings.get(d.finding_id)
    return f is None or f["fingerprint"] != d.fingerprint


def decide(
    conn: sqlite3.Connection,
    user: str,
    finding: dict[str, Any],
    action: str,
    *,
    reason: str = "",
    points: float | None = None,
    comment: str | None = None,
) -> Decision:
    """Apply confirm | reject | points | comment to a machine finding (a row of findings_index)."""
    if action == "reject" and reason not in REASONS:
        raise ValueError("请选择驳回原因")
    if action == "points":
        points = _points(points)
    with transaction(conn):
        prev = _latest(conn, finding["id"], user)
        verdict = prev.verdict if prev else ""
        new_points = prev.points if prev else None
        new_reason = prev.reason if prev else ""
        if action == "confirm":  # the machine's suggestion as it stands
            verdict, new_points, new_reason = "confirmed", None, ""
        elif action == "reject":
            verdict, new_reason = "rejected", reason
        elif action == "points":
            verdict, new_points, new_reason = "confirmed", points, ""
        elif action != "comment":
            raise ValueError("未知的操作")
        text = (comment if comment is not None else (prev.comment if prev else "")).strip()[:2000]
        return _append(conn, user=user, call_id=finding["call_id"], finding_id=finding["id"],
                       action=action, verdict=verdict, reason=new_reason, points=new_points,
                       comment=text, item=finding["item"], start_s=finding["start_s"],
                       end_s=finding["end_s"], machine_points=finding["points"],
                       fingerprint=finding["fingerprint"])


def add_missed(
    conn: sqlite3.Connection,
    user: str,
    call_id: str,
    item: str,
    start_s: float,
    end_s: float,
    points: float,
    comment: str,
) -> Decision:
    """A deduction the rules did not suggest (what recall is measured against)."""
    if not item:
        raise ValueError("请选择评分项")
    if not (0 <= start_s <= end_s <= MAX_CLOCK_S):  # also false for NaN and inf
        raise ValueError("起止时间不正确")
    with transaction(conn):
        return _append(conn, user=user, call_id=call_id, finding_id=f"m-{secrets.token_hex(8)}",
                       action="missed", verdict="missed", points=_points(points),
                       comment=comment.strip()[:2000], item=item, start_s=start_s, end_s=end_s)


def withdraw(conn: sqlite3.Connection, user: str, missed_id: str) -> Decision:
    with transaction(conn):
        prev = _latest(conn, missed_id, user)
        if prev is None or not prev.missed:
            raise ValueError("没有这条补充扣分")
        return _append(conn, user=user, call_id=prev.call_id, finding_id=missed_id,
                       action="withdraw", verdict="withdrawn", points=prev.points,
                       comment=prev.comment, item=prev.item, start_s=prev.start_s, end_s=prev.end_s)


def note(conn: sqlite3.Connection, user: str, call_id: str, action: str, comment: str) -> None:
    """A call-level event in the audit trail (e.g. swapping agent and customer)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO events (user, call_id, finding_id, action, verdict, comment) "
            "VALUES (?, ?, '', ?, '', ?)",
            (user, call_id, action, comment),
        )


def _points(points: float | None) -> float:
    if points is None or not (0 <= float(points) <= MAX_POINTS):  # NaN fails too
        raise ValueError(f"扣分必须在 0 到 {MAX_POINTS:g} 之间")
    return round(float(points), 2)


def _latest(conn: sqlite3.Connection, finding_id: str, user: str) -> Decision | None:
    row = conn.execute(
        f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM decisions d JOIN events e ON e.seq = d.seq "
        "WHERE d.finding_id = ? AND d.user = ?",
        (finding_id, user),
    ).fetchone()
    return _decision(row) if row else None


_EVENT_FIELDS = ("user", "call_id", "finding_id", "action", "verdict", "reason", "points", "comment",
                 "item", "start_s", "end_s", "machine_points", "fingerprint")


def _append(conn: sqlite3.Connection, **event: object) -> Decision:
    """One audit event (every field of `_EVENT_FIELDS`), and the pointer to it as the latest."""
    cur = conn.execute(
        f"INSERT INTO events ({', '.join(_EVENT_FIELDS)}) VALUES ({', '.join('?' * len(_EVENT_FIELDS))})",
        tuple(event.get(k, "") if k not in ("points", "start_s", "end_s", "machine_points")
              else event.get(k) for k in _EVENT_FIELDS),
    )
    conn.execute(
        "INSERT OR REPLACE INTO decisions (finding_id, user, call_id, seq) VALUES (?, ?, ?, ?)",
        (event["finding_id"], event["user"], event["call_id"], cur.lastrowid),
    )
    row = conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq = ?", (cur.lastrowid,)).fetchone()
    return _decision(row)
