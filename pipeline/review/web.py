"""What every handler shares: the app's state, who is asking, CSRF and templates.

Who is asking is a server-side session (sessions.py) named by the cookie; the security headers
are security.py's middleware, on every response.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from pipeline.review import auth, index, queue, sessions, throttle
from pipeline.review.inputs import finite
from pipeline.review.score import Caps
from pipeline.review.view import clock
from pipeline.scorecard import Scorecard

HERE = Path(__file__).parent
# Autoescape everything: transcripts, quotes, comments and names are untrusted text.
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["clock"] = clock
ENV.filters["pts"] = lambda v: "" if v is None else f"{v:g}" if finite(v) is not None else "—"
ENV.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


@dataclass
class State:
    out: Path
    conn: sqlite3.Connection
    card: Scorecard
    caps: Caps
    audio_root: Path | None
    session_options: sessions.Options = field(default_factory=sessions.Options)
    login_policy: throttle.Policy = field(default_factory=throttle.Policy)
    now: Callable[[], float] = time.time  # unix seconds; tests move it instead of sleeping
    lock: threading.Lock = field(default_factory=threading.Lock)
    refreshed: float = 0.0
    _choices: dict[str, list[str]] | None = None

    def refresh(self, every_s: float = 2.0) -> None:
        """Pick up calls the batch wrote since the last look (cheap: lists date folders only)."""
        with self.lock:
            if time.monotonic() - self.refreshed >= every_s:
                if index.refresh(self.conn, self.out):
                    self._choices = None
                self.refreshed = time.monotonic()

    def choices(self) -> dict[str, list[str]]:
        """The filter drop-downs' values, recomputed only when the index changed (65 ms at 100k)."""
        if self._choices is None:
            self._choices = queue.choices(self.conn)
        return self._choices


def state(request: Request) -> State:
    return request.app.state.review


_NOBODY = object()


def current_user(request: Request) -> auth.User | None:
    """The user of the request's live session (looked up once per request, then remembered)."""
    cached = request.scope.get("callqa.user", _NOBODY)
    if cached is not _NOBODY:
        return cached  # type: ignore[return-value]
    sid, st = request.session.get("sid"), state(request)
    user = (
        sessions.lookup(st.conn, sid, st.now(), st.session_options)
        if isinstance(sid, str)
        else None
    )
    if user is None and "sid" in request.session:
        request.session.clear()  # an ended session: drop its id (and its CSRF token) from the cookie
    request.scope["callqa.user"] = user
    return user


def client_address(request: Request) -> str:
    """The peer's address; behind a trusted proxy uvicorn has already put the real client here."""
    return request.client.host if request.client and request.client.host else "?"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> dict[str, str] | None:
    """The POSTed form, or None when its CSRF token (field `csrf` or header X-CSRF-Token) is wrong."""
    form = await request.form()
    sent = request.headers.get("x-csrf-token") or form.get("csrf") or ""
    expected = request.session.get("csrf")
    if (
        not isinstance(expected, str)
        or not isinstance(sent, str)
        or not secrets.compare_digest(sent, expected)
    ):
        return None
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def signed_in_form(request: Request) -> tuple[auth.User, dict[str, str]] | Response:
    """The user and the CSRF-checked form of a state-changing request, or the refusal to send:
    one place decides both, in this order, for every POST but the login."""
    user = current_user(request)
    if user is None:
        return to_login(request)
    form = await checked_form(request)
    if form is None:
        return refused()
    return user, form


def lead_or_refusal(request: Request, what: str) -> auth.User | Response:
    """The signed-in lead for a leads-only page, or what to send instead: the login for nobody,
    a 403 page naming `what` (e.g. 校准结果) for an inspector."""
    user = current_user(request)
    if user is None:
        return to_login(request)
    if not user.is_lead:
        return render(request, "error.html", status=403, message=f"只有质检主管可以查看{what}")
    return user


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    user = current_user(request)
    html = ENV.get_template(template).render(
        request=request, user=user, csrf=csrf_token(request), **ctx
    )
    return HTMLResponse(html, status_code=status)


def fragment(name: str, **ctx: Any) -> str:
    return ENV.get_template(name).render(**ctx)


def to_login(request: Request) -> Response:
    if wants_json(request) or request.method != "GET":
        return JSONResponse({"error": "请先登录"}, status_code=401)
    return RedirectResponse("/login", status_code=303)


def refused(
    message: str = "请求无效（安全校验失败），请刷新页面后重试", status: int = 403
) -> Response:
    return JSONResponse({"error": message}, status_code=status)
