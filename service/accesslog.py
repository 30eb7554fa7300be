"""One access-log line per request: method, key, status, bytes sent, duration, time to first byte."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.requestid import request_id

logger = logging.getLogger("s3_stream_proxy.access")


class AccessLogMiddleware:
    """Pure ASGI middleware that logs each HTTP request once it has ended.

    It also adds the request id to every response as ``X-Request-Id``.

    Line format (``s3_stream_proxy.access`` logger, INFO)::

        GET "docs/a.pdf" 200 bytes=10485760 duration=0.412s ttfb=0.009s id=5f0c... [aborted]

    The key is a JSON string: UTF-8 as is, quotes and control characters escaped, so a
    key cannot forge a log line.

    ``bytes`` counts body bytes handed to the server; ``ttfb`` is the time to the first
    body byte (or to the response start for empty bodies); ``aborted`` marks a response
    that did not complete (client gone, or the stream failed).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = _Record(scope)

        async def counting_send(message: Message) -> None:
            record.observe(message)
            if message["type"] == "http.response.start":
                rid = request_id(scope).encode("ascii")
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", rid)],
                }
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            record.log()


class _Record:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.started = time.perf_counter()
        self.status = 500
        self.sent = 0
        self.first_byte: float | None = None
        self.complete = False

    def observe(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            return
        if message["type"] != "http.response.body":
            return
        body = message.get("body", b"")
        self.sent += len(body)
        more = bool(message.get("more_body", False))
        if self.first_byte is None and (body or not more):
            self.first_byte = time.perf_counter()
        self.complete = not more

    def log(self) -> None:
        now = time.perf_counter()
        ttfb = "-" if self.first_byte is None else f"{self.first_byte - self.started:.3f}s"
        raw = self.scope.get("raw_path") or self.scope["path"].encode()
        path = unquote_to_bytes(raw).decode("utf-8", "backslashreplace")
        logger.info(
            "%s %s %d bytes=%d duration=%.3fs ttfb=%s id=%s%s",
            self.scope["method"],
            json.dumps(path[1:] if path.startswith("/") else path, ensure_ascii=False),
            self.status,
            self.sent,
            now - self.started,
            ttfb,
            request_id(self.scope),
            "" if self.complete else " aborted",
        )
