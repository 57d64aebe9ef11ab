"""`callqa review OUT`: the inspectors' workbench, a Starlette app served by uvicorn.

Server-rendered pages (Jinja2, autoescaped), one small script for the player and the keys, no
file from the internet. State lives in OUT/review.db; decisions are exported to OUT/reviews when
the server stops.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline import sampling_commands, scorecard
from pipeline.review import actions, calibration, db, export, media, pages, stats
from pipeline.review.score import caps
from pipeline.review.web import HERE, State

log = logging.getLogger(__name__)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SESSION_S = 8 * 3600  # one working day; then log in again


def create_app(
    out: Path, scorecard_path: Path, audio_root: Path | None = None, export_on_shutdown: bool = True
) -> Starlette:
    out = Path(out)
    conn = db.connect(out)
    sampling_commands.ensure_schema(conn)  # the queue's 只看抽样 filter reads `samples`
    card = scorecard.load(scorecard_path)
    st = State(out, conn, card, caps(card), audio_root or media.input_root(out))
    st.refresh(every_s=0)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        if export_on_shutdown:  # never leave decisions only in the database
            path, n = export.export(conn, out)
            print(f"已导出 {n} 条审核决定到 {path}", file=sys.stderr)

    routes = [
        Route("/", pages.queue_page),
        Route("/login", actions.login_page, methods=["GET"]),
        Route("/login", actions.login, methods=["POST"]),
        Route("/logout", actions.logout, methods=["POST"]),
        Route("/calls/{call_id}", pages.call_page),
        Route("/audio/{call_id}", pages.audio),
        Route("/calls/{call_id}/findings/{finding_id}", actions.decide, methods=["POST"]),
        Route("/calls/{call_id}/missed", actions.missed, methods=["POST"]),
        Route("/calls/{call_id}/missed/{missed_id}/withdraw", actions.withdraw, methods=["POST"]),
        Route("/calls/{call_id}/swap", actions.swap, methods=["POST"]),
        Route("/calibration", calibration.page),
        Route("/calibration/assign", calibration.assign, methods=["POST"]),
        Route("/stats", stats.page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=db.secret_key(conn),
            session_cookie="callqa_session",
            max_age=SESSION_S,
            same_site="strict",
            https_only=False,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.review = st
    return app


def serve(out: Path, scorecard_path: Path, host: str, port: int, audio_root: Path | None) -> None:
    import uvicorn

    if host not in LOCAL_HOSTS:
        print(
            f"警告：审核台将监听 {host}:{port}，本机以外的电脑也能访问。录音和审核记录属于敏感数据，"
            "请只在受信任的内网使用，并在前面加 HTTPS 反向代理。",
            file=sys.stderr,
        )
    print("正在更新审核索引（首次打开大的结果文件夹时较慢，之后只读取有变化的通话）…", file=sys.stderr)
    app = create_app(out, scorecard_path, audio_root)
    if app.state.review.audio_root is None:
        print(
            "注意：找不到录音文件夹（OUT/runs 中没有记录），页面上将无法播放录音；可用 --audio 指定。",
            file=sys.stderr,
        )
    print(
        f"callqa 审核台：http://{host}:{port}/  （Ctrl+C 停止，停止时自动导出审核结果）",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
