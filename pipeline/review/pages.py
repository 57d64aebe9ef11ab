"""The pages people read: the queue and one call (audio, timeline, transcript, decisions, score)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyarrow.parquet as pq
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from pipeline.review import decisions as dec
from pipeline.review import media, queue, view
from pipeline.review.auth import User
from pipeline.review.score import Caps, Score, score
from pipeline.review.web import current_user, refused, render, state, to_login
from pipeline.store import Store


async def queue_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return to_login(request)
    st = state(request)
    st.refresh()
    f = queue.Filters.from_query(request.query_params)
    try:
        n = min(max(int(request.query_params.get("page", "1")[:9]), 1), 10**6)
    except ValueError:
        n = 1
    p = queue.page(st.conn, f, None if user.is_lead else user.name, user.name, n)
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(
        request,
        "queue.html",
        page=p,
        filters=f,
        statuses=queue.STATUSES,
        sorts=queue.SORTS,
        sort_notes=queue.SORT_NOTES,
        risk_level=queue.risk_level,
        risk_labels=queue.RISK_LABELS,
        choices=st.choices(),
        titles=st.caps.titles,
        link=lambda **kw: "?" + urlencode({**query, **{k: v for k, v in kw.items()}}),
    )


@dataclass(frozen=True)
class FindingView:
    """A finding with the viewer's decision and (for leads) everyone else's."""

    f: dict[str, Any]
    mine: dec.Decision | None
    others: tuple[dec.Decision, ...]
    stale: bool


def findings_of(conn: sqlite3.Connection, call_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM findings_index WHERE call_id = ? ORDER BY start_s, end_s, id", (call_id,)
        )
    ]


def human_score(findings: list[dict[str, Any]], mine: list[dec.Decision], caps: Caps) -> Score:
    by_id = {f["id"]: f for f in findings}
    pairs = []
    for d in mine:
        if d.verdict == "confirmed" and d.finding_id in by_id:
            f = by_id[d.finding_id]
            pairs.append((f["item"], d.points if d.points is not None else f["points"]))
        elif d.verdict == "missed":
            pairs.append((d.item, d.points or 0.0))
    return score(pairs, caps)


def categories(machine: Score, human: Score, caps: Caps) -> list[dict[str, Any]]:
    """Machine and human deductions per category, side by side."""
    m = {c[0]: c[2] for c in machine.by_category}
    h = {c[0]: c[2] for c in human.by_category}
    out = []
    for cid in sorted(set(m) | set(h)):
        cat = caps.categories.get(cid)
        out.append(
            {
                "id": cid,
                "title": cat.title if cat else cid,
                "machine": m.get(cid, 0.0),
                "human": h.get(cid, 0.0),
                "cap": cat.max_points if cat else None,
            }
        )
    return out


def call_context(conn: sqlite3.Connection, caps: Caps, call_id: str, user: User) -> dict[str, Any]:
    findings = findings_of(conn, call_id)
    by_id = {f["id"]: f for f in findings}
    mine = dec.current(conn, call_id, user.name)
    everyone = dec.current(conn, call_id, None) if user.is_lead else mine
    mine_by = {d.finding_id: d for d in mine}
    views = [
        FindingView(
            f,
            mine_by.get(f["id"]),
            tuple(d for d in everyone if d.finding_id == f["id"] and d.user != user.name),
            bool(mine_by.get(f["id"]) and dec.needs_rereview(mine_by[f["id"]], by_id)),
        )
        for f in findings
    ]
    orphans = [d for d in everyone if not d.missed and d.finding_id and d.finding_id not in by_id]
    missed = [d for d in everyone if d.missed and d.verdict == "missed"]
    machine, human = (
        score([(f["item"], f["points"]) for f in findings], caps),
        human_score(findings, mine, caps),
    )
    return {
        "findings": views,
        "orphans": orphans,
        "missed": missed,
        "machine": machine,
        "human": human,
        "categories": categories(machine, human, caps),
        "decided": sum(1 for v in views if v.mine and v.mine.verdict and not v.stale),
        # A lead sees each inspector's score of this call beside their own.
        "others": [
            (name, human_score(findings, [d for d in everyone if d.user == name], caps).total)
            for name in sorted({d.user for d in everyone} - {user.name})
        ],
    }


async def call_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return to_login(request)
    st = state(request)
    st.refresh()
    call_id = request.path_params["call_id"]
    row = (
        st.conn.execute(queue.CALL_ROW, (call_id,)).fetchone()
        if media.CALL_ID.match(call_id)
        else None
    )
    if row is None:
        return render(
            request, "error.html", status=404, message="没有这通电话（可能已被删除或尚未处理完）"
        )
    call = dict(row)
    sort = request.query_params.get("sort", "risk")
    sort = sort if sort in queue.SORTS else "risk"
    turns = _turns(st, call)
    ctx = call_context(st.conn, st.caps, call_id, user)
    raw = [v.f for v in ctx["findings"]]
    history = dec.history(st.conn, call_id, None if user.is_lead else user.name)
    return render(
        request,
        "call.html",
        call=call,
        lines=view.transcript(turns, raw),
        timeline=view.timeline(turns, raw, call["duration_s"] or 0.0),
        caps=st.caps,
        reasons=dec.REASONS,
        verdicts=dec.VERDICTS,
        history=history[:200],
        has_audio=media.audio_path(st.conn, st.audio_root, call_id) is not None,
        next_call=queue.next_call(
            st.conn, call, None if user.is_lead else user.name, user.name, sort
        ),
        sort=sort,
        risk_level=queue.risk_level,
        risk_labels=queue.RISK_LABELS,
        **ctx,
    )


def _turns(st: Any, call: dict[str, Any]) -> list[dict[str, Any]]:
    part = Store(st.out).part("turns", call["call_id"], call["call_date"])
    if not part.exists():
        return []
    cols = ["turn_id", "role", "start_s", "end_s", "text"]
    names = pq.read_schema(part).names  # issue #18's columns are absent from older parts
    cols += [c for c in ("emotion", "emotion_cues") if c in names]
    return pq.read_table(part, columns=cols).to_pylist()


async def audio(request: Request) -> Response:
    """The call's recording, by id only; FileResponse answers Range requests (seeking)."""
    user = current_user(request)
    if user is None:
        return refused("请先登录", 401)
    st = state(request)
    path = media.audio_path(st.conn, st.audio_root, request.path_params["call_id"])
    if path is None:
        return refused("没有这通电话的录音", 404)
    return FileResponse(path, media_type=media.media_type(path))
