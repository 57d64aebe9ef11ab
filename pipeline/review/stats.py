"""The workbench's 词条统计 page: `callqa lexicon stats` for QA leads, in the browser.

The same Report (pipeline/stats.py, gathered by pipeline/lexicon_stats.py) as the command line.
It reads every findings part and agent turn of OUT, so it is computed once per state of OUT and
of the decisions (the index's folder mtimes and the last audit event) and kept until either moves.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pipeline import lexicon_stats, stats
from pipeline.review.web import State, lead_or_refusal, render, state

_CACHE: dict[int, tuple[Any, stats.Report]] = {}


def report(st: State) -> stats.Report:
    key = (tuple(st.conn.execute("SELECT dir, mtime_ns FROM index_dirs ORDER BY dir").fetchall()),
           st.conn.execute("SELECT MAX(seq) FROM events").fetchone()[0], st.card.version)
    got = _CACHE.get(id(st))
    if got is None or got[0] != key:
        got = _CACHE[id(st)] = (key, lexicon_stats.gather(st.out, st.card))
    return got[1]


async def page(request: Request) -> Response:
    user = lead_or_refusal(request, "词条统计")
    if isinstance(user, Response):
        return user
    st = state(request)
    st.refresh()
    r = report(st)
    silent: dict[str, list[str]] = {}
    for e in r.silent:
        silent.setdefault(e.lexicon, []).append(e.phrase)
    return render(request, "stats.html", report=r, fired=[e for e in r.entries if e.hits], silent=silent,
                  pct=lexicon_stats.pct, interval=lexicon_stats.interval, titles=st.caps.titles)
