"""Decisions out to Parquet, next to the batch's tables:

    OUT/reviews/reviews.parquet       one row per (finding, inspector): the latest decision, the
                                      machine's suggestion and the human value side by side;
                                      join with `findings` on finding_id = id
    OUT/review_events/events.parquet  the whole audit trail, one row per action

Written atomically (tmp + rename) by `callqa reviews export OUT` and when `callqa review` stops,
mode 0600 (files.write_private): decisions and comments are the reviewers' to share, by chmod or
copy, not every local account's. A number no decision can have (NaN, inf: a row stored before
issue #28's input checks) is exported as null.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow as pa

from pipeline.review import index
from pipeline.review.decisions import MAX_POINTS
from pipeline.review.files import write_private
from pipeline.review.inputs import finite
from pipeline.review.view import MAX_CLOCK_S

_BOUNDS = {"points": MAX_POINTS, "machine_points": MAX_POINTS, "start_s": MAX_CLOCK_S,
           "end_s": MAX_CLOCK_S}


def _clean(r: sqlite3.Row, key: str) -> float | None:
    return None if r[key] is None else finite(r[key], 0.0, _BOUNDS[key])

REVIEWS = pa.schema(
    [
        ("finding_id", pa.string()),  # = findings.id; 'm-…' for a deduction the rules missed
        ("call_id", pa.string()),
        ("inspector", pa.string()),
        ("inspector_role", pa.string()),
        ("kind", pa.string()),  # suggested | missed
        ("verdict", pa.string()),  # confirmed | rejected | missed | withdrawn | '' (comment only)
        ("reason", pa.string()),  # wrong | wrong_evidence | wrong_points | other (for rejected)
        ("item", pa.string()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("machine_points", pa.float64()),  # the suggestion as decided on
        ("human_points", pa.float64()),  # the inspector's own value; null = took the machine's
        ("points", pa.float64()),  # what the decision deducts (0 when rejected)
        ("comment", pa.string()),
        ("needs_rereview", pa.bool_()),  # its finding changed or disappeared since
        ("decided_at", pa.string()),
        ("n_actions", pa.int64()),  # audit events behind this decision
    ]
)

EVENTS = pa.schema(
    [
        ("seq", pa.int64()),
        ("at", pa.string()),
        ("user", pa.string()),
        ("call_id", pa.string()),
        ("finding_id", pa.string()),
        ("action", pa.string()),
        ("verdict", pa.string()),
        ("reason", pa.string()),
        ("points", pa.float64()),
        ("comment", pa.string()),
        ("item", pa.string()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("machine_points", pa.float64()),
        ("fingerprint", pa.string()),
    ]
)


def review_rows(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("""
        SELECT e.*, u.role AS inspector_role, f.fingerprint AS now_fingerprint, f.id AS now_id,
               (SELECT COUNT(*) FROM events a WHERE a.finding_id = d.finding_id AND a.user = d.user) AS n_actions
        FROM decisions d JOIN events e ON e.seq = d.seq
        LEFT JOIN users u ON u.name = d.user
        LEFT JOIN findings_index f ON f.id = d.finding_id
        ORDER BY e.call_id, e.start_s, d.user""").fetchall()
    out = []
    for r in rows:
        missed = r["finding_id"].startswith("m-")
        machine = _clean(r, "machine_points")
        human = _clean(r, "points")
        effective = 0.0
        if r["verdict"] in ("confirmed", "missed"):
            effective = human if human is not None else (machine or 0.0)
        out.append(
            {
                "finding_id": r["finding_id"],
                "call_id": r["call_id"],
                "inspector": r["user"],
                "inspector_role": r["inspector_role"] or "",
                "kind": "missed" if missed else "suggested",
                "verdict": r["verdict"],
                "reason": r["reason"],
                "item": r["item"],
                "start_s": _clean(r, "start_s"),
                "end_s": _clean(r, "end_s"),
                "machine_points": machine,
                "human_points": human,
                "points": effective,
                "comment": r["comment"],
                "needs_rereview": bool(
                    not missed
                    and r["verdict"]
                    and (r["now_id"] is None or r["now_fingerprint"] != r["fingerprint"])
                ),
                "decided_at": r["at"],
                "n_actions": r["n_actions"],
            }
        )
    return out


def export(conn: sqlite3.Connection, out: Path) -> tuple[Path, int]:
    """Refresh the index (so needs_rereview is current), then write both tables."""
    index.refresh(conn, out)
    reviews = review_rows(conn)
    path = out / "reviews" / "reviews.parquet"
    write_private(pa.Table.from_pylist(reviews, schema=REVIEWS), path)
    events = [
        {k: _clean(r, k) if k in _BOUNDS else r[k] for k in EVENTS.names}
        for r in conn.execute("SELECT * FROM events ORDER BY seq")
    ]
    write_private(
        pa.Table.from_pylist(events, schema=EVENTS), out / "review_events" / "events.parquet"
    )
    return path, len(reviews)
