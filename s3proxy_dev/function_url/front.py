"""The HTTP side of the emulated Function URL: one invocation per client request.

Each request becomes a payload-2.0 event (see :mod:`event`), waits for a runtime, and the
runtime's answer is written back as it arrives.  Failures follow what AWS shows a Function URL
client: 502 ``Internal Server Error`` when nothing was sent yet, a cut connection otherwise.

Slow, idle and excess clients meet the front's own limits (``EmulatorConfig.header_timeout``,
``idle_timeout``, ``max_connections``): a late request head gets ``408``, an idle kept-alive
connection is closed, and past the connection limit a request gets ``503``.
"""

from __future__ import annotations

import json
import logging
import time

import h11

from s3proxy_dev.function_url.config import EmulatorConfig
from s3proxy_dev.function_url.event import ClientRequest, InvocationIds, build_event
from s3proxy_dev.function_url.h11io import PeerGone, RefusedRequest, ServerConnection
from s3proxy_dev.function_url.invocation import Invocation, InvocationQueue
from s3proxy_dev.function_url.outcome import BodyChunk, ClientResponseHead, InvocationFailure, ResponseEnd
from s3proxy_dev.function_url.rest_event import build_rest_event

log = logging.getLogger("s3proxy_dev.function_url")

BODYLESS_STATUSES = (204, 304)
ERROR_BODY = b"Internal Server Error"
BUSY_REASON = "Service Unavailable: too many connections"


class RequestTooLarge(Exception):
    """The client's request body is larger than the event payload limit."""


class FunctionUrlFront:
    """Serves client requests by invoking the function (use :meth:`handle` per request)."""

    def __init__(self, config: EmulatorConfig, queue: InvocationQueue) -> None:
        self._config = config
        self._queue = queue

    async def handle(self, stream: ServerConnection) -> None:
        """Answer one client request on ``stream`` (an :data:`h11io.Handler`)."""
        try:
            event = await stream.next_event()
            if not isinstance(event, h11.Request):
                return
            await stream.continue_if_expected()
            body = await self._read_body(stream)
        except RefusedRequest as exc:  # malformed, or its head came too late
            await stream.refuse(exc)
            return
        except RequestTooLarge:
            await stream.send_simple(413, [("content-type", "text/plain")], b"Request Entity Too Large")
            return
        request = ClientRequest(
            method=event.method.decode("ascii"),
            target=bytes(event.target),
            headers=[(bytes(k), bytes(v)) for k, v in event.headers.raw_items()],
            body=body,
            source_ip=stream.peer_ip,
        )
        await self._invoke(stream, request)

    async def refuse_busy(self, stream: ServerConnection) -> None:
        """Answer the request on a connection past ``max_connections`` with ``503`` and close
        (an :data:`h11io.Handler`); its head must still come in time."""
        try:
            event = await stream.next_event()
        except RefusedRequest as exc:
            await stream.refuse(exc)
            return
        if isinstance(event, h11.Request):
            await stream.refuse(RefusedRequest(BUSY_REASON, 503))

    async def _read_body(self, stream: ServerConnection) -> bytes:
        limit = self._config.limits.max_request_bytes if self._config.limits else None
        parts: list[bytes] = []
        size = 0
        while True:
            event = await stream.next_event()
            if isinstance(event, h11.EndOfMessage):
                return b"".join(parts)
            if not isinstance(event, h11.Data):
                raise PeerGone("the request ended early")
            size += len(event.data)
            if limit is not None and size > limit:
                raise RequestTooLarge
            parts.append(bytes(event.data))

    async def _invoke(self, stream: ServerConnection, request: ClientRequest) -> None:
        invocation = Invocation(event=b"")
        ids = InvocationIds(invocation.request_id, invocation.trace_root)
        if self._config.event_format == "rest":
            event = build_rest_event(request, ids, self._config.function, self._config.rest_stage)
        else:
            event = build_event(request, ids, self._config.function)
        invocation.event = json.dumps(event, separators=(",", ":")).encode()
        started = time.monotonic()
        await self._queue.submit(invocation)
        try:
            outcome = await self._relay(stream, invocation, request.method)
        except PeerGone:
            await invocation.channel.discard_body()
            raise
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info(
            "%s %s -> %s (RequestId: %s, %.1f ms)",
            request.method,
            request.target.decode("latin-1"),
            outcome,
            invocation.request_id,
            elapsed_ms,
        )

    async def _relay(self, stream: ServerConnection, invocation: Invocation, method: str) -> str:
        first = await invocation.channel.get()
        if isinstance(first, InvocationFailure):
            _log_failure(invocation, first)
            headers = [("content-type", "text/plain"), *_platform_headers(invocation)]
            await stream.send_simple(502, headers, ERROR_BODY)
            return "502"
        assert isinstance(first, ClientResponseHead)
        # Values go out as UTF-8: h11 would refuse non-ASCII text, and header values from a
        # prelude are JSON strings that may hold any character.
        fields = [
            (name.encode("ascii"), value.encode("utf-8"))
            for name, value in (*first.headers, *_platform_headers(invocation))
        ]
        await stream.send(h11.Response(status_code=first.status, headers=fields))
        bodyless = method == "HEAD" or first.status in BODYLESS_STATUSES
        return await self._stream_body(stream, invocation, first.status, bodyless)

    async def _stream_body(self, stream: ServerConnection, invocation: Invocation, status: int, bodyless: bool) -> str:
        while True:
            items = await invocation.channel.get_batch()
            body = [item.data for item in items if isinstance(item, BodyChunk)]
            if body and not bodyless:
                await stream.send_data(body)
            last = items[-1]
            if isinstance(last, ResponseEnd):
                await stream.send(h11.EndOfMessage())
                return str(status)
            if isinstance(last, InvocationFailure):
                _log_failure(invocation, last)
                stream.abort()
                return f"{status}, cut: {last.error_type}"


def _platform_headers(invocation: Invocation) -> list[tuple[str, str]]:
    # Header fields a Function URL adds to every response (seen in real responses, e.g.
    # aws-lambda-web-adapter issue #491).
    return [("x-amzn-RequestId", invocation.request_id), ("X-Amzn-Trace-Id", invocation.trace_root)]


def _log_failure(invocation: Invocation, failure: InvocationFailure) -> None:
    log.error("RequestId: %s Failed: %s: %s", invocation.request_id, failure.error_type, failure.message)
