"""Login throttling that slows a guesser without locking the account's owner out, and the audit.

Failed logins are counted per client address and per name in review.db (so a restart forgives
nothing). After `free` failures each further one doubles the wait before the next attempt:

- per address up to 15 minutes: one address trying many names (or one name very often) slows
  to a few guesses an hour;
- per name only up to 30 seconds, and not at all from an address the owner signed in from
  before: someone else's failures on `zhang` from another desk delay zhang a few seconds at
  most, never lock zhang out (the old rule locked a name for 5 minutes from everywhere).

An attempt made while waiting is answered 429 without looking at the password, so it neither
counts nor tells anything. Every login, successful or not, is one row of `auth_events`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from pipeline.review.db import transaction


@dataclass(frozen=True, slots=True)
class Policy:
    """free: failures that cost nothing (typos), per key; the OWASP cheat sheet's "3–5".
    base_s: the first wait; it doubles with every further failure.
    address_cap_s / name_cap_s: the longest wait per address (900 s) and per name (30 s): the
        name's is short because anyone can make a known name fail.
    known_s: an address the name signed in from within 30 days skips the name's wait.
    forget_s: a key whose last failure is a day old starts again from nothing."""

    free: int = 5
    base_s: float = 1.0
    address_cap_s: float = 900.0
    name_cap_s: float = 30.0
    known_s: float = 30 * 86400.0
    forget_s: float = 86400.0


def delay_s(failures: int, cap_s: float, p: Policy) -> float:
    """The wait after `failures` failures: 0 up to `free`, then base, 2·base, 4·base … ≤ cap."""
    if failures < p.free:
        return 0.0
    return min(cap_s, p.base_s * 2.0 ** min(failures - p.free, 30))


def _waits(conn: sqlite3.Connection, key: str, cap_s: float, now: float, p: Policy) -> float:
    row = conn.execute(
        "SELECT failures, last_at FROM login_throttle WHERE key = ?", (key,)
    ).fetchone()
    if row is None or now - row["last_at"] > p.forget_s:
        return 0.0
    return max(0.0, row["last_at"] + delay_s(row["failures"], cap_s, p) - now)


def known(conn: sqlite3.Connection, name: str, address: str, now: float, p: Policy) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM auth_events WHERE name = ? AND address = ? AND outcome = 'ok' "
            "AND at > ? LIMIT 1",
            (name, address, now - p.known_s),
        ).fetchone()
        is not None
    )


def wait_s(conn: sqlite3.Connection, address: str, name: str, now: float, p: Policy) -> float:
    """Seconds before this address may try this name again (0: go ahead)."""
    w = _waits(conn, f"addr:{address}", p.address_cap_s, now, p)
    if not known(conn, name, address, now, p):
        w = max(w, _waits(conn, f"name:{name}", p.name_cap_s, now, p))
    return w


def failed(conn: sqlite3.Connection, address: str, name: str, now: float, p: Policy) -> None:
    with transaction(conn):
        for key in (f"addr:{address}", f"name:{name}"):
            row = conn.execute(
                "SELECT failures, last_at FROM login_throttle WHERE key = ?", (key,)
            ).fetchone()
            n = 1 if row is None or now - row["last_at"] > p.forget_s else row["failures"] + 1
            conn.execute(
                "INSERT OR REPLACE INTO login_throttle (key, failures, last_at) VALUES (?, ?, ?)",
                (key, n, now),
            )


def succeeded(conn: sqlite3.Connection, name: str) -> None:
    """The owner proved the password: the name's count starts again. The address's does not,
    or an attacker with one account of their own could wipe their slate by using it."""
    with transaction(conn):
        conn.execute("DELETE FROM login_throttle WHERE key = ?", (f"name:{name}",))


def audit(
    conn: sqlite3.Connection, name: str, address: str, outcome: str, now: float, detail: str = ""
) -> None:
    """One auth_events row (append-only): ok | failed | unknown | disabled | logout | ended."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO auth_events (at, name, address, outcome, detail) VALUES (?, ?, ?, ?, ?)",
            (now, name[:64], address[:64], outcome, detail[:200]),
        )


def recent(conn: sqlite3.Connection, n: int = 50) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM auth_events ORDER BY seq DESC LIMIT ?", (n,)).fetchall()
