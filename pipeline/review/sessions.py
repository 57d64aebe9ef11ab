"""Server-side sessions: a sign-in is a row in review.db, so ending one is deleting the row.

The cookie (signed by Starlette's SessionMiddleware) carries a random session id; the table keeps
only its SHA-256. Each request looks the id up and checks, in one query, that the row is there,
that the account is not disabled, that its password has not changed since (`sessions_epoch`)
and that neither timeout has passed. So logout, a new password, `callqa users disable`, `callqa
users sign-out` and a lead's 全部退出 end sessions at once, even a cookie copied before.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from pipeline.review.auth import User
from pipeline.review.db import transaction


@dataclass(frozen=True, slots=True)
class Options:
    """How long a sign-in lasts (`callqa review --idle-hours/--session-days`).

    idle_s: 8 h without a request ends the session: one working day (seed 002's inspectors work
        a shift), so a browser left open overnight asks again.
    absolute_s: 7 days after the login it ends however busy it was, so a stolen cookie is not
        good for ever.
    touch_s: `seen_at` is written at most once a minute: reading pages is not a disk write (and
        an fsync) per request; the idle timeout is exact to that minute.
    """

    idle_s: float = 8 * 3600.0
    absolute_s: float = 7 * 86400.0
    touch_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Active:
    """One live sign-in, as the lead's 登录会话 page lists it."""

    user: str
    created_at: float
    seen_at: float
    address: str
    mine: bool


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(conn: sqlite3.Connection, user: str, epoch: int, address: str, now: float) -> str:
    """A new session for `user` (signed in under `epoch`); returns the id for the cookie."""
    sid = secrets.token_urlsafe(32)
    with transaction(conn):
        conn.execute(
            "INSERT INTO sessions (id_hash, user, epoch, created_at, seen_at, address) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(sid), user, epoch, now, now, address[:64]),
        )
    return sid


def lookup(conn: sqlite3.Connection, sid: str, now: float, opts: Options) -> User | None:
    """The user of a live session, or None (and the row gone) when it ended or timed out."""
    if not sid or len(sid) > 100:
        return None
    key = _hash(sid)
    row = conn.execute(
        "SELECT s.seen_at, s.created_at, s.epoch, u.name, u.role, u.disabled, u.sessions_epoch "
        "FROM sessions s JOIN users u ON u.name = s.user WHERE s.id_hash = ?",
        (key,),
    ).fetchone()
    if row is None:
        return None
    if (
        row["disabled"]
        or row["epoch"] != row["sessions_epoch"]
        or now - row["seen_at"] > opts.idle_s
        or now - row["created_at"] > opts.absolute_s
    ):
        end(conn, sid)
        return None
    if now - row["seen_at"] >= opts.touch_s:
        with transaction(conn):
            conn.execute("UPDATE sessions SET seen_at = ? WHERE id_hash = ?", (now, key))
    return User(row["name"], row["role"])


def end(conn: sqlite3.Connection, sid: str) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(sid),))


def end_user(conn: sqlite3.Connection, name: str) -> int:
    """End every session of `name` (a new password, disabling, `callqa users sign-out NAME`).
    Call inside the caller's transaction or alone; returns how many ended."""
    return conn.execute("DELETE FROM sessions WHERE user = ?", (name,)).rowcount


def end_all(conn: sqlite3.Connection, keep: str | None = None) -> int:
    """End every session but the one whose id is `keep` (the lead pressing 全部退出)."""
    with transaction(conn):
        return conn.execute(
            "DELETE FROM sessions WHERE id_hash != ?", (_hash(keep) if keep else "",)
        ).rowcount


def active(
    conn: sqlite3.Connection, now: float, opts: Options, mine: str | None = None
) -> list[Active]:
    """Sessions that have not timed out, newest activity first (expired rows are dropped here)."""
    with transaction(conn):
        conn.execute(
            "DELETE FROM sessions WHERE seen_at < ? OR created_at < ?",
            (now - opts.idle_s, now - opts.absolute_s),
        )
    me = _hash(mine) if mine else ""
    return [
        Active(r["user"], r["created_at"], r["seen_at"], r["address"], r["id_hash"] == me)
        for r in conn.execute(
            "SELECT s.* FROM sessions s JOIN users u ON u.name = s.user "
            "WHERE u.disabled = 0 AND s.epoch = u.sessions_epoch ORDER BY s.seen_at DESC"
        )
    ]
