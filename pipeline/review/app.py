"""`callqa review OUT`: the inspectors' workbench, a Starlette app served by uvicorn.

Server-rendered pages (Jinja2, autoescaped), one small script for the player and the keys, no
file from the internet. State lives in OUT/review.db; decisions are exported to OUT/reviews when
the server stops. Security (issue #28): server-side sessions (sessions.py), login throttling
(throttle.py), headers on every response (security.py), input checks (inputs.py), 0600 files
(files.py); `serve` trusts no proxy header unless told which proxy to trust.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline import sampling_commands, scorecard
from pipeline.review import (
    actions,
    calibration,
    db,
    export,
    files,
    login,
    media,
    pages,
    security,
    sessions,
    stats,
)
from pipeline.review.score import caps
from pipeline.review.web import HERE, State, render

log = logging.getLogger(__name__)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_HTTP_ERRORS = {404: "没有这个页面", 405: "不支持这种请求方式"}


@dataclass(frozen=True, slots=True)
class Listen:
    """Where and how `callqa review` listens (`callqa review --help` explains each flag).

    Defaults: 127.0.0.1:8000, plain HTTP, no proxy header trusted (uvicorn's own default would
    trust X-Forwarded-For from 127.0.0.1, so any local user could pick their address)."""

    host: str = "127.0.0.1"
    port: int = 8000
    uds: Path | None = None  # a Unix socket instead of host:port, for a proxy on the same machine
    cert: Path | None = None  # with key: serve HTTPS itself (--https)
    key: Path | None = None
    proxy_headers: bool = False
    forwarded_allow_ips: str = ""  # the proxy's address(es); '*' only for a Unix socket

    @property
    def https(self) -> bool:
        return self.cert is not None


async def _http_error(request: Request, exc: Exception) -> Response:
    code = getattr(exc, "status_code", 500)
    return render(request, "error.html", status=code, message=_HTTP_ERRORS.get(code, "请求无效"))


def create_app(
    out: Path,
    scorecard_path: Path,
    audio_root: Path | None = None,
    export_on_shutdown: bool = True,
    session_options: sessions.Options | None = None,
) -> Starlette:
    out = Path(out)
    conn = db.connect(out)
    sampling_commands.ensure_schema(conn)  # the queue's 只看抽样 filter reads `samples`
    card = scorecard.load(scorecard_path)
    opts = session_options or sessions.Options()
    st = State(out, conn, card, caps(card), audio_root or media.input_root(out), opts)
    st.refresh(every_s=0)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        if export_on_shutdown:  # never leave decisions only in the database
            path, n = export.export(conn, out)
            print(f"已导出 {n} 条审核决定到 {path}", file=sys.stderr)

    routes = [
        Route("/", pages.queue_page),
        Route("/login", login.login_page, methods=["GET"]),
        Route("/login", login.login, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/sessions", login.sessions_page),
        Route("/sessions/end", login.end_sessions, methods=["POST"]),
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
        Middleware(security.SecurityHeaders),  # outermost: its headers go on every answer
        Middleware(
            SessionMiddleware,
            secret_key=files.secret_key(out),
            session_cookie="callqa_session",
            max_age=int(opts.absolute_s),  # the browser may keep it; the server decides (sessions.py)
            same_site="strict",
            https_only=False,  # Secure is added per request when it came over HTTPS (security.py)
        ),
    ]
    handlers = {404: _http_error, 405: _http_error, Exception: security.server_error}
    app = Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers=handlers
    )
    app.state.review = st
    return app


def listen_problem(listen: Listen) -> str | None:
    """Why these flags cannot work together (the sentence to print), or None."""
    if (listen.cert is None) != (listen.key is None):
        return "--https 需要同时给出 --cert（证书）和 --key（私钥）"
    if listen.proxy_headers and not listen.forwarded_allow_ips:
        return "--proxy-headers 需要 --forwarded-allow-ips 指明反向代理的地址（例如 127.0.0.1）"
    if listen.forwarded_allow_ips and not listen.proxy_headers:
        return "--forwarded-allow-ips 只和 --proxy-headers 一起使用"
    if "*" in listen.forwarded_allow_ips and listen.uds is None:
        return "--forwarded-allow-ips '*' 会让任何人伪造客户端地址，只能和 --uds 一起使用"
    return None


def warnings(out: Path, listen: Listen) -> list[str]:
    """What the operator should hear before the server starts (files narrowed here)."""
    said = [
        f"警告：{p.name} 的权限原为 {mode:04o}，本机其他用户可以读取（含密码哈希），已改为 0600。"
        "如果这台电脑上还有别人的账号，请用 callqa users add 为每个人重新设置密码。"
        for p, mode in db.loose_files(out)
    ]
    if listen.uds is None and listen.host not in LOCAL_HOSTS:
        if not listen.https and not listen.proxy_headers:
            said.append(
                f"警告：审核台将以明文 HTTP 监听 {listen.host}:{listen.port}，本机以外的电脑也能访问，"
                "密码和录音会在网络上明文传输。请用 --https --cert --key，或放在 HTTPS 反向代理之后"
                "（--proxy-headers，见 README 的“安全”一节）。"
            )
        else:
            said.append(
                f"注意：审核台监听 {listen.host}:{listen.port}，本机以外的电脑也能访问；"
                "录音和审核记录属于敏感数据，请只在受信任的内网使用。"
            )
    return said


def serve(
    out: Path,
    scorecard_path: Path,
    listen: Listen | None = None,
    audio_root: Path | None = None,
    session_options: sessions.Options | None = None,
) -> None:
    import uvicorn

    listen = listen or Listen()
    problem = listen_problem(listen)
    if problem:
        raise ValueError(problem)
    for line in warnings(out, listen):
        print(line, file=sys.stderr)
    print("正在更新审核索引（首次打开大的结果文件夹时较慢，之后只读取有变化的通话）…", file=sys.stderr)
    app = create_app(out, scorecard_path, audio_root, session_options=session_options)
    if app.state.review.audio_root is None:
        print(
            "注意：找不到录音文件夹（OUT/runs 中没有记录），页面上将无法播放录音；可用 --audio 指定。",
            file=sys.stderr,
        )
    where = (
        f"unix:{listen.uds}"
        if listen.uds
        else f"{'https' if listen.https else 'http'}://{listen.host}:{listen.port}/"
    )
    print(f"callqa 审核台：{where}  （Ctrl+C 停止，停止时自动导出审核结果）", file=sys.stderr)
    uvicorn.run(
        app,
        host=listen.host,
        port=listen.port,
        uds=str(listen.uds) if listen.uds else None,
        ssl_certfile=str(listen.cert) if listen.cert else None,
        ssl_keyfile=str(listen.key) if listen.key else None,
        proxy_headers=listen.proxy_headers,  # off unless asked: see Listen
        forwarded_allow_ips=listen.forwarded_allow_ips or "127.0.0.1",  # read only with proxy_headers
        server_header=False,
        timeout_graceful_shutdown=10,  # a browser holding a keep-alive open must not stall the export
        log_level="warning",
    )
