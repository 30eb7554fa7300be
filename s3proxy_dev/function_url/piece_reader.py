"""The read side of the emulator's connections: received bytes handed on as the socket gave them.

:class:`asyncio.StreamReader` copies every received piece into one buffer and copies it out
again on each read, three copies of each byte and, as the buffer grows and shrinks, a stream
of allocations.  A runtime streams hundreds of megabytes through the Runtime API, so that
work was a large share of the emulator's time per byte.  :class:`PieceReader` keeps the
received ``bytes`` objects in a queue and returns them from :meth:`PieceReader.read` as they
are; it keeps the stream's flow control (reading pauses past twice ``limit`` bytes queued and
resumes at ``limit``), EOF and error semantics.  Only :meth:`~PieceReader.read` is offered: the
emulator reads nothing else, and h11 finds lines and frames itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import SupportsIndex

ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class PieceReader(asyncio.StreamReader):
    """A stream reader whose :meth:`read` returns received pieces without copying them.

    ``limit`` (bytes) sets the flow control: the transport is paused while more than
    ``2 * limit`` bytes wait to be read, and resumed once at most ``limit`` do.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._read_limit = limit
        self._pieces: deque[bytes] = deque()
        self._queued = 0
        self._ended = False
        self._error: Exception | None = None
        self._reading: asyncio.ReadTransport | None = None
        self._paused_reading = False
        self._data_waiter: asyncio.Future[None] | None = None

    def set_transport(self, transport: asyncio.BaseTransport) -> None:
        """Called by the protocol when the connection is made."""
        if isinstance(transport, asyncio.ReadTransport):
            self._reading = transport

    def exception(self) -> Exception | None:
        """The error the connection was lost with, if it was."""
        return self._error

    def set_exception(self, exc: Exception) -> None:
        """Called by the protocol when the connection is lost with ``exc``; a waiting read raises it."""
        self._error = exc
        self._wake()

    def feed_eof(self) -> None:
        """Called by the protocol at the peer's end of stream (or a clean close)."""
        self._ended = True
        self._wake()

    def at_eof(self) -> bool:
        """True once the peer ended the stream and every piece has been read."""
        return self._ended and not self._pieces

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        """Called by the protocol with each piece received; pauses reading past ``2 * limit`` queued."""
        piece = data if isinstance(data, bytes) else bytes(data)
        if not piece:
            return
        self._pieces.append(piece)
        self._queued += len(piece)
        self._wake()
        if self._reading is not None and not self._paused_reading and self._queued > 2 * self._read_limit:
            self._reading.pause_reading()
            self._paused_reading = True

    async def read(self, n: int = -1) -> bytes:
        """Return the oldest received piece, at most ``n`` bytes of it (``n`` > 0), waiting for one.

        Returns ``b""`` at the end of the stream.  Raises the error the connection was lost with
        (an :class:`OSError`), and :class:`ValueError` for ``n`` < 1.
        """
        if n < 1:
            raise ValueError("PieceReader.read needs a positive size")
        if self._error is not None:
            raise self._error
        if not self._pieces and not self._ended:
            await self._wait()
        if not self._pieces:
            return b""
        piece = self._pieces.popleft()
        if len(piece) > n:
            self._pieces.appendleft(piece[n:])
            piece = piece[:n]
        self._queued -= len(piece)
        self._resume_if_drained()
        return piece

    async def _wait(self) -> None:
        if self._data_waiter is not None:
            raise RuntimeError("read() called while another read() is waiting")
        self._data_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._data_waiter
        finally:
            self._data_waiter = None
        if self._error is not None:
            raise self._error

    def _wake(self) -> None:
        waiter = self._data_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resume_if_drained(self) -> None:
        if self._paused_reading and self._queued <= self._read_limit and self._reading is not None:
            self._paused_reading = False
            self._reading.resume_reading()


async def start_piece_server(handler: ConnectionHandler, host: str, port: int, limit: int) -> asyncio.Server:
    """Listen on ``host:port`` like :func:`asyncio.start_server`, reading with a :class:`PieceReader`.

    Raises :class:`OSError` when the address cannot be bound.
    """
    loop = asyncio.get_running_loop()

    def protocol() -> asyncio.StreamReaderProtocol:
        return asyncio.StreamReaderProtocol(PieceReader(limit), handler)

    return await loop.create_server(protocol, host=host, port=port)
