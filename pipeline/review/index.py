"""The queue's index of OUT: `calls_index` and `findings_index` in review.db, kept in step with the
Parquet parts without globbing them per request.

A call is done when its `calls` part is renamed into `OUT/calls/call_date=*/` (store.py), and a
rename changes the folder's mtime. So a refresh lists only the date folders (hundreds, not
100,000 files), re-lists just the folders whose mtime moved, and reads the parts whose own mtime
moved, many at a time through one pyarrow dataset.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.review.db import transaction

CALL_COLUMNS = ["call_id", "source", "agent_id", "call_time", "status", "duration_s"]
# issue #18; absent from parts written before it (read as NULL / "")
OPTIONAL_CALL_COLUMNS = ("complaint_risk", "risk_reasons")
FINDING_COLUMNS = [
    "id",
    "call_id",
    "item",
    "rule",
    "rule_name",
    "points",
    "start_s",
    "end_s",
    "role",
    "message",
    "quote",
    "confidence",
    "severity",
]


def fingerprint(f: dict[str, Any]) -> str:
    """What an inspector judged: if any of this changes, their decision needs a second look."""
    key = "|".join(
        str(f[k]) for k in ("item", "rule", "points", "start_s", "end_s", "message", "quote")
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def refresh(conn: sqlite3.Connection, out: Path) -> int:
    """Bring the index up to date with OUT; returns how many calls were (re)read."""
    calls_root = out / "calls"
    known = {r["dir"]: r["mtime_ns"] for r in conn.execute("SELECT dir, mtime_ns FROM index_dirs")}
    changed = 0
    present: set[str] = set()
    for entry in os.scandir(calls_root) if calls_root.is_dir() else ():
        if not (entry.is_dir() and entry.name.startswith("call_date=")):
            continue
        present.add(entry.name)
        mtime = entry.stat().st_mtime_ns
        if known.get(entry.name) != mtime:
            changed += _refresh_dir(conn, out, entry.name, mtime)
    for gone in set(known) - present:
        with transaction(conn):
            _drop(
                conn,
                [
                    r[0]
                    for r in conn.execute(
                        "SELECT call_id FROM calls_index WHERE call_date = ?",
                        (gone.split("=", 1)[1],),
                    )
                ],
            )
            conn.execute("DELETE FROM index_dirs WHERE dir = ?", (gone,))
    return changed


def _refresh_dir(conn: sqlite3.Connection, out: Path, dirname: str, dir_mtime: int) -> int:
    date = dirname.split("=", 1)[1]
    parts = {}
    for e in os.scandir(out / "calls" / dirname):
        if e.name.endswith(".parquet") and not e.name.startswith("."):
            parts[e.name[: -len(".parquet")]] = e.stat().st_mtime_ns
    indexed = {
        r["call_id"]: r["mtime_ns"]
        for r in conn.execute(
            "SELECT call_id, mtime_ns FROM calls_index WHERE call_date = ?", (date,)
        )
    }
    stale = [cid for cid, m in parts.items() if indexed.get(cid) != m]
    calls = _read(out / "calls" / dirname, stale, CALL_COLUMNS, OPTIONAL_CALL_COLUMNS)
    findings = _read(out / "findings" / dirname, stale, FINDING_COLUMNS)
    by_call: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_call.setdefault(f["call_id"], []).append(f)
    with transaction(conn):
        _drop(conn, [cid for cid in indexed if cid not in parts] + stale)
        for c in calls:
            if c["call_id"] not in parts:
                continue
            fs = by_call.get(c["call_id"], []) if c["status"] == "ok" else []
            conn.execute(
                "INSERT OR REPLACE INTO calls_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c["call_id"],
                    date,
                    c["source"],
                    c["agent_id"] or "",
                    str(c["call_time"] or ""),
                    c["duration_s"],
                    len(fs),
                    round(sum(f["points"] for f in fs), 4),
                    min((f["confidence"] for f in fs), default=1.0),
                    parts[c["call_id"]],
                ),
            )
            ok = c["status"] == "ok"
            conn.execute(
                "INSERT OR REPLACE INTO calls_risk VALUES (?, ?, ?)",
                (
                    c["call_id"],
                    c.get("complaint_risk") if ok else None,
                    (c.get("risk_reasons") or "") if ok else "",
                ),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO findings_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [tuple(f[k] for k in FINDING_COLUMNS) + (fingerprint(f),) for f in fs],
            )
        # A part renamed in within the same clock tick as this listing would not move the mtime
        # again: leave a folder touched in the last 2 s marked unread, so the next refresh looks.
        settled = time.time_ns() - dir_mtime > 2_000_000_000
        conn.execute(
            "INSERT OR REPLACE INTO index_dirs VALUES (?, ?)",
            (dirname, dir_mtime if settled else 0),
        )
    return len(stale)


def _read(
    folder: Path, call_ids: list[str], columns: list[str], optional: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    import pyarrow.dataset as ds  # here, not at the top: it imports pandas (0.3 s) on every callqa start

    paths = [str(p) for cid in call_ids if (p := folder / f"{cid}.parquet").exists()]
    if not paths:
        return []
    data = ds.dataset(paths, format="parquet")  # the schema is the first part's
    if not set(optional) <= set(data.schema.names):
        # a part from before a column existed came first (only across an upgrade): take the union
        # of every part's columns, so the newer parts keep theirs and the older read as null
        schema = pa.unify_schemas([f.physical_schema for f in data.get_fragments()])
        data = ds.dataset(paths, format="parquet", schema=schema)
    names = set(data.schema.names)
    return data.to_table(columns=columns + [c for c in optional if c in names]).to_pylist()


def _drop(conn: sqlite3.Connection, call_ids: list[str]) -> None:
    # Only the index forgets the call: decisions stay, and show as "needs re-review".
    for cid in call_ids:
        conn.execute("DELETE FROM findings_index WHERE call_id = ?", (cid,))
        conn.execute("DELETE FROM calls_index WHERE call_id = ?", (cid,))
        conn.execute("DELETE FROM calls_risk WHERE call_id = ?", (cid,))
