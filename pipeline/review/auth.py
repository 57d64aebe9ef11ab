"""Accounts: argon2 password hashes in review.db, two roles, disabling.

A new password (`callqa users add` again) or disabling an account ends its sessions in the same
transaction and bumps `sessions_epoch`, so a login racing the change cannot outlive it either.
Login throttling is throttle.py; the sessions themselves are sessions.py.
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.review.db import transaction

ROLES = ("inspector", "lead")
MAX_PASSWORD = 1024  # longer is refused unhashed: argon2 over megabytes is a cheap way to load us
_HASHER = PasswordHasher()  # argon2id with the library's (OWASP-reviewed) defaults


@functools.cache
def _dummy() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong
    password (made on first use: importing this module must not cost an argon2 hash)."""
    return _HASHER.hash("callqa-no-such-user")


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    disabled: bool = False

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a login attempt came to: `outcome` is ok | failed | unknown | disabled (the last only
    after a correct password, so a wrong one never tells whether the account exists)."""

    outcome: str
    user: User | None = None
    epoch: int = 0


def valid_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() or not c.isprintable() for c in name):
        raise ValueError("用户名不能为空、不能含空格，且不超过 64 个字符")
    return name


def add_user(conn: sqlite3.Connection, name: str, role: str, password: str) -> User:
    """Create or re-key an account (re-running `callqa users add` resets a forgotten password);
    a re-keyed account's sessions end, wherever they were signed in."""
    name = valid_name(name)
    if role not in ROLES:
        raise ValueError(f"角色必须是 {' 或 '.join(ROLES)}")
    if not 8 <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"密码至少 8 个字符，最多 {MAX_PASSWORD} 个")
    with transaction(conn):
        conn.execute(
            "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
            "password_hash = excluded.password_hash, sessions_epoch = sessions_epoch + 1",
            (name, role, _HASHER.hash(password)),
        )
        conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return User(name, role)


def set_disabled(conn: sqlite3.Connection, name: str, disabled: bool) -> bool:
    """Disable (ending every session) or enable an account; False when there is no such name."""
    with transaction(conn):
        n = conn.execute(
            "UPDATE users SET disabled = ?, sessions_epoch = sessions_epoch + ? WHERE name = ?",
            (int(disabled), int(disabled), name),
        ).rowcount
        if disabled:
            conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return n > 0


def check(conn: sqlite3.Connection, name: str, password: str) -> Verdict:
    """Verify a password; as slow for a name that does not exist as for a wrong password."""
    row = conn.execute(
        "SELECT name, role, password_hash, disabled, sessions_epoch FROM users WHERE name = ?",
        (name,),
    ).fetchone()
    if len(password) > MAX_PASSWORD:
        return Verdict("failed" if row else "unknown")
    try:
        _HASHER.verify(row["password_hash"] if row else _dummy(), password)
    except (VerificationError, InvalidHashError):
        return Verdict("failed" if row else "unknown")
    if row is None:
        return Verdict("unknown")
    user = User(row["name"], row["role"])
    return Verdict("disabled" if row["disabled"] else "ok", user, row["sessions_epoch"])


def authenticate(conn: sqlite3.Connection, name: str, password: str) -> User | None:
    v = check(conn, name, password)
    return v.user if v.outcome == "ok" else None


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute(
        "SELECT name, role, disabled FROM users WHERE name = ?", (name,)
    ).fetchone()
    return User(row["name"], row["role"], bool(row["disabled"])) if row else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [
        User(r["name"], r["role"], bool(r["disabled"]))
        for r in conn.execute("SELECT name, role, disabled FROM users ORDER BY name")
    ]
