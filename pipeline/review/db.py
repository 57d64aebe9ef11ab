"""The review database: `OUT/review.db`, embedded SQLite in WAL mode.

It holds what people do (accounts, decisions, assignments) and an index of the Parquet output
(`calls_index`, `findings_index`, see index.py) so the queue never globs 100,000 part files.

Decisions are an append-only audit trail (`events`: triggers refuse UPDATE and DELETE); the
`decisions` table only points at each inspector's latest event per finding, so the queue can join
on it. Every action is one transaction: a crash loses at most the click in flight.

Sign-ins live here too (`sessions`, `login_throttle`, `auth_events`, see sessions.py and
throttle.py), so the file is created 0600 before SQLite first opens it (files.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.review import files

DB_NAME = "review.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('inspector', 'lead')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    sessions_epoch INTEGER NOT NULL DEFAULT 0,  -- bumped by a new password: older sign-ins end
    disabled INTEGER NOT NULL DEFAULT 0         -- `callqa users disable`: no sign-in at all
);
-- One row per sign-in; the cookie carries the id, this table only its SHA-256, so a copy of
-- review.db opens no session. Deleting a row ends that session at its next request.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    epoch INTEGER NOT NULL,        -- users.sessions_epoch when it began
    created_at REAL NOT NULL,      -- unix seconds
    seen_at REAL NOT NULL,
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
-- Failed logins per key ('addr:…' or 'name:…'), kept across restarts (throttle.py).
CREATE TABLE IF NOT EXISTS login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at REAL NOT NULL
);
-- Every login, logout and forced sign-out: who (the name typed), from where, what came of it.
CREATE TABLE IF NOT EXISTS auth_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    outcome TEXT NOT NULL,         -- ok | failed | unknown | disabled | logout | ended
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS auth_events_ok ON auth_events (name, address, outcome, at);
CREATE TRIGGER IF NOT EXISTS auth_events_append_only_u BEFORE UPDATE ON auth_events
    BEGIN SELECT RAISE(ABORT, 'auth_events is an append-only audit trail'); END;
CREATE TRIGGER IF NOT EXISTS auth_events_append_only_d BEFORE DELETE ON auth_events
    BEGIN SELECT RAISE(ABORT, 'auth_events is an append-only audit trail'); END;
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
    """Open (creating if needed) OUT/review.db; autocommit, so `transaction` draws every boundary.

    The file is made 0600 before SQLite opens it (its -wal and -shm take the database's mode);
    one found wider is narrowed (`loose_files` tells the server to warn about it first)."""
    path = Path(out) / DB_NAME
    files.create_private(path)
    files.narrow(files.db_files(path))
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, kill -9 safe
    conn.execute("PRAGMA synchronous=FULL")  # a decision acknowledged is a decision on disk
    conn.execute("PRAGMA foreign_keys=ON")
    files.narrow(files.db_files(path))  # journal files an older callqa left 0644
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "users" in tables:
        _add_columns(conn, "users", {"sessions_epoch": "INTEGER NOT NULL DEFAULT 0",
                                     "disabled": "INTEGER NOT NULL DEFAULT 0"})
    conn.executescript(SCHEMA)
    # Before issue #28 the cookie key sat in review.db, readable by every local user: retire it
    # (the server keeps its key in OUT/review.key now), so a copy taken then signs nothing.
    conn.execute("DELETE FROM meta WHERE key = 'secret_key'")
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


def loose_files(out: str | Path) -> list[tuple[Path, int]]:
    """review.db, its journals and review.key where group or others may read them (narrowed
    here), as (path, old mode): the server warns, since the hashes may have been copied."""
    return files.narrow(files.db_files(Path(out) / DB_NAME) + [Path(out) / files.KEY_NAME])


def _add_columns(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE ADD COLUMN for each column a review.db made by an older callqa lacks."""
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    for name, decl in columns.items():
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
