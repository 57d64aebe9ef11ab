"""Accounts: argon2 password hashes in review.db, two roles, and a login rate limit."""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.review.db import transaction

ROLES = ("inspector", "lead")
_HASHER = PasswordHasher()  # argon2id with the library's (OWASP-reviewed) defaults
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("callqa-no-such-user")


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


def add_user(conn: sqlite3.Connection, name: str, role: str, password: str) -> User:
    """Create or re-key an account (re-running `callqa users add` resets a forgotten password)."""
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ValueError("用户名不能为空、不能含空格，且不超过 64 个字符")
    if role not in ROLES:
        raise ValueError(f"角色必须是 {' 或 '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("密码至少 8 个字符")
    with transaction(conn):
        conn.execute(
            "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
            (name, role, _HASHER.hash(password)),
        )
    return User(name, role)


def authenticate(conn: sqlite3.Connection, name: str, password: str) -> User | None:
    row = conn.execute(
        "SELECT name, role, password_hash FROM users WHERE name = ?", (name,)
    ).fetchone()
    try:
        _HASHER.verify(row["password_hash"] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(row["name"], row["role"]) if row else None


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
    return User(row["name"], row["role"]) if row else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [
        User(r["name"], r["role"])
        for r in conn.execute("SELECT name, role FROM users ORDER BY name")
    ]


class LoginLimiter:
    """At most `attempts` failed logins per `window_s`, counted per client address and per user
    name (so neither one address guessing many names nor many addresses guessing one name works)."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0):
        self.attempts, self.window_s = attempts, window_s
        self.failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self.failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, client: str, name: str) -> bool:
        now = time.monotonic()
        return any(
            len(self._recent(k, now)) >= self.attempts for k in (f"ip:{client}", f"user:{name}")
        )

    def failed(self, client: str, name: str) -> None:
        now = time.monotonic()
        for k in (f"ip:{client}", f"user:{name}"):
            self._recent(k, now).append(now)
