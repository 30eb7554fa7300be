"""A small Runtime API on 127.0.0.1 for tests: serves queued invocations, records every request.

It parses requests with h11's server side (an independent parser from the client under test)
and keeps the raw bytes of each connection for byte-exact comparisons.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio
import h11

PREFIX = "/2018-06-01/runtime"


@dataclass
class Recorded:
    """One request as received: h11's view plus the connection's raw bytes."""

    method: str
    target: str
    headers: list[tuple[bytes, bytes]]
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    raw: bytes = b""

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    def header_values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]


@dataclass
class Queued:
    request_id: str
    event: bytes
    deadline_ms: int
    trace_id: str | None = None


class FakeRuntimeAPI:
    """Serve ``/next`` from a queue (blocking while empty, as a long poll) and accept posts with
    202; ``reply_status`` overrides the status of posts.  ``timeline`` logs ``next`` polls, in
    order with whatever the test app appends.

    For large bodies: ``keep_bodies = False`` keeps only sizes, ``read_size`` sets the bytes per
    socket read, and ``on_read`` is called with the size of every read.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.timeline: list[str] = []
        self.reply_status = 202
        self.keep_bodies = True
        self.read_size = 65536
        self.on_read: Callable[[int], None] = lambda size: None
        self.address = ""
        self._queue: asyncio.Queue[Queued] = asyncio.Queue()
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    def enqueue(self, event: object, request_id: str = "req-1", seconds: float = 60.0, **kwargs: str) -> None:
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        deadline_ms = int((time.time() + seconds) * 1000)
        self._queue.put_nowait(Queued(request_id, payload, deadline_ms, **kwargs))

    def posts(self, suffix: str = "") -> list[Recorded]:
        return [item for item in self.requests if item.method == "POST" and item.target.endswith(suffix)]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        with anyio.fail_after(timeout):
            async with self._changed:
                await self._changed.wait_for(condition)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, h11.RemoteProtocolError):
            pass
        except asyncio.CancelledError:
            # Only ``running()`` cancels handlers, at shutdown; ending quietly keeps asyncio's
            # stream callback from logging the cancellation as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER)
        raw = bytearray()
        recorded: Recorded | None = None
        pieces: list[bytearray] = []
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(self.read_size)
                self.on_read(len(data))
                if self.keep_bodies:
                    raw += data
                connection.receive_data(data)
            elif isinstance(event, h11.Request):
                recorded = Recorded(event.method.decode(), event.target.decode(), list(event.headers))
            elif isinstance(event, h11.Data) and recorded is not None:
                recorded.size += len(event.data)
                if not self.keep_bodies:
                    continue
                if event.chunk_start or not pieces:
                    pieces.append(bytearray())
                pieces[-1] += event.data
            elif isinstance(event, h11.EndOfMessage) and recorded is not None:
                recorded.chunks = [bytes(piece) for piece in pieces]
                recorded.trailers = list(event.headers)
                recorded.raw = bytes(raw)
                await self._record(recorded)
                await self._respond(connection, writer, recorded)
                return
            else:
                return

    async def _record(self, recorded: Recorded) -> None:
        async with self._changed:
            self.requests.append(recorded)
            if recorded.target == PREFIX + "/invocation/next":
                self.timeline.append("next")
            self._changed.notify_all()

    async def _respond(self, connection: h11.Connection, writer: asyncio.StreamWriter, recorded: Recorded) -> None:
        if recorded.target == PREFIX + "/invocation/next":
            queued = await self._queue.get()
            headers = [
                ("Lambda-Runtime-Aws-Request-Id", queued.request_id),
                ("Lambda-Runtime-Deadline-Ms", str(queued.deadline_ms)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:proxy"),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(queued.event))),
            ]
            if queued.trace_id:
                headers.append(("Lambda-Runtime-Trace-Id", queued.trace_id))
            status, body = 200, queued.event
        else:
            status, body = self.reply_status, b'{"status":"OK"}'
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        writer.write(connection.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(connection.send(h11.Data(data=body)) or b"")
        writer.write(connection.send(h11.EndOfMessage()) or b"")
        await writer.drain()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeRuntimeAPI]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"
        try:
            yield self
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await server.wait_closed()
