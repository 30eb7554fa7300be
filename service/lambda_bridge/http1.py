"""HTTP/1.1 over asyncio streams with h11: the connection core, and our Runtime API client.

h11 does all the protocol work: heads, the chunked coding, trailer sections (RFC 9112 §7.1)
and keep-alive.  :class:`H11Connection` only moves its bytes between an
:class:`asyncio.StreamReader`/:class:`asyncio.StreamWriter` pair and an
:class:`h11.Connection` of either role.  Our runtime's client connections to the Runtime API
(:class:`RuntimeAPIConnection`) are built on it here; the local Function URL emulator of the
developer tools builds its server connections on it too, so it lives in the product, which
imports nothing of theirs.

The core raises what h11 and the socket raise; each side turns those into its own errors.
Every ``send`` awaits ``drain()``, so a slow reader on the other side holds the writer back
instead of letting the write buffer grow (backpressure).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import h11

from service.lambda_bridge.errors import RuntimeAPIError

READ_SIZE = 64 * 1024
"""Bytes asked of the socket per read."""


class H11Connection:
    """One HTTP/1.1 connection (RFC 9112): the h11 state machine ``protocol`` driven over
    ``reader`` and ``writer``.

    Errors are passed on as they come: reading raises ``h11.RemoteProtocolError`` for bytes
    that break HTTP/1.1 (its ``error_status_hint`` is the status to answer with) and
    ``OSError`` (``ConnectionError`` among them) when the socket fails; framing an event the
    connection's state does not allow raises ``h11.LocalProtocolError``.
    """

    def __init__(self, protocol: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.protocol = protocol
        self.reader = reader
        self.writer = writer

    async def next_event(self) -> h11.Event | type[h11.PAUSED]:
        """Return the next event, reading ``READ_SIZE`` bytes at a time while h11 needs data.

        At end of input h11 yields ``h11.ConnectionClosed``, or raises
        ``h11.RemoteProtocolError`` inside a message.  ``h11.PAUSED`` means the peer has
        started its next message before this cycle ended (see ``h11.Connection.next_event``).

        Raises:
            h11.RemoteProtocolError: the peer broke HTTP/1.1 framing.
            OSError: the connection broke.
        """
        protocol = self.protocol
        event = protocol.next_event()
        while event is h11.NEED_DATA:
            protocol.receive_data(await self.reader.read(READ_SIZE))
            event = protocol.next_event()
        return event  # type: ignore[return-value]  # NEED_DATA is ruled out by the loop

    def write(self, event: h11.Event) -> bool:
        """Frame ``event`` and queue its bytes without waiting; return whether any were queued.

        ``h11.Data`` payloads are handed to the transport as they are, not copied into a frame.

        Raises:
            h11.LocalProtocolError: the connection's state does not allow ``event``.
        """
        data = self.protocol.send_with_data_passthrough(event)
        if not data:
            return False
        self.writer.writelines(data)
        return True

    async def send(self, event: h11.Event) -> None:
        """Frame and write ``event``, then wait until the write buffer is below its high-water mark.

        Raises:
            h11.LocalProtocolError: the connection's state does not allow ``event``.
            OSError: the connection broke.
        """
        if self.write(event):
            await self.writer.drain()

    def abort(self) -> None:
        """Drop the connection at once (a reset), without finishing the message in flight.

        A chunked message cut this way lacks its last chunk, so the peer sees an incomplete
        message (RFC 9112 §8) rather than a clean end.
        """
        self.writer.transport.abort()

    async def aclose(self) -> None:
        """Close the connection politely (FIN); errors of a peer already gone are ignored."""
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@dataclass(frozen=True)
class Reply:
    """A complete HTTP response: ``status``, ``headers`` (lower-case names) and ``body`` bytes."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> str | None:
        """The first value of the lower-case field ``name`` as text, or ``None``."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None


class RuntimeAPIConnection(H11Connection):
    """One client connection to the Runtime API; one request and its reply travel over it,
    then it is closed.

    A fresh connection per call mirrors AWS's Python runtime client and leaves nothing stale
    behind when Lambda freezes the process between invocations.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(h11.Connection(h11.CLIENT), reader, writer)

    @classmethod
    async def open(cls, host: str, port: int) -> RuntimeAPIConnection:
        """Connect to ``host:port``.  Raises ``OSError`` when the connection fails."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def receive_reply(self, what: str) -> Reply:
        """Read one whole response to the call ``what`` (named in errors).

        Raises:
            RuntimeAPIError: the peer closed the connection early or broke HTTP/1.1 framing.
            OSError: the connection broke.
        """
        response: h11.Response | None = None
        body = bytearray()
        while True:
            event = await self._next_reply_event(what)
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and response is not None:
                return Reply(response.status_code, list(response.headers), bytes(body))

    async def _next_reply_event(self, what: str) -> h11.Event:
        try:
            event = await self.next_event()
        except h11.RemoteProtocolError as exc:
            raise RuntimeAPIError(what, None, f"(invalid HTTP/1.1: {exc})") from None
        if isinstance(event, h11.ConnectionClosed) or not isinstance(event, h11.Event):
            raise RuntimeAPIError(what, None, "(connection closed before the reply)")
        return event
