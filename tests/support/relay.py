"""A TCP relay between the proxy and an S3 server that counts bytes and injects faults.

The fake S3 servers cannot throttle, fail with 5xx, stall or break a body half-way;
this relay can, and it sees what really crosses the wire: how many body bytes left S3
and whether the proxy's S3 connections were closed.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11


@dataclass(frozen=True)
class Canned:
    """Answer every request with this S3 error instead of forwarding it."""

    status: int
    code: str


@dataclass(frozen=True)
class Stall:
    """Accept requests and never answer (the proxy's read timeout must fire)."""


@dataclass(frozen=True)
class CutAfter:
    """Forward, but drop the connection once this many bytes came back from S3."""

    limit: int


@dataclass(frozen=True)
class ResetAfter:
    """Forward, but reset the connection (TCP RST) once this many bytes came back from S3."""

    limit: int


@dataclass(frozen=True)
class Refuse:
    """Reset every connection as soon as it is accepted, before a byte is read (S3 unreachable)."""


@dataclass(frozen=True)
class StallAfter:
    """Forward until this many bytes came back from S3, then send nothing more but keep the
    connection open (a body that stops arriving; the proxy's read timeout would fire)."""

    limit: int


@dataclass(frozen=True)
class Throttle:
    """Forward, but at most this many bytes per second from S3, so a body takes a while to cross.

    Streaming tests use it to tell "sent as it arrives" from "read ahead": socket buffers on
    loopback can otherwise swallow tens of MiB before backpressure shows.
    """

    bytes_per_second: int


Fault = Canned | Stall | CutAfter | ResetAfter | Refuse | StallAfter | Throttle | None


class Relay:
    """Loopback TCP relay in its own thread; set :attr:`fault` before the proxy connects."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.fault: Fault = None
        """The fault of every connection made once :attr:`queued` is empty."""
        self.queued: list[Fault] = []
        """Faults for the next connections, one each, in order (e.g. cut the first one only)."""
        self.downstream_bytes = 0
        self.open_connections = 0
        self.connections_made = 0
        self.requests: list[tuple[str, str]] = []
        """(method, target) of every request forwarded to S3, in order."""
        self.request_headers: list[dict[str, str]] = []
        """The headers of each of :attr:`requests` (names lower-cased), in the same order."""
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(timeout=10)
        self._server = server
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def wait_until(self, condition: Callable[[Relay], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition(self)`` holds; fail the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"relay condition not met within {timeout}s: open={self.open_connections} "
                    f"bytes={self.downstream_bytes}"
                )
            time.sleep(0.01)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.open_connections += 1
            self.connections_made += 1
        try:
            fault = self._next_fault()
            if isinstance(fault, Refuse):
                _reset(writer)
            elif isinstance(fault, Canned):
                await _answer_canned(reader, writer, fault)
            elif isinstance(fault, Stall):
                await reader.read()  # until the proxy gives up and closes
            else:
                await self._forward(reader, writer, fault)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the proxy hung up, or the relay is shutting down
        finally:
            writer.close()
            with self._lock:
                self.open_connections -= 1

    def _next_fault(self) -> Fault:
        with self._lock:
            return self.queued.pop(0) if self.queued else self.fault

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        fault: CutAfter | ResetAfter | StallAfter | Throttle | None,
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        limit = fault.limit if isinstance(fault, CutAfter | ResetAfter | StallAfter) else None
        rate = fault.bytes_per_second if isinstance(fault, Throttle) else None
        hold = isinstance(fault, StallAfter)
        log = _RequestLog(self.requests, self.request_headers)
        upward = asyncio.ensure_future(_pipe(reader, up_writer, None, log.feed))
        downward = asyncio.ensure_future(_pipe(up_reader, writer, limit, self._count, rate, hold))
        try:
            await asyncio.wait({upward, downward}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            upward.cancel()
            downward.cancel()
            up_writer.close()
            if isinstance(fault, ResetAfter):
                _reset(writer)

    def _count(self, data: bytes) -> None:
        with self._lock:
            self.downstream_bytes += len(data)

    def requests_for(self, key_suffix: str) -> list[str]:
        """Methods of the S3 requests whose target ends with ``key_suffix`` (query ignored)."""
        return [method for method, target in self.requests if target.split("?")[0].endswith(key_suffix)]

    def headers_for(self, key_suffix: str) -> list[dict[str, str]]:
        """Headers of the S3 requests whose target ends with ``key_suffix``, in order."""
        return [
            headers
            for (_, target), headers in zip(self.requests, self.request_headers, strict=False)
            if target.split("?")[0].endswith(key_suffix)
        ]


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN: SO_LINGER on, with a zero timeout."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _RequestLog:
    """Reads request heads off the proxy-to-S3 byte stream (GET and HEAD carry no body)."""

    def __init__(self, into: list[tuple[str, str]], headers: list[dict[str, str]]) -> None:
        self._into = into
        self._headers = headers
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            request_line, *fields = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            self._headers.append(
                {name.strip().lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)}
            )
            self._into.append((method, target))


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    limit: int | None,
    observe: Callable[[bytes], None] | None,
    rate: int | None = None,
    hold: bool = False,
) -> None:
    """Copy ``reader`` to ``writer``; at ``limit`` bytes stop, and with ``hold`` stay open
    sending nothing until cancelled."""
    sent = 0
    while True:
        data = await reader.read(65536)
        if rate and data:
            await asyncio.sleep(len(data) / rate)
        if not data:
            return
        if observe:
            observe(data)
        if limit is not None and sent + len(data) >= limit:
            writer.write(data[: limit - sent])
            await writer.drain()
            if hold:
                await asyncio.Event().wait()
            return
        sent += len(data)
        writer.write(data)
        await writer.drain()


async def _answer_canned(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, canned: Canned) -> None:
    connection = h11.Connection(h11.SERVER)
    event = connection.next_event()
    while event is h11.NEED_DATA:
        connection.receive_data(await reader.read(65536))
        event = connection.next_event()
    if not isinstance(event, h11.Request):
        return
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{canned.code}</Code>'
        f"<Message>injected by the test relay</Message><RequestId>relay</RequestId></Error>"
    ).encode()
    headers = [("content-type", "application/xml"), ("content-length", str(len(body))), ("connection", "close")]
    writer.write(connection.send(h11.Response(status_code=canned.status, headers=headers)) or b"")
    if event.method != b"HEAD":
        writer.write(connection.send(h11.Data(data=body)) or b"")
    writer.write(connection.send(h11.EndOfMessage()) or b"")
    await writer.drain()


@contextmanager
def relay_to(upstream_url: str) -> Iterator[Relay]:
    """Run a :class:`Relay` in front of ``upstream_url`` for the ``with`` block."""
    relay = Relay(upstream_url)
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
