"""The review database: `OUT/review.db`, embedded SQLite in WAL mode.

It holds what people do (accounts, decisions, assignments) and an index of the Parquet output
(`calls_index`, `findings_index`, see index.py) so the queue never globs 100,000 part files.

Decisions are an append-only audit trail (`events`: triggers refuse UPDATE and DELETE); the
`decisions` table only points at each inspector's latest event per finding, so the queue can join
on it. Every action is one transaction: a crash loses at most the click in flight.
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

DB_NAME = "review.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('inspector', 'lead')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
-- One row per click, never changed: who did what to which finding, and the finding as they saw it.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    user TEXT NOT NULL,
    call_id TEXT NOT NULL,
    finding_id TEXT NOT NULL,      -- a finding's id, or 'm-…' for a deduction the rules missed
    action TEXT NOT NULL,          -- confirm | reject | points | comment | missed | withdraw | swap
    verdict TEXT NOT NULL,         -- state after the action: '' | confirmed | rejected | missed | withdrawn
    reason TEXT NOT NULL DEFAULT '',
    points REAL,                   -- the inspector's points; NULL = the machine's
    comment TEXT NOT NULL DEFAULT '',
    item TEXT NOT NULL DEFAULT '',
    start_s REAL,
    end_s REAL,
    machine_points REAL,           -- the suggestion as decided on
    fingerprint TEXT NOT NULL DEFAULT ''  -- the finding's content then (index.fingerprint)
);
CREATE TRIGGER IF NOT EXISTS events_append_only_u BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events is an append-only audit trail'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_d BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events is an append-only audit trail'); END;
CREATE TABLE IF NOT EXISTS decisions (
    finding_id TEXT NOT NULL,
    user TEXT NOT NULL,
    call_id TEXT NOT NULL,
    seq INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (finding_id, user)
);
CREATE INDEX IF NOT EXISTS decisions_call ON decisions (call_id, user);
CREATE TABLE IF NOT EXISTS assignments (
    call_id TEXT NOT NULL,
    user TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (call_id, user)
);
CREATE TABLE IF NOT EXISTS index_dirs (dir TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS calls_index (
    call_id TEXT PRIMARY KEY,
    call_date TEXT NOT NULL,
    source TEXT NOT NULL,
    agent_id TEXT NOT NULL DEFAULT '',
    call_time TEXT NOT NULL DEFAULT '',
    duration_s REAL,
    n_findings INTEGER NOT NULL,
    points REAL NOT NULL,
    min_conf REAL NOT NULL,        -- lowest finding confidence (1 when none): the queue's 2nd key
    mtime_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS calls_risk (  -- issue #18: calls.complaint_risk, kept beside calls_index
    call_id TEXT PRIMARY KEY,
    complaint_risk REAL,           -- NULL: no customer state (mono, or output made before #18)
    risk_reasons TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS calls_risk_order ON calls_risk (complaint_risk DESC);
CREATE INDEX IF NOT EXISTS calls_queue ON calls_index (points DESC, min_conf, call_id);
CREATE INDEX IF NOT EXISTS calls_date ON calls_index (call_date);
CREATE INDEX IF NOT EXISTS calls_agent ON calls_index (agent_id);
CREATE TABLE IF NOT EXISTS findings_index (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    item TEXT NOT NULL,
    rule TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    points REAL NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    role TEXT NOT NULL,
    message TEXT NOT NULL,
    quote TEXT NOT NULL,
    confidence REAL NOT NULL,
    severity TEXT NOT NULL,
    fingerprint TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_call ON findings_index (call_id);
CREATE INDEX IF NOT EXISTS findings_rule ON findings_index (rule, call_id);
CREATE INDEX IF NOT EXISTS findings_item ON findings_index (item, call_id);
"""


def connect(out: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) OUT/review.db; autocommit, so `transaction` draws every boundary."""
    path = Path(out) / DB_NAME
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, kill -9 safe
    conn.execute("PRAGMA synchronous=FULL")  # a decision acknowledged is a decision on disk
    conn.execute("PRAGMA foreign_keys=ON")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.executescript(SCHEMA)
    if "calls_index" in tables and "calls_risk" not in tables:
        # a review.db made before issue #18: read every part again to fill calls_risk
        with transaction(conn):
            conn.execute("UPDATE calls_index SET mtime_ns = 0")
            conn.execute("DELETE FROM index_dirs")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def secret_key(conn: sqlite3.Connection) -> str:
    """The cookie-signing key, made once per OUT, so sessions survive a restart of the server."""
    with transaction(conn):
        row = conn.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()
        if row:
            return row["value"]
        key = secrets.token_urlsafe(48)
        conn.execute("INSERT INTO meta (key, value) VALUES ('secret_key', ?)", (key,))
        return key
