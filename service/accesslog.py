"""One access-log line per request: method, key, status, bytes sent, duration, time to first byte.

A request that fails with an exception gets the same one line, with its cause. For the
expected failure, an S3 body that breaks mid-stream (:class:`~service.errors.StreamBroken`),
that line is all there is: :class:`StreamBrokenFilter` drops the server's own report of
the exception, a traceback that would only repeat it.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import StreamBroken
from service.requestid import request_id

logger = logging.getLogger("s3_stream_proxy.access")


class AccessLogMiddleware:
    """Pure ASGI middleware that logs each HTTP request once it has ended.

    It also adds the request id to every response as ``X-Request-Id``.

    Line format (``s3_stream_proxy.access`` logger, INFO; WARNING with a cause)::

        GET "docs/a.pdf" 200 bytes=10485760 duration=0.412s ttfb=0.009s id=5f0c... [aborted] [cause="..."]

    The key and the cause are JSON strings: UTF-8 as is, quotes and control characters
    escaped, so neither can forge a log line.

    ``bytes`` counts body bytes handed to the server; ``ttfb`` is the time to the first
    body byte (or to the response start for empty bodies); ``aborted`` marks a response
    that did not complete (client gone, or the stream failed); ``cause`` names the
    exception the app raised, e.g. ``cause="StreamBroken: S3 body failed mid-stream:
    ClientPayloadError"``. The exception still propagates, so the server aborts the
    connection and the client sees a failed body, never a clean short one.
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
        except Exception as exc:
            record.failure = exc
            raise
        finally:
            record.log()


class StreamBrokenFilter(logging.Filter):
    """Drop log records of a :class:`~service.errors.StreamBroken` that carry its traceback.

    Installed on uvicorn's ``uvicorn.error`` logger by ``serve``: when the app raises after
    the response started, uvicorn logs "Exception in ASGI application" with the traceback,
    then closes the connection. For a broken S3 body the access line already names the
    request and the cause, so that record is dropped; other exceptions keep their
    traceback, which is what a genuine bug needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record whose ``exc_info`` is a StreamBroken, else True."""
        return not (record.exc_info and isinstance(record.exc_info[1], StreamBroken))


class _Record:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.started = time.perf_counter()
        self.status = 500
        self.sent = 0
        self.first_byte: float | None = None
        self.complete = False
        self.failure: Exception | None = None

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
        logger.log(
            logging.INFO if self.failure is None else logging.WARNING,
            "%s %s %d bytes=%d duration=%.3fs ttfb=%s id=%s%s%s",
            self.scope["method"],
            json.dumps(path[1:] if path.startswith("/") else path, ensure_ascii=False),
            self.status,
            self.sent,
            now - self.started,
            ttfb,
            request_id(self.scope),
            "" if self.complete else " aborted",
            "" if self.failure is None else f" cause={json.dumps(_cause(self.failure), ensure_ascii=False)}",
        )


def _cause(exc: Exception) -> str:
    """``"StreamBroken: S3 body failed mid-stream: ReadTimeoutError"``: the class, then the message."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
