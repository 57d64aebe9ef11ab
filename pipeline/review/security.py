"""The same security headers on every response, and `Secure` cookies whenever the request is HTTPS.

A pure ASGI middleware, outermost of the app's own, so redirects, static files, audio, 404 and
405 carry the headers too (a handler setting them would miss everything the router answers
itself). A 500 is answered by Starlette's ServerErrorMiddleware, which sits outside every user
middleware, so `server_error` below sets them on that page itself.

HTTPS is what the request says it came over: `scope["scheme"]` is "https" under `--https`, or
behind a proxy uvicorn was told to trust (`--proxy-headers --forwarded-allow-ips`), which sets
it from X-Forwarded-Proto. Then every Set-Cookie gets `Secure` and the answer says HSTS.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Nothing but our own files may run or load: an escaped-but-still-injected tag would be inert too.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it: no clickjacking
    "referrer-policy": "same-origin",  # call ids in URLs stay inside the workbench
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",  # recordings cannot be embedded elsewhere
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000"  # a year; only ever sent over HTTPS


def headers_for(path: str, https: bool) -> dict[str, str]:
    """What every answer to `path` carries. Pages and recordings are never stored by a browser
    or proxy cache (they hold names and voices); the static script and style may be, revalidated."""
    h = dict(HEADERS)
    h["cache-control"] = "no-cache" if path.startswith("/static/") else "no-store"
    if https:
        h["strict-transport-security"] = HSTS
    return h


def secure_cookie(value: bytes) -> bytes:
    return value if b"secure" in value.lower() else value + b"; Secure"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        extra = [(k.encode(), v.encode()) for k, v in headers_for(scope["path"], https).items()]
        names = {k for k, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = []
                for k, v in message.get("headers", []):
                    if k.lower() in names:
                        continue  # ours win: one policy, not a handler's variant
                    if https and k.lower() == b"set-cookie":
                        v = secure_cookie(v)
                    kept.append((k, v))
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 page: a Chinese sentence, no traceback, the same headers as everything else."""
    log.error("审核台内部错误 %s %s", request.method, request.url.path, exc_info=exc)
    response = PlainTextResponse("服务器内部错误，请稍后重试；如果一再出现，请联系管理员。", 500)
    https = request.url.scheme == "https"
    response.headers.update(headers_for(request.url.path, https))
    return response
