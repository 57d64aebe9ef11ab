"""Signing in and out, and the lead's 登录会话 page (who is signed in; sign everyone else out).

A login passes the CSRF check, then the throttle (throttle.py: a 429 with Retry-After, the
password not even looked at), then argon2. A success starts a server-side session (sessions.py)
and puts only its id (and a fresh CSRF token) in the cookie: nothing from before the login is
kept, so a planted cookie cannot be fixed onto the victim's session.
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.review import auth, sessions, throttle
from pipeline.review.web import (
    checked_form,
    client_address,
    current_user,
    lead_or_refusal,
    refused,
    render,
    signed_in_form,
    state,
)


async def login_page(request: Request) -> Response:
    return render(request, "login.html")


async def login(request: Request) -> Response:
    form = await checked_form(request)
    if form is None:
        return refused()
    st, now = state(request), state(request).now()
    name, password = form.get("name", "").strip()[:64], form.get("password", "")
    address = client_address(request)
    wait = throttle.wait_s(st.conn, address, name, now, st.login_policy)
    if wait > 0:
        seconds = math.ceil(wait)
        r = render(request, "login.html", status=429, name=name,
                   error=f"登录尝试过于频繁，请 {seconds} 秒后再试")
        r.headers["Retry-After"] = str(seconds)
        return r
    verdict = auth.check(st.conn, name, password)
    throttle.audit(st.conn, name, address, verdict.outcome, now)
    if verdict.outcome in ("failed", "unknown"):
        throttle.failed(st.conn, address, name, now, st.login_policy)
        return render(request, "login.html", status=401, error="用户名或密码错误", name=name)
    if verdict.outcome == "disabled" or verdict.user is None:
        return render(request, "login.html", status=403, name=name,
                      error="这个账号已停用，请联系质检主管或管理员")
    throttle.succeeded(st.conn, name)
    sid = sessions.start(st.conn, verdict.user.name, verdict.epoch, address, now)
    request.session.clear()  # nothing from before the login survives it: no fixation
    request.session["sid"] = sid
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    if await checked_form(request) is None:
        return refused()
    st, user, sid = state(request), current_user(request), request.session.get("sid")
    if isinstance(sid, str):
        sessions.end(st.conn, sid)  # the row goes: a copy of this cookie is dead too
    if user is not None:
        throttle.audit(st.conn, user.name, client_address(request), "logout", st.now())
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def sessions_page(request: Request) -> Response:
    user = lead_or_refusal(request, "登录会话")
    if isinstance(user, Response):
        return user
    st = state(request)
    sid = request.session.get("sid")
    return render(
        request,
        "sessions.html",
        active=sessions.active(st.conn, st.now(), st.session_options, sid),
        events=throttle.recent(st.conn, 100),
        users=auth.list_users(st.conn),
        ended=request.query_params.get("ended", ""),
    )


async def end_sessions(request: Request) -> Response:
    """A lead signs everyone else out (a laptop lost, a password seen): every other session ends."""
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, _form = got
    if not user.is_lead:
        return refused("只有质检主管可以让其他人退出登录", 403)
    st = state(request)
    sid = request.session.get("sid")
    n = sessions.end_all(st.conn, keep=sid if isinstance(sid, str) else None)
    throttle.audit(st.conn, user.name, client_address(request), "ended", st.now(),
                   f"主管让其他所有人退出登录（{n} 个会话）")
    return RedirectResponse(f"/sessions?ended={n}", status_code=303)
