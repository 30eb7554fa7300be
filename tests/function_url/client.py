"""A test HTTP/1.1 client (h11 over asyncio) that records exactly what a client observes.

Unlike httpx it keeps the bytes received before a connection is cut, and it reports the
framing (chunked or Content-Length), so tests can tell a clean end from an aborted stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

from tests.oracles.cases import OracleExpectation, OracleRequest

DEADLINE = 20.0
"""Seconds any one exchange may take before the test fails."""

FirstChunkHook = Callable[[bytes], Awaitable[None]]


@dataclass
class Observed:
    """What the client saw: status, header fields (lower-case names), body, and whether the
    message ended cleanly (``complete``) and how it was framed."""

    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False
    chunked: bool = False

    def values(self, name: str) -> list[str]:
        """All values of header ``name`` in order."""
        return [value for key, value in self.headers if key == name.lower()]

    def value(self, name: str) -> str | None:
        """The single value of header ``name``, or ``None``."""
        found = self.values(name)
        return found[0] if found else None


async def fetch(base_url: str, request: OracleRequest, on_first_chunk: FirstChunkHook | None = None) -> Observed:
    """Send ``request`` to ``base_url`` on a fresh connection and record the response.

    ``on_first_chunk`` runs when the first body bytes arrive, before reading on.
    """
    parts = urlsplit(base_url)
    async with asyncio.timeout(DEADLINE):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            return await _exchange(reader, writer, parts.netloc, request, on_first_chunk)
        finally:
            writer.close()


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    request: OracleRequest,
    on_first_chunk: FirstChunkHook | None,
) -> Observed:
    conn = h11.Connection(h11.CLIENT)
    headers = [("Host", host), *request.headers]
    if request.body:
        headers.append(("Content-Length", str(len(request.body))))
    writer.write(conn.send(h11.Request(method=request.method, target=request.target, headers=headers)))
    if request.body:
        writer.write(conn.send(h11.Data(data=request.body)))
    writer.write(conn.send(h11.EndOfMessage()))
    await writer.drain()
    observed = Observed()
    while True:
        try:
            event = await _next_event(conn, reader)
        except h11.RemoteProtocolError:
            return observed
        if isinstance(event, h11.Response):
            observed.status = event.status_code
            observed.headers = [(k.decode().lower(), v.decode("latin-1")) for k, v in event.headers]
            observed.chunked = "chunked" in (observed.value("transfer-encoding") or "")
        elif isinstance(event, h11.Data):
            first = not observed.body
            observed.body += bytes(event.data)
            if first and on_first_chunk is not None:
                await on_first_chunk(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            observed.complete = True
            return observed
        elif isinstance(event, h11.ConnectionClosed):
            return observed


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> h11.Event:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event  # type: ignore[return-value]
        try:
            data = await reader.read(65536)
        except ConnectionResetError:
            data = b""  # an aborted connection is an end of data like any other
        conn.receive_data(data)


def assert_matches(observed: Observed, expected: OracleExpectation) -> None:
    """Assert the observation is what ``expected`` says a Function URL client sees."""
    assert (observed.status, observed.complete) == (expected.status, expected.complete), observed
    for name, value in expected.headers:
        assert observed.values(name) == [value], (name, observed.headers)
    assert observed.values("set-cookie") == list(expected.set_cookies)
    assert observed.value("x-amzn-requestid"), "every Function URL response carries x-amzn-RequestId"
    if expected.body_json is not None:
        assert json.loads(observed.body) == expected.body_json
    else:
        assert observed.body == expected.body
