"""State-changing requests: decide, add or withdraw a missed deduction, swap the channels.

Every POST passes `signed_in_form` (session, then CSRF) first, then inputs.py checks every value
(ids, finite times inside the call, points inside the item's range): a bad one is a 400 with a
Chinese sentence and nothing stored. A form posted by a browser without JavaScript gets a
redirect back to the page; the page's script asks for JSON and swaps in the re-rendered parts.
(Logging in and out is login.py.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipeline.lock import BusyError
from pipeline.review import decisions as dec
from pipeline.review import inputs, media
from pipeline.review.pages import call_context, findings_of
from pipeline.review.swap import swap_call
from pipeline.review.web import (
    State,
    current_user,
    fragment,
    refused,
    signed_in_form,
    state,
    wants_json,
)


def _back(request: Request, call_id: str, anchor: str = "") -> Response:
    """JSON with the re-rendered findings and score for the page's script; else a redirect."""
    if not wants_json(request):
        return RedirectResponse(f"/calls/{call_id}{anchor}", status_code=303)
    st, user = state(request), current_user(request)
    assert user is not None
    ctx = call_context(st.conn, st.caps, call_id, user)
    return (
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
    try:
        inputs.ident(call_id, what="通话编号")
        inputs.ident(fid, what="建议扣分编号")
    except inputs.BadInput as e:
        return refused(str(e), 400)
    finding = next((f for f in findings_of(st.conn, call_id) if f["id"] == fid), None)
    if finding is None:
        return refused("这条建议扣分已不存在（可能已重新评分），请刷新页面", 404)
    action = form.get("action", "")
    if action not in ("confirm", "reject", "points", "comment"):
        return refused("未知的操作", 400)
    try:
        points = _points(st, finding["item"], form.get("points")) if action == "points" else None
        dec.decide(
            st.conn,
            user.name,
            finding,
            action,
            reason=form.get("reason", ""),
            points=points,
            comment=form.get("comment") if "comment" in form else None,
        )
    except ValueError as e:  # BadInput, or decisions' own check (a reject without a reason)
        return refused(str(e) or "输入无效", 400)
    return _back(request, call_id, f"#f-{fid}")


def _points(st: State, item_id: str, text: str | None) -> float:
    """Points typed for `item_id`, inside that item's range (0–100 for an item the scorecard
    no longer has: the finding came from an older one)."""
    item = next((i for i in st.card.items if i.id == item_id), None)
    if item is None:
        value = inputs.number(text, "扣分")
        if not 0 <= value <= dec.MAX_POINTS:
            raise inputs.BadInput(f"扣分必须在 0 到 {dec.MAX_POINTS:g} 之间")
        return round(value, 2)
    return inputs.points(text, item)


async def missed(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, form = got
    st, call_id = state(request), request.path_params["call_id"]
    row = (
        st.conn.execute("SELECT duration_s FROM calls_index WHERE call_id = ?", (call_id,)).fetchone()
        if inputs.ID.match(call_id)
        else None
    )
    if row is None:
        return refused("没有这通电话", 404)
    item = next((i for i in st.card.items if i.id == form.get("item", "")), None)
    if item is None:
        return refused("请选择评分项", 400)
    try:
        start, end = inputs.span(form.get("start_s"), form.get("end_s"), row["duration_s"])
        points = inputs.points(form["points"], item) if form.get("points") else item.points
        dec.add_missed(
            st.conn, user.name, call_id, item.id, start, end, points, form.get("comment", "")
        )
    except ValueError as e:
        return refused(str(e) or "起止时间或分值无效", 400)
    return _back(request, call_id, "#missed")


async def withdraw(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, _form = got
    try:
        inputs.ident(request.path_params["call_id"], what="通话编号")
        inputs.ident(request.path_params["missed_id"], inputs.MISSED_ID, "补充扣分编号")
    except inputs.BadInput as e:
        return refused(str(e), 400)
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
