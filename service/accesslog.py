"""One access record per request: what was asked, what was answered, how fast and how it ended.

:class:`AccessLogMiddleware` gathers a request's :class:`~service.requestfacts.RequestFacts`
and, once the app has returned or raised, writes one record to the ``s3_stream_proxy.access``
logger: INFO, or WARNING when the response failed (``upstream_failed``, ``deadline_cut``).
The record's message is one line of text; its fields (:func:`access_fields`) travel as the
record's extra attributes, which the JSON format (:mod:`service.logformat`) writes as
top-level keys.

For the expected failure, an S3 body that breaks mid-stream
(:class:`~service.errors.StreamBroken`), that record is all there is: :class:`StreamBrokenFilter`
drops the server's own report of the exception, a traceback that would only repeat it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import requestid
from service.errors import StreamBroken
from service.http.xray import trace_id
from service.metrics import NOT_OBSERVED, RequestObserver
from service.requestfacts import SCOPE_KEY, TRACE_SCOPE_KEY, RequestFacts, active

logger = logging.getLogger("s3_stream_proxy.access")

_FAILED = frozenset({"upstream_failed", "deadline_cut"})


class AccessLogMiddleware:
    """Pure ASGI middleware that writes each HTTP request's access record once it has ended.

    It also adds the request id to every response as ``X-Request-Id``. With
    ``trust_request_id`` a safe client-sent ``X-Request-Id`` becomes the request id
    (:func:`service.requestid.adopt_client_id`); otherwise every request gets a fresh one,
    unless a server in front set it (the Lambda request id).

    The message (see :func:`access_line`)::

        GET "docs/a.pdf" 200 bytes=10485760 duration=0.412s ttfb=0.009s id=5f0c... outcome=complete
        planned=10485760 range=- s3_ttfb=0.006s resumes=0 trace=- [cause="..."]

    (one line). The key, the range and the cause are JSON strings: UTF-8 as is, quotes and
    control characters escaped, so none can forge a log line. A ``-`` stands for a value
    that does not apply. ``cause`` names the exception the app raised, e.g.
    ``cause="StreamBroken: S3 body failed mid-stream: ClientPayloadError"``; the exception
    still propagates, so the server aborts the connection and the client sees a failed
    body, never a clean short one.

    An ``observer`` (the metrics, :mod:`service.metrics`) is told when the response starts
    and, right after the record is written, that the request has ended.
    """

    def __init__(self, app: ASGIApp, trust_request_id: bool = False, observer: RequestObserver | None = None) -> None:
        self.app = app
        self.trust_request_id = trust_request_id
        self.observer = observer or NOT_OBSERVED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.trust_request_id:
            requestid.adopt_client_id(scope)
        rid = requestid.request_id(scope)
        facts = RequestFacts(rid, scope["method"], _key(scope), trace_id(_trace_header(scope)))
        scope[SCOPE_KEY] = facts

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and not facts.response_complete:
                facts.client_gone = True
            return message

        async def recorded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            try:
                await send(message)
            except Exception:
                # The connection to the client failed, unless a server refused on purpose.
                facts.client_gone = not facts.deadline_cut
                raise
            facts.took(message)
            if message["type"] == "http.response.start":
                self.observer.response_started(facts)

        with requestid.bound(rid), active(facts):
            try:
                await self.app(scope, watched_receive, recorded_send)
            except BaseException as exc:
                facts.failure = exc
                raise
            finally:
                facts.finished = time.perf_counter()
                write(facts)
                self.observer.request_ended(facts)


def write(facts: RequestFacts) -> None:
    """Write the access record of ``facts`` to the ``s3_stream_proxy.access`` logger."""
    outcome = facts.outcome()
    level = logging.WARNING if outcome in _FAILED else logging.INFO
    if logger.isEnabledFor(level):
        logger.log(level, "%s", access_line(facts), extra=access_fields(facts))


def access_fields(facts: RequestFacts) -> dict[str, Any]:
    """The record's fields, as the JSON format writes them (durations in milliseconds)::

        {"requestId": "5f0c...", "method": "GET", "key": "docs/a.pdf", "status": 206,
         "outcome": "complete", "range": "bytes 0-99/5000", "bytesPlanned": 100,
         "bytesSent": 100, "s3FirstByteMs": 6.1, "clientFirstByteMs": 9.3,
         "durationMs": 12.0, "resumes": 0, "traceId": null}

    plus ``"cause"`` when the app raised. Absent values are null, so every record has every
    key. ``requestId`` is also what the JSON format adds to every record of the request.
    """
    fields: dict[str, Any] = {
        "requestId": facts.request_id,
        "method": facts.method,
        "key": facts.key,
        "status": facts.answered_status,
        "outcome": facts.outcome(),
        "range": facts.range_served,
        "bytesPlanned": facts.bytes_planned,
        "bytesSent": facts.bytes_sent,
        "s3FirstByteMs": _ms(facts.s3_first_byte),
        "clientFirstByteMs": _ms(facts.client_first_byte),
        "durationMs": _ms(facts.duration),
        "resumes": facts.resumes,
        "traceId": facts.trace_id,
    }
    if facts.failure is not None:
        fields["cause"] = _cause(facts.failure)
    return fields


def access_line(facts: RequestFacts) -> str:
    """The record's message: the one-line text shown in :class:`AccessLogMiddleware`."""
    line = (
        f"{facts.method} {_quoted(facts.key)} {facts.answered_status} bytes={facts.bytes_sent} "
        f"duration={facts.duration:.3f}s ttfb={_seconds(facts.client_first_byte)} id={facts.request_id} "
        f"outcome={facts.outcome()} planned={_dash(facts.bytes_planned)} "
        f"range={'-' if facts.range_served is None else _quoted(facts.range_served)} "
        f"s3_ttfb={_seconds(facts.s3_first_byte)} resumes={facts.resumes} trace={_dash(facts.trace_id)}"
    )
    if facts.failure is not None:
        line += f" cause={_quoted(_cause(facts.failure))}"
    return line


class StreamBrokenFilter(logging.Filter):
    """Drop log records of a :class:`~service.errors.StreamBroken` that carry its traceback.

    Installed on uvicorn's ``uvicorn.error`` logger by ``serve``: when the app raises after
    the response started, uvicorn logs "Exception in ASGI application" with the traceback,
    then closes the connection. For a broken S3 body the access record already names the
    request and the cause, so that record is dropped; other exceptions keep their
    traceback, which is what a genuine bug needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record whose ``exc_info`` is a StreamBroken, else True."""
        return not (record.exc_info and isinstance(record.exc_info[1], StreamBroken))


def _key(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode()
    path = unquote_to_bytes(raw).decode("utf-8", "backslashreplace")
    return path[1:] if path.startswith("/") else path


def _trace_header(scope: Scope) -> str | None:
    given = scope.get(TRACE_SCOPE_KEY)
    if isinstance(given, str):
        return given
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-amzn-trace-id":
            return str(value.decode("latin-1"))
    return None


def _cause(exc: BaseException) -> str:
    """``"StreamBroken: S3 body failed mid-stream: ReadTimeoutError"``: the class, then the message.

    Not anyio's message of a cancellation, which names only the cancel scope's object id
    (``"Cancelled via cancel scope 7f41d7695d00"``) and would differ in every record.
    """
    message = str(exc)
    if isinstance(exc, asyncio.CancelledError) and message.startswith(_ANYIO_CANCEL):
        message = ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


_ANYIO_CANCEL = "Cancelled via cancel scope "


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _seconds(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}s"


def _dash(value: object) -> str:
    return "-" if value is None else str(value)
