"""Server-side HTTP/1.1 connections of both emulator servers (the Runtime API and the HTTP front).

Framing, backpressure, abort and close come from the product's
:class:`service.lambda_bridge.http1.H11Connection`, the same core our runtime's client
connections use.  This module adds what only a server needs: reads of a size set per server
(the Runtime API reads a streamed response in large pieces), body pieces sent with one write
(:meth:`ServerConnection.send_data`), the head size limit, ``100 Continue``, refusing a
malformed request with a lingering close, keep-alive between requests, optional deadlines for
slow and idle clients (:class:`ClientTimeouts`), and one error vocabulary for the handlers
(:class:`PeerGone`, :class:`RefusedRequest` and its :class:`MalformedRequest` and
:class:`LateRequestHead`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

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


class RefusedRequest(PeerGone):
    """The request is answered with ``status`` and a one-line reason, then the connection
    closes (see :meth:`ServerConnection.refuse`)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedRequest(RefusedRequest):
    """The peer sent bytes that are not valid HTTP/1.1; ``status`` is the code to answer
    with (400, or 431 for oversized header fields, as h11 suggests)."""


class LateRequestHead(RefusedRequest):
    """The request head was not complete by its deadline: ``408 Request Timeout``
    (RFC 9110 §15.5.9)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request head did not arrive within {seconds:g} s", 408)


@dataclass(frozen=True)
class ClientTimeouts:
    """Deadlines for the clients of a public server, in seconds.

    ``header_timeout``: a request head must be complete this long after the connection
    opened, or after the first byte of a later request on a kept-alive connection arrived.
    ``idle_timeout``: a kept-alive connection waits this long for that first byte, then
    closes without a word (RFC 9112 §9.8 lets either side close an idle connection).
    """

    header_timeout: float
    idle_timeout: float


class ServerConnection(H11Connection):
    """One server-side HTTP/1.1 connection (RFC 9112) with h11 doing the protocol work.

    Its reads and writes raise :class:`PeerGone` (or a :class:`RefusedRequest`) instead of
    the socket's and h11's errors.  ``head_timeout`` (set by :func:`serve_connection`)
    bounds each request head; ``read_size`` is the most bytes asked of the socket per read.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, read_size: int = READ_SIZE) -> None:
        super().__init__(h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES), reader, writer)
        self.read_size = read_size
        self.head_timeout: float | None = None
        """Seconds the next request head may take from :meth:`start_head_clock` (``None``: no limit)."""
        self._head_deadline: float | None = None

    def start_head_clock(self) -> None:
        """Start the :attr:`head_timeout` of the next request head now."""
        if self.head_timeout is not None:
            self._head_deadline = asyncio.get_running_loop().time() + self.head_timeout

    async def wait_for_request(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first byte of the next request.

        Returns False if none came, or the peer closed; the bytes read are kept for h11.

        Raises:
            PeerGone: the connection broke.
        """
        pending, closed = self.protocol.trailing_data
        if pending or closed:
            return bool(pending)
        waiting = asyncio.timeout(timeout)
        try:
            async with waiting:
                data = await self.reader.read(self.read_size)
        except OSError as exc:  # TimeoutError among them
            if waiting.expired():
                return False
            raise PeerGone(str(exc)) from exc
        self.protocol.receive_data(data)
        return bool(data)

    @property
    def peer_ip(self) -> str:
        """The peer's IP address as text (``"127.0.0.1"``), or ``""`` if unknown."""
        peer = self.writer.get_extra_info("peername")
        return str(peer[0]) if peer else ""

    async def next_event(self) -> h11.Event:
        """Return the next h11 event, reading from the socket as needed.

        Raises:
            MalformedRequest: the peer violated HTTP/1.1.
            LateRequestHead: the request head was not complete by its deadline.
            PeerGone: the peer vanished mid-message, or pipelined a request.
        """
        try:
            event = await self._next_event_in_time()
        except h11.RemoteProtocolError as exc:
            raise MalformedRequest(f"bad HTTP/1.1 from peer: {exc}", exc.error_status_hint) from exc
        except OSError as exc:
            raise PeerGone(str(exc)) from exc
        if event is h11.PAUSED:
            # Only a pipelined request arrives while we still answer the last one; the
            # emulator does not pipeline, so the connection ends here.
            raise PeerGone("pipelined request")
        return event  # type: ignore[return-value]  # PAUSED is ruled out above

    async def _next_event_in_time(self) -> h11.Event | type[h11.PAUSED]:
        """The next event; while a request head is awaited, by its deadline."""
        if self._head_deadline is None or self.protocol.their_state is not h11.IDLE:
            return await self._read_event()
        timeout = asyncio.timeout_at(self._head_deadline)
        try:
            async with timeout:
                return await self._read_event()
        except TimeoutError as exc:
            if not timeout.expired():
                raise  # the socket's own ETIMEDOUT, a broken connection
            assert self.head_timeout is not None  # the deadline comes from it
            raise LateRequestHead(self.head_timeout) from exc

    async def _read_event(self) -> h11.Event | type[h11.PAUSED]:
        """The base class's read loop, with up to :attr:`read_size` bytes per read."""
        protocol = self.protocol
        event = protocol.next_event()
        while event is h11.NEED_DATA:
            protocol.receive_data(await self.reader.read(self.read_size))
            event = protocol.next_event()
        return event  # type: ignore[return-value]  # NEED_DATA is ruled out by the loop

    async def send(self, event: h11.Event) -> None:
        """Serialise ``event`` with h11 and write it, waiting for the socket to drain.

        Raises:
            PeerGone: the peer has gone away.
        """
        try:
            await super().send(event)
        except OSError as exc:
            raise PeerGone(str(exc)) from exc

    async def send_data(self, pieces: Iterable[bytes]) -> None:
        """Send each of ``pieces`` as body data with one write and one wait for the socket to
        drain (h11 frames them without copying; the transport sends the frames as one buffer).

        Raises:
            PeerGone: the peer has gone away.
        """
        frames: list[bytes] = []
        for piece in pieces:
            frames += self.protocol.send_with_data_passthrough(h11.Data(data=piece)) or ()
        try:
            self.writer.writelines(frames)
            await self.writer.drain()
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

    async def refuse(self, error: RefusedRequest) -> None:
        """Answer a refused request with ``error.status`` and a one-line reason, if h11
        still allows a response on this connection (RFC 9112 §2.2 lets a server reply 400;
        RFC 9110 §15.5.9 lets it send 408 before a request is complete)."""
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


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    timeouts: ClientTimeouts | None = None,
    read_size: int = READ_SIZE,
) -> None:
    """Run ``handler`` for each request on one connection until either side ends it.

    With ``timeouts``, a head that comes late is a :class:`LateRequestHead` for the handler
    to refuse, and an idle kept-alive connection is closed; without, clients may take any
    time (the Runtime API's ``/next`` is a long poll).  ``read_size``: bytes per socket read.
    """
    stream = ServerConnection(reader, writer, read_size)
    if timeouts is not None:
        stream.head_timeout = timeouts.header_timeout
    try:
        stream.start_head_clock()
        while True:
            await handler(stream)
            if not stream.reusable():
                break
            if timeouts is not None and not await stream.wait_for_request(timeouts.idle_timeout):
                break
            stream.start_head_clock()
    except PeerGone:
        pass
    finally:
        await stream.aclose()
