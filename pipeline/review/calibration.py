"""Calibration (seed 002 校准): several inspectors judge the same calls; how often do they agree?

Per rule: over every pair of inspectors who decided the same finding (confirm = 1, reject = 0),
the share of pairs that agree and Cohen's kappa of the pooled pairs. Per inspector: their
decisions against a lead's on the same findings. Kappa is undefined (None) when chance agreement
is already 1 (everyone gave the same answer), the case where it would divide by zero.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.review import auth, inputs, quality, queue
from pipeline.review.db import transaction
from pipeline.review.web import lead_or_refusal, refused, render, signed_in_form, state


MAX_ASSIGN = 200  # calls per assignment: a calibration round, and under SQLite's variable limit


@dataclass(frozen=True, slots=True)
class Agreement:
    key: str  # rule code, or inspector name
    n: int  # pairs compared
    agreement: float
    kappa: float | None


@dataclass(frozen=True, slots=True)
class Report:
    by_rule: tuple[Agreement, ...]
    by_inspector: tuple[Agreement, ...]  # against the leads


def cohen_kappa(pairs: list[tuple[int, int]]) -> float | None:
    n = len(pairs)
    if n == 0:
        return None
    po = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return None if pe >= 1 else round((po - pe) / (1 - pe), 3)


def _agreement(key: str, pairs: list[tuple[int, int]]) -> Agreement:
    return Agreement(
        key, len(pairs), round(sum(a == b for a, b in pairs) / len(pairs), 3), cohen_kappa(pairs)
    )


def report(conn: sqlite3.Connection) -> Report:
    rows = conn.execute("""
        SELECT d.finding_id, d.user, e.verdict, COALESCE(f.rule, e.item) AS rule, u.role
        FROM decisions d JOIN events e ON e.seq = d.seq
        LEFT JOIN findings_index f ON f.id = d.finding_id LEFT JOIN users u ON u.name = d.user
        WHERE e.verdict IN ('confirmed', 'rejected')""").fetchall()
    labels: dict[str, dict[str, int]] = {}
    rule_of: dict[str, str] = {}
    roles = {r["user"]: r["role"] for r in rows}
    for r in rows:
        labels.setdefault(r["finding_id"], {})[r["user"]] = int(r["verdict"] == "confirmed")
        rule_of[r["finding_id"]] = r["rule"]
    by_rule: dict[str, list[tuple[int, int]]] = {}
    by_inspector: dict[str, list[tuple[int, int]]] = {}
    for fid, who in labels.items():
        for a, b in itertools.combinations(sorted(who), 2):
            by_rule.setdefault(rule_of[fid], []).append((who[a], who[b]))
        for lead in (u for u in who if roles.get(u) == "lead"):
            for insp in (u for u in who if roles.get(u) != "lead"):
                by_inspector.setdefault(insp, []).append((who[lead], who[insp]))
    return Report(
        tuple(_agreement(k, v) for k, v in sorted(by_rule.items())),
        tuple(_agreement(k, v) for k, v in sorted(by_inspector.items())),
    )


def report_text(r: Report) -> str:
    def fmt(a: Agreement) -> str:
        kappa = "无定义" if a.kappa is None else f"{a.kappa:.2f}"
        return f"  {a.key:<16}{a.n:>6} 对   一致率 {a.agreement:.0%}   kappa {kappa}"

    lines = ["校准：同一建议扣分上两位质检员的判断（确认/驳回）"]
    lines += [fmt(a) for a in r.by_rule] or ["  （还没有两人以上审核过的同一条建议扣分）"]
    lines.append("各质检员与主管的一致性")
    lines += [fmt(a) for a in r.by_inspector] or ["  （主管还没有审核质检员审核过的通话）"]
    return "\n".join(lines)


async def page(request: Request) -> Response:
    user = lead_or_refusal(request, "校准结果")
    if isinstance(user, Response):
        return user
    st = state(request)
    assigned = st.conn.execute(
        "SELECT call_id, user, assigned_by, at FROM assignments ORDER BY at DESC LIMIT 200"
    ).fetchall()
    return render(
        request,
        "calibration.html",
        report=report(st.conn),
        quality=quality.by_item(st.conn),
        titles=st.caps.titles,
        assigned=assigned,
        inspectors=[u for u in auth.list_users(st.conn)],
    )


async def assign(request: Request) -> Response:
    got = await signed_in_form(request)
    if isinstance(got, Response):
        return got
    user, form = got
    if not user.is_lead:
        return refused("只有质检主管可以分配通话", 403)
    st = state(request)
    form_all = await request.form()
    names = [
        n for n in form_all.getlist("inspector") if isinstance(n, str) and auth.get_user(st.conn, n)
    ]
    ids = [c for c in form.get("call_ids", "").split() if inputs.ID.match(c)][:MAX_ASSIGN]
    if not ids and re.fullmatch(r"[0-9]{1,3}", form.get("top", "").strip()):
        ids = [
            r["call_id"]
            for r in queue.page(
                st.conn, queue.Filters(), None, user.name, 1, min(int(form["top"]), MAX_ASSIGN)
            ).rows
        ]
    known = (
        {
            r[0]
            for r in st.conn.execute(
                f"SELECT call_id FROM calls_index WHERE call_id IN ({','.join('?' * len(ids))})",
                ids,
            )
        }
        if ids
        else set()
    )
    with transaction(st.conn):
        st.conn.executemany(
            "INSERT OR IGNORE INTO assignments (call_id, user, assigned_by) VALUES (?, ?, ?)",
            [(c, n, user.name) for c in ids if c in known for n in names],
        )
    return RedirectResponse("/calibration", status_code=303)
