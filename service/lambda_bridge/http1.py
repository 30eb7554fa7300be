"""HTTP/1.1 client connections to the Runtime API: h11 framing over asyncio streams.

h11 writes the request head, the chunked coding and the trailer section (RFC 9112 §7.1);
this module only moves its bytes.  Each ``send`` awaits ``drain()``, so a slow reader on the
other side holds the writer back instead of letting the write buffer grow (backpressure).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import h11

from service.lambda_bridge.errors import RuntimeAPIError

READ_SIZE = 64 * 1024
"""Bytes asked of the socket per read."""


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


class HTTPConnection:
    """One client connection; one request and its reply travel over it, then it is closed.

    A fresh connection per call mirrors AWS's Python runtime client and leaves nothing stale
    behind when Lambda freezes the process between invocations.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, host: str, port: int) -> HTTPConnection:
        """Connect to ``host:port``.  Raises ``OSError`` when the connection fails."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    def write(self, event: h11.Event) -> None:
        """Frame ``event`` and queue its bytes without waiting (data is not copied)."""
        self._writer.writelines(self._h11.send_with_data_passthrough(event) or [])

    async def send(self, event: h11.Event) -> None:
        """Frame and write ``event``, then wait until the write buffer is below its high-water mark.

        Raises:
            OSError: the connection broke.
        """
        self.write(event)
        await self._writer.drain()

    async def receive_reply(self, what: str) -> Reply:
        """Read one whole response.

        Raises:
            RuntimeAPIError: the peer closed the connection early or broke HTTP/1.1 framing.
            OSError: the connection broke.
        """
        response: h11.Response | None = None
        body = bytearray()
        while True:
            event = await self._next_event(what)
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and response is not None:
                return Reply(response.status_code, list(response.headers), bytes(body))

    async def _next_event(self, what: str) -> h11.Event:
        try:
            event = self._h11.next_event()
            while event is h11.NEED_DATA:
                self._h11.receive_data(await self._reader.read(READ_SIZE))
                event = self._h11.next_event()
        except h11.RemoteProtocolError as exc:
            raise RuntimeAPIError(what, None, f"(invalid HTTP/1.1: {exc})") from None
        if isinstance(event, h11.ConnectionClosed) or not isinstance(event, h11.Event):
            raise RuntimeAPIError(what, None, "(connection closed before the reply)")
        return event

    async def aclose(self) -> None:
        """Close the socket; errors while closing are of no consequence and are ignored."""
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
