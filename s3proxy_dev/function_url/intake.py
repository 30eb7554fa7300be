"""Read a runtime's ``/response`` body and feed the client-facing outcomes as bytes arrive.

Streaming follows docs runtimes-custom.html#runtimes-custom-response-streaming: a chunked
body, optionally ended by the trailers ``Lambda-Runtime-Function-Error-Type`` and
``Lambda-Runtime-Function-Error-Body`` (base64 JSON) for an error after the first byte.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
from dataclasses import dataclass

import h11

from s3proxy_dev.function_url.config import PlatformLimits, UrlInvokeMode
from s3proxy_dev.function_url.h11io import PeerGone, ServerConnection
from s3proxy_dev.function_url.limits import ResponseMeter, ResponseTooLarge
from s3proxy_dev.function_url.outcome import (
    BodyChunk,
    ChannelClosed,
    ClientResponseHead,
    InvocationFailure,
    OutcomeChannel,
    ResponseEnd,
)
from s3proxy_dev.function_url.responses import (
    PRELUDE_CONTENT_TYPE,
    BadResponse,
    PreludeDecoder,
    decode_buffered,
)

log = logging.getLogger("s3proxy_dev.function_url")

ERROR_TYPE_TRAILER = b"lambda-runtime-function-error-type"
ERROR_BODY_TRAILER = b"lambda-runtime-function-error-body"


@dataclass(frozen=True)
class Intake:
    """How to read one response POST: the URL's mode, the runtime's mode and content type."""

    url_mode: UrlInvokeMode
    streaming: bool
    content_type: str
    limits: PlatformLimits | None


class RawStart:
    """The decoder of a stream without a prelude: status 200 and the runtime's content type.

    The head waits for the first body byte, so an error reported before any byte still gives
    the client a 502 (as ``/error`` does) rather than a cut 200.
    """

    def __init__(self, content_type: str) -> None:
        self._head = ClientResponseHead(200, [("content-type", content_type)])
        self.head: ClientResponseHead | None = None

    def feed(self, data: bytes) -> bytes:
        """Return ``data`` unchanged; the head becomes available with the first bytes."""
        self.head = self._head
        return data

    def finish(self) -> None:
        """Make the head available for a stream that ended without body bytes."""
        self.head = self._head


class Truncated(Exception):
    """The runtime's connection broke before the response body was complete."""


async def read_data(stream: ServerConnection) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
    """Return the next body piece, or ``(None, trailers)`` at the end of the body.

    Raises :class:`Truncated` if the connection ends first.
    """
    try:
        event = await stream.next_event()
    except PeerGone as exc:
        raise Truncated(str(exc)) from exc
    if isinstance(event, h11.Data):
        return bytes(event.data), []
    if isinstance(event, h11.EndOfMessage):
        return None, list(event.headers)
    raise Truncated(f"unexpected {type(event).__name__} in the response body")


async def relay_response(stream: ServerConnection, intake: Intake, channel: OutcomeChannel) -> int:
    """Read the whole response POST body and put the client's outcomes into ``channel``.

    Returns the HTTP status for the runtime: 202, or 413 when the response was cut for size.
    Raises :class:`Truncated` when the body broke off.
    """
    if intake.streaming and intake.url_mode == "RESPONSE_STREAM":
        return await _relay_stream(stream, intake, channel)
    return await _relay_buffered(stream, intake, channel)


async def _relay_stream(stream: ServerConnection, intake: Intake, channel: OutcomeChannel) -> int:
    meter = ResponseMeter(intake.limits, streamed=True)
    decoder = PreludeDecoder() if intake.content_type == PRELUDE_CONTENT_TYPE else RawStart(intake.content_type)
    while True:
        data, trailers = await read_data(stream)
        if data is None:
            await _stream_end(channel, decoder, trailers)
            return 202
        try:
            await meter.admit(len(data))
        except ResponseTooLarge as exc:
            return await _cut_for_size(stream, channel, exc)
        await _forward(channel, decoder, data)


async def _cut_for_size(stream: ServerConnection, channel: OutcomeChannel, error: ResponseTooLarge) -> int:
    """Fail the invocation, then read and drop the rest of the body before answering 413.

    Answering while the runtime still writes would reset its connection and crash a client
    that does not expect it (AWS's Node.js client dies on the unhandled ECONNRESET).
    """
    await channel.fail(InvocationFailure("Function.ResponseSizeTooLarge", str(error)))
    while (await read_data(stream))[0] is not None:
        pass
    return 413


async def _forward(channel: OutcomeChannel, decoder: PreludeDecoder | RawStart, data: bytes) -> None:
    had_head = decoder.head is not None
    try:
        body = decoder.feed(data)
    except BadResponse as exc:
        await channel.fail(InvocationFailure("InvalidPrelude", str(exc)))
        return
    if not had_head and decoder.head is not None:
        await _put(channel, decoder.head)
    if body:
        await _put(channel, BodyChunk(body))


async def _stream_end(
    channel: OutcomeChannel, decoder: PreludeDecoder | RawStart, trailers: list[tuple[bytes, bytes]]
) -> None:
    failure = failure_from_trailers(trailers)
    if failure is not None:
        await channel.fail(failure)
        return
    had_head = decoder.head is not None
    try:
        decoder.finish()
    except BadResponse as exc:
        await channel.fail(InvocationFailure("InvalidPrelude", str(exc)))
        return
    if not had_head and decoder.head is not None:
        await _put(channel, decoder.head)
    await _put(channel, ResponseEnd())


def failure_from_trailers(trailers: list[tuple[bytes, bytes]]) -> InvocationFailure | None:
    """Return the mid-stream error the runtime reported in its trailers, if any."""
    fields = dict(trailers)
    error_type = fields.get(ERROR_TYPE_TRAILER)
    if error_type is None:
        return None
    return InvocationFailure(error_type.decode("latin-1"), _error_message(fields.get(ERROR_BODY_TRAILER)))


def _error_message(encoded: bytes | None) -> str:
    """Best-effort ``errorMessage`` from the base64 JSON error body, for the log."""
    if not encoded:
        return ""
    try:
        details = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return encoded.decode("latin-1")
    if isinstance(details, dict):
        return str(details.get("errorMessage", details))
    return str(details)


async def _relay_buffered(stream: ServerConnection, intake: Intake, channel: OutcomeChannel) -> int:
    meter = ResponseMeter(intake.limits, streamed=False)
    parts: list[bytes] = []
    while True:
        data, trailers = await read_data(stream)
        if data is None:
            break
        try:
            await meter.admit(len(data))
        except ResponseTooLarge as exc:
            return await _cut_for_size(stream, channel, exc)
        parts.append(data)
    failure = failure_from_trailers(trailers)
    if failure is not None:
        await channel.fail(failure)
        return 202
    await _deliver_whole(channel, intake, b"".join(parts))
    return 202


async def _deliver_whole(channel: OutcomeChannel, intake: Intake, payload: bytes) -> None:
    if intake.url_mode == "RESPONSE_STREAM":
        # A buffered result reaching a streaming URL is passed through as it is: status 200,
        # the runtime's content type, the JSON text as body (reference page §3.4).
        head = ClientResponseHead(200, [("content-type", intake.content_type)])
        body = payload
    else:
        try:
            head, body = decode_buffered(payload)
        except BadResponse as exc:
            await channel.fail(InvocationFailure("InvalidResponse", str(exc)))
            return
    await _put(channel, head)
    if body:
        await _put(channel, BodyChunk(body))
    await _put(channel, ResponseEnd())


async def _put(channel: OutcomeChannel, item: ClientResponseHead | BodyChunk | ResponseEnd | InvocationFailure) -> None:
    # After a cut (timeout, bad prelude) the runtime may still be sending; its bytes are dropped.
    with contextlib.suppress(ChannelClosed):
        await channel.put(item)
