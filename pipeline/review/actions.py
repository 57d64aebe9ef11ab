"""State-changing requests: log in and out, decide, add a missed deduction, swap the channels.

Every POST passes `signed_in_form` (session, then CSRF) first; the login passes `checked_form`. A form posted by a browser without JavaScript gets
a redirect back to the page; the page's script asks for JSON and swaps in the re-rendered parts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipeline.lock import BusyError
from pipeline.review import auth, media
from pipeline.review import decisions as dec
from pipeline.review.pages import call_context, findings_of
from pipeline.review.swap import swap_call
from pipeline.review.web import (
    checked_form,
    current_user,
    fragment,
    refused,
    render,
    secure,
    signed_in_form,
    state,
    wants_json,
)


async def login_page(request: Request) -> Response:
    return render(request, "login.html")


async def login(request: Request) -> Response:
    form = await checked_form(request)
    if form is None:
        return refused()
    st = state(request)
    name, password = form.get("name", "").strip()[:64], form.get("password", "")
    client = request.client.host if request.client else "?"
    if st.limiter.blocked(client, name):
        return render(request, "login.html", status=429, error="登录失败次数过多，请 5 分钟后再试")
    user = auth.authenticate(st.conn, name, password)
    if user is None:
        st.limiter.failed(client, name)
        return render(request, "login.html", status=401, error="用户名或密码错误", name=name)
    request.session.clear()  # a new session id on login: no fixation
    request.session["user"] = user.name
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    if await checked_form(request) is None:
        return refused()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _back(request: Request, call_id: str, anchor: str = "") -> Response:
    """JSON with the re-rendered findings and score for the page's script; else a redirect."""
    if not wants_json(request):
        return RedirectResponse(f"/calls/{call_id}{anchor}", status_code=303)
    st, user = state(request), current_user(request)
    assert user is not None
    ctx = call_context(st.conn, st.caps, call_id, user)
    return secure(
        JSONResponse(
            {
                "ok": True,
                "findings": fragment(
                    "_findings.html",
                    reasons=dec.REASONS,
                    verdicts=dec.VERDICTS,
                    caps=st.caps,
                    call={"call_id": call_id},
                    user=user,
                    csrf=request.session.get("csrf"),
                    **ctx,
                ),
                "score": fragment("_score.html", caps=st.caps, **ctx),
                "history": fragment(
                    "_history.html",
                    reasons=dec.REASONS,
                    history=dec.history(st.conn, call_id, None if user.is_lead else user.name)[
                        :200
                    ],
                ),
            }
        )
    )


async def decide(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, form = got
    st = state(request)
    call_id, fid = request.path_params["call_id"], request.path_params["finding_id"]
    finding = next((f for f in findings_of(st.conn, call_id) if f["id"] == fid), None)
    if finding is None:
        return refused("这条建议扣分已不存在（可能已重新评分），请刷新页面", 404)
    action = form.get("action", "")
    try:
        points = float(form["points"]) if action == "points" else None
        dec.decide(
            st.conn,
            user.name,
            finding,
            action,
            reason=form.get("reason", ""),
            points=points,
            comment=form.get("comment") if "comment" in form else None,
        )
    except (ValueError, KeyError) as e:
        return refused(str(e) if isinstance(e, ValueError) and str(e) else "输入无效", 400)
    return _back(request, call_id, f"#f-{fid}")


async def missed(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, form = got
    st, call_id = state(request), request.path_params["call_id"]
    if (
        st.conn.execute("SELECT 1 FROM calls_index WHERE call_id = ?", (call_id,)).fetchone()
        is None
    ):
        return refused("没有这通电话", 404)
    item = form.get("item", "")
    if item not in st.caps.titles:
        return refused("请选择评分项", 400)
    try:
        start, end = float(form.get("start_s", "")), float(form.get("end_s", ""))
        default = next(i.points for i in st.card.items if i.id == item)
        points = float(form["points"]) if form.get("points") else default
        dec.add_missed(
            st.conn, user.name, call_id, item, start, end, points, form.get("comment", "")
        )
    except ValueError as e:
        return refused(
            str(e) if "扣分" in str(e) or "时间" in str(e) else "起止时间或分值无效", 400
        )
    return _back(request, call_id, "#missed")


async def withdraw(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, _form = got
    try:
        dec.withdraw(state(request).conn, user.name, request.path_params["missed_id"])
    except ValueError as e:
        return refused(str(e), 404)
    return _back(request, request.path_params["call_id"], "#missed")


async def swap(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, _form = got
    st, call_id = state(request), request.path_params["call_id"]
    row = (
        st.conn.execute(
            "SELECT call_date FROM calls_index WHERE call_id = ?", (call_id,)
        ).fetchone()
        if media.CALL_ID.match(call_id)
        else None
    )
    if row is None:
        return refused("没有这通电话", 404)
    try:
        n = swap_call(st.out, call_id, row["call_date"], st.card)
    except LookupError as e:
        return refused(str(e), 404)
    except BusyError:
        return refused("结果文件夹正在被批处理或重新评分使用，请等它结束后再交换声道", 409)
    dec.note(st.conn, user.name, call_id, "swap", f"交换坐席/客户声道并重新评分：{n} 条建议扣分")
    st.refresh(every_s=0)
    return RedirectResponse(f"/calls/{call_id}", status_code=303)
