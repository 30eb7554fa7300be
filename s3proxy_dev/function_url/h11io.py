"""Server-side HTTP/1.1 connections of both emulator servers (the Runtime API and the HTTP front).

Reading, framing, backpressure, abort and close come from the product's
:class:`service.lambda_bridge.http1.H11Connection`, the same core our runtime's client
connections use.  This module adds what only a server needs: the head size limit, ``100
Continue``, refusing a malformed request with a lingering close, keep-alive between
requests, and one error vocabulary for the handlers (:class:`PeerGone`,
:class:`MalformedRequest`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable

import h11

from service.lambda_bridge.http1 import READ_SIZE, H11Connection

LINGER_SECONDS = 2.0
"""How long a refused connection keeps draining the peer's bytes before it closes."""

MAX_HEAD_BYTES = 128 * 1024
"""Largest request head accepted (bytes). h11 checks its 16 KiB default only while a head is
incomplete, so whether a 20-64 KiB head passed would depend on how TCP split it; a bound
well above real browsers' heads makes the answer not depend on segmentation."""


class PeerGone(Exception):
    """The peer closed or reset the connection, or sent bytes h11 rejects."""


class MalformedRequest(PeerGone):
    """The peer sent bytes that are not valid HTTP/1.1; ``status`` is the code to answer
    with (400, or 431 for oversized header fields, as h11 suggests)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ServerConnection(H11Connection):
    """One server-side HTTP/1.1 connection (RFC 9112) with h11 doing the protocol work.

    Its reads and writes raise :class:`PeerGone` (or :class:`MalformedRequest`) instead of
    the socket's and h11's errors.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES), reader, writer)

    @property
    def peer_ip(self) -> str:
        """The peer's IP address as text (``"127.0.0.1"``), or ``""`` if unknown."""
        peer = self.writer.get_extra_info("peername")
        return str(peer[0]) if peer else ""

    async def next_event(self) -> h11.Event:
        """Return the next h11 event, reading from the socket as needed.

        Raises:
            MalformedRequest: the peer violated HTTP/1.1.
            PeerGone: the peer vanished mid-message, or pipelined a request.
        """
        try:
            event = await super().next_event()
        except h11.RemoteProtocolError as exc:
            raise MalformedRequest(f"bad HTTP/1.1 from peer: {exc}", exc.error_status_hint) from exc
        except OSError as exc:
            raise PeerGone(str(exc)) from exc
        if event is h11.PAUSED:
            # Only a pipelined request arrives while we still answer the last one; the
            # emulator does not pipeline, so the connection ends here.
            raise PeerGone("pipelined request")
        return event  # type: ignore[return-value]  # PAUSED is ruled out above

    async def send(self, event: h11.Event) -> None:
        """Serialise ``event`` with h11 and write it, waiting for the socket to drain.

        Raises:
            PeerGone: the peer has gone away.
        """
        try:
            await super().send(event)
        except OSError as exc:
            raise PeerGone(str(exc)) from exc

    async def send_simple(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        """Send a complete response with a ``Content-Length`` body.  Raises :class:`PeerGone`."""
        pairs = [*headers, ("content-length", str(len(body)))]
        await self.send(h11.Response(status_code=status, headers=pairs))
        if body:
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())

    async def continue_if_expected(self) -> None:
        """Send ``100 Continue`` if the client waits for it before its body (RFC 9110 §10.1.1)."""
        if self.protocol.they_are_waiting_for_100_continue:
            await self.send(h11.InformationalResponse(status_code=100, headers=[]))

    async def refuse(self, error: MalformedRequest) -> None:
        """Answer a malformed request with ``error.status`` and a one-line reason, if h11
        still allows a response on this connection (RFC 9112 §2.2 lets a server reply 400)."""
        if self.protocol.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            reason = str(error).encode("utf-8", "replace") + b"\n"
            fields = [("content-type", "text/plain; charset=utf-8"), ("connection", "close")]
            await self.send_simple(error.status, fields, reason)
            await self._linger()

    async def _linger(self) -> None:
        """Half-close, then read and drop what the peer is still sending, for a moment.

        Closing with unread bytes makes the kernel reset the connection, and a reset can
        destroy the error answer before the client reads it (RFC 9112 §9.6, tear-down).
        """
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            if self.writer.can_write_eof():
                self.writer.write_eof()
            async with asyncio.timeout(LINGER_SECONDS):
                while await self.reader.read(READ_SIZE):
                    pass

    def reusable(self) -> bool:
        """Start the next request/response cycle if both sides allow keep-alive; else say no."""
        if self.protocol.our_state is h11.DONE and self.protocol.their_state is h11.DONE:
            self.protocol.start_next_cycle()
            return True
        return False


Handler = Callable[[ServerConnection], Awaitable[None]]


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """Return the first value of header ``name`` (lower-case bytes) as text, or ``None``."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
    """Run ``handler`` for each request on one connection until either side ends it."""
    stream = ServerConnection(reader, writer)
    try:
        while True:
            await handler(stream)
            if not stream.reusable():
                break
    except PeerGone:
        pass
    finally:
        await stream.aclose()
