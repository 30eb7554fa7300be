"""PieceReader over real loopback connections: order, flow control, end of stream, errors.

Each test runs :func:`start_piece_server` on 127.0.0.1 and talks to it with an ordinary
asyncio client.  Nothing waits on the clock: a test waits for a condition to hold (paused
socket, error recorded), with a generous bound only so a broken reader fails the test
instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from s3proxy_dev.function_url.piece_reader import PieceReader, start_piece_server

pytestmark = pytest.mark.anyio

KIB = 1024
MIB = 1024 * KIB
LIMIT = 64 * KIB
RECV_SIZE = 256 * KIB
"""The most bytes asyncio's selector transport receives in one piece (``max_size``)."""
WAIT = 60.0
"""Seconds a condition may take to hold on a loaded machine before the test fails."""


@dataclass
class Link:
    """Both ends of one loopback connection: the server's PieceReader and the client's streams."""

    reader: PieceReader
    server: asyncio.StreamWriter
    client_reader: asyncio.StreamReader
    client: asyncio.StreamWriter


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def _link(limit: int = LIMIT) -> AsyncIterator[Link]:
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    accepted = asyncio.get_running_loop().create_future()
    finished = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result((reader, writer))
        await finished.wait()
        writer.close()

    server = await start_piece_server(handler, "127.0.0.1", 0, limit)
    port = server.sockets[0].getsockname()[1]
    client_reader, client = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(WAIT):
            reader, writer = await accepted
        assert isinstance(reader, PieceReader)
        yield Link(reader, writer, client_reader, client)
    finally:
        finished.set()
        client.transport.abort()
        server.close()
        await server.wait_closed()


async def _read(reader: PieceReader, *n: int) -> bytes:
    async with asyncio.timeout(WAIT):
        return await reader.read(*n)


async def _read_all(reader: PieceReader, n: int = MIB) -> bytes:
    received = bytearray()
    while piece := await _read(reader, n):
        assert len(piece) <= n
        received += piece
    return bytes(received)


async def test_bytes_arrive_whole_and_in_order_across_many_writes() -> None:
    rng = random.Random(7)
    writes = [rng.randbytes(rng.randrange(1, 20 * KIB)) for _ in range(2000)]
    async with _link() as link:
        reading = asyncio.create_task(_read_all(link.reader, n=5000))
        for chunk in writes:
            link.client.write(chunk)
            await link.client.drain()
        link.client.write_eof()
        async with asyncio.timeout(WAIT):
            received = await reading
    assert received == b"".join(writes)
    assert link.reader.at_eof()


async def test_a_read_returns_at_most_n_bytes_and_keeps_the_rest_for_the_next() -> None:
    async with _link() as link:
        link.client.write(b"0123456789")
        link.client.write_eof()
        assert await _read(link.reader, 4) == b"0123"
        assert not link.reader.at_eof()
        assert await _read(link.reader, 4) == b"4567"
        assert await _read(link.reader, 100) == b"89"
        assert await _read(link.reader, 100) == b""


@pytest.mark.parametrize("n", [0, -1])
async def test_a_size_below_one_is_refused(n: int) -> None:
    async with _link() as link:
        link.client.write(b"kept")
        with pytest.raises(ValueError):
            await _read(link.reader, n)
        with pytest.raises(ValueError):
            await _read(link.reader)
        assert await _read(link.reader, 100) == b"kept"


async def test_reading_pauses_past_twice_the_limit_and_resumes_at_the_limit() -> None:
    # 64 MiB exceeds what the kernel can hold for this connection (tcp_rmem and
    # tcp_wmem at most 32 + 4 MiB here), so while the reader is paused the rest must
    # wait in the client's transport.
    payload = random.Random(11).randbytes(64 * MIB)
    limit = MIB  # more than one piece, so a resume too early or too late shows
    async with _link(limit) as link:
        server_transport = link.server.transport
        assert isinstance(server_transport, asyncio.Transport)
        for start in range(0, len(payload), 256 * KIB):
            link.client.write(payload[start : start + 256 * KIB])
        draining = asyncio.create_task(link.client.drain())
        await _until(lambda: not server_transport.is_reading())

        assert link.client.transport.get_write_buffer_size() > 0
        assert not draining.done()

        received = bytearray()
        while not server_transport.is_reading():
            received += await _read(link.reader, KIB)
        # Paused with more than 2 * limit queued (at most one piece more), resumed once
        # at most limit is: between limit and limit + one piece were read in between.
        assert limit < len(received) <= limit + RECV_SIZE + KIB

        reading = asyncio.create_task(_read_all(link.reader))
        async with asyncio.timeout(WAIT):
            await draining
        link.client.write_eof()
        async with asyncio.timeout(WAIT):
            received += await reading
    assert received == payload


async def test_end_of_stream_reads_empty_after_all_data_and_keeps_doing_so() -> None:
    async with _link() as link:
        link.client.write(b"last bytes")
        link.client.write_eof()
        assert await _read_all(link.reader) == b"last bytes"
        assert link.reader.at_eof()
        assert await _read(link.reader, 10) == b""
        assert link.reader.exception() is None


async def test_a_waiting_read_returns_empty_when_the_peer_closes() -> None:
    async with _link() as link:
        reading = asyncio.create_task(link.reader.read(10))
        await asyncio.sleep(0)  # the read is now waiting for a piece
        assert not reading.done()
        link.client.close()
        async with asyncio.timeout(WAIT):
            assert await reading == b""
        assert link.reader.at_eof()


async def test_a_second_concurrent_read_is_refused_and_the_first_still_gets_the_data() -> None:
    async with _link() as link:
        first = asyncio.create_task(link.reader.read(10))
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError):
            await _read(link.reader, 10)
        link.client.write(b"first")
        async with asyncio.timeout(WAIT):
            assert await first == b"first"


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close the client's socket with a TCP RST (SO_LINGER on, zero seconds)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_a_reset_raises_in_a_waiting_read_and_in_every_later_one() -> None:
    async with _link() as link:
        reading = asyncio.create_task(link.reader.read(10))
        await asyncio.sleep(0)
        _reset(link.client)
        async with asyncio.timeout(WAIT):
            with pytest.raises(ConnectionResetError):
                await reading
        error = link.reader.exception()
        assert isinstance(error, ConnectionResetError)
        with pytest.raises(ConnectionResetError) as later:
            await _read(link.reader, 10)
        assert later.value is error
        assert not link.reader.at_eof()


async def test_a_reset_raises_before_bytes_still_queued() -> None:
    async with _link() as link:
        link.client.write(b"hello")
        await link.client.drain()
        assert await _read(link.reader, 1) == b"h"
        _reset(link.client)
        await _until(lambda: link.reader.exception() is not None)
        with pytest.raises(ConnectionResetError):
            await _read(link.reader, 10)


async def test_the_server_writer_sees_the_reset_on_drain() -> None:
    async with _link() as link:
        _reset(link.client)
        await _until(lambda: link.reader.exception() is not None)
        with pytest.raises(ConnectionResetError):
            await link.server.drain()


async def test_an_address_in_use_raises_os_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    first = await start_piece_server(handler, "127.0.0.1", 0, LIMIT)
    try:
        port = first.sockets[0].getsockname()[1]
        with pytest.raises(OSError):
            await start_piece_server(handler, "127.0.0.1", port, LIMIT)
    finally:
        first.close()
        await first.wait_closed()
