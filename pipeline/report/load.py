"""What a report reads from OUT: calls, turns and findings of a date range, and the inspectors'
decisions from `OUT/review.db`. The only I/O of the report apart from writing its files.

Dates are the store's `call_date` partitions (YYYY-MM-DD from the file name, see
pipeline/metadata.py), so a range reads only its own folders. Calls stored under `unknown` have
no date and cannot fall in any range; they are counted so the report can say so.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from pipeline.review.db import DB_NAME
from pipeline.store import Store
from pipeline.tables import CALLS, FINDINGS, TURNS

UNKNOWN_AGENT = "未知坐席"  # calls whose file name carried no agent id (no metadata.pattern match)

_PART = pa.schema([("call_date", pa.string())])
CALL_COLUMNS = ["call_id", "source", "agent_id", "status", "call_time", "duration_s", "points",
                "n_findings"]
TURN_COLUMNS = ["call_id", "role", "start_s", "end_s", "text"]
FINDING_COLUMNS = ["id", "call_id", "rule", "rule_name", "item", "points"]
DECISION_COLUMNS = ["call_id", "finding_id", "inspector", "inspector_role", "verdict", "item",
                    "points"]


@dataclass(frozen=True)
class Loaded:
    """The raw frames of one range (pandas, one row per call / turn / finding / decision)."""

    calls: pd.DataFrame  # call_id, agent_id, call_date, call_time, duration_s, points, n_findings
    turns: pd.DataFrame  # TURN_COLUMNS
    findings: pd.DataFrame  # FINDING_COLUMNS + call_date
    decisions: pd.DataFrame  # DECISION_COLUMNS; empty when nobody reviewed (or no review.db)
    has_review_db: bool
    undated: int  # ok calls stored without a date (never in a range)
    first: str | None  # earliest and latest call date stored (see `span`)
    last: str | None


def _dataset(out: Path, table: str, schema: pa.Schema) -> ds.Dataset:
    return ds.dataset(out / table, format="parquet", schema=schema.append(_PART.field(0)),
                      partitioning=ds.partitioning(_PART, flavor="hive"))


def _read(out: Path, table: str, schema: pa.Schema, columns: list[str],
          when: ds.Expression) -> pd.DataFrame:
    if not (out / table).is_dir():
        return pd.DataFrame(columns=[*columns, "call_date"])
    return _dataset(out, table, schema).to_table(columns=[*columns, "call_date"],
                                                 filter=when).to_pandas()


def span(out: Path) -> tuple[str | None, str | None]:
    """The earliest and latest call date stored in OUT (from folder names: reads no Parquet)."""
    dated = sorted(d for d in Store(out).dates.values() if d != "unknown")
    return (dated[0], dated[-1]) if dated else (None, None)


def load(out: Path, start: date, end: date) -> Loaded:
    """Everything a report on [start, end] (inclusive) needs from OUT."""
    where = Store(out).dates  # call_id → the date its current `calls` row is stored under
    s, e = start.isoformat(), end.isoformat()
    in_range = (ds.field("call_date") >= s) & (ds.field("call_date") <= e)
    calls = _read(out, "calls", CALLS, CALL_COLUMNS, in_range)
    # A call found under two dates (a run killed mid-move) counts once, where Store reads it.
    calls = calls[(calls["status"] == "ok") & (calls["call_id"].map(where) == calls["call_date"])]
    calls = calls.drop(columns="status").reset_index(drop=True)
    calls["agent_id"] = calls["agent_id"].fillna("").replace("", UNKNOWN_AGENT)
    calls["duration_s"] = calls["duration_s"].fillna(0.0).astype(float)
    ids = set(calls["call_id"])
    turns = _read(out, "turns", TURNS, TURN_COLUMNS, in_range)
    findings = _read(out, "findings", FINDINGS, FINDING_COLUMNS, in_range)
    # A call's parts count only under the date its `calls` row is stored at.
    turns = turns[turns["call_id"].isin(ids) & (turns["call_id"].map(where) == turns["call_date"])]
    findings = findings[findings["call_id"].isin(ids)
                        & (findings["call_id"].map(where) == findings["call_date"])]
    undated = _read(out, "calls", CALLS, ["call_id", "status"], ds.field("call_date") == "unknown")
    db = out / DB_NAME
    decisions = decisions_of(db, ids) if db.is_file() else _no_decisions()
    first, last = span(out)
    return Loaded(calls, turns.reset_index(drop=True), findings.reset_index(drop=True), decisions,
                  db.is_file(), int((undated["status"] == "ok").sum()), first, last)


def _no_decisions() -> pd.DataFrame:
    return pd.DataFrame(columns=DECISION_COLUMNS)


def decisions_of(db: Path, ids: set[str]) -> pd.DataFrame:
    """Each inspector's latest decision per finding (confirmed / rejected / missed) on `ids`.

    `points` is what the decision deducts, as the workbench exports it (review/export.py): the
    inspector's own value, else the machine's suggestion they confirmed; 0 when rejected.
    Opened read-only: a report never changes the review database.
    """
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("""
            SELECT e.call_id, e.finding_id, e.user AS inspector, COALESCE(u.role, '') AS role,
                   e.verdict, e.item, e.points, e.machine_points
            FROM decisions d JOIN events e ON e.seq = d.seq LEFT JOIN users u ON u.name = d.user
            WHERE e.verdict IN ('confirmed', 'rejected', 'missed')""").fetchall()
    except sqlite3.OperationalError:  # a review.db made before decisions existed
        return _no_decisions()
    finally:
        conn.close()
    out = []
    for r in rows:
        if r["call_id"] not in ids:
            continue
        human, machine = r["points"], r["machine_points"]
        points = 0.0 if r["verdict"] == "rejected" else (
            human if human is not None else (machine or 0.0))
        out.append((r["call_id"], r["finding_id"], r["inspector"], r["role"], r["verdict"],
                    r["item"], float(points)))
    return pd.DataFrame(out, columns=DECISION_COLUMNS)
