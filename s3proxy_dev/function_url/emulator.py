"""Assemble the emulator: a pool of execution environments behind one Function URL front."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from s3proxy_dev.function_url.concurrent import ConcurrentEnvironment
from s3proxy_dev.function_url.config import EmulatorConfig
from s3proxy_dev.function_url.environment import ExecutionEnvironment
from s3proxy_dev.function_url.front import FunctionUrlFront
from s3proxy_dev.function_url.h11io import ClientTimeouts, Handler, serve_connection
from s3proxy_dev.function_url.invocation import InvocationQueue
from s3proxy_dev.function_url.outcome import InvocationFailure
from s3proxy_dev.function_url.piece_reader import start_piece_server
from s3proxy_dev.function_url.process import RuntimeSupervisor
from s3proxy_dev.function_url.runtime_api import RuntimeApi
from service.lambda_bridge.http1 import READ_SIZE

RUNTIME_API_HOST = "127.0.0.1"
RUNTIME_API_READ_SIZE = 1024 * 1024
"""Most bytes taken per read of a runtime's connection: a streamed response reaches h11 in
pieces as large as the socket delivers them (asyncio receives up to 256 KiB at a time), so
each h11 event and channel hop carries that much.  With the platform limits on, what is read
ahead of the bandwidth meter stays as it was with a StreamReader (the socket pauses past
twice ``READ_SIZE``, 128 KiB, unread), so a throttled runtime feels the 2 MB/s as soon; with
them off (``--no-limits``) there is no meter, and up to twice this is read ahead, which
spares a pause and a resume of the socket per piece received."""

log = logging.getLogger("s3proxy_dev.function_url")


class _Listener:
    """An asyncio server whose open connections are cancelled on :meth:`close`.

    Python 3.11's ``Server.close`` leaves accepted connections running, and a runtime's
    ``/next`` long-poll would otherwise outlive the emulator.  ``timeouts`` bound slow and
    idle clients; past ``max_connections`` served connections, a new one gets ``busy``
    instead of ``handler``.  ``read_size`` is the bytes per socket read (see
    :func:`h11io.serve_connection`); a connection's socket pauses past ``2 * read_ahead``
    bytes received and not read (see :class:`piece_reader.PieceReader`).
    """

    def __init__(
        self,
        handler: Handler,
        timeouts: ClientTimeouts | None = None,
        max_connections: int | None = None,
        busy: Handler | None = None,
        *,
        read_size: int = READ_SIZE,
        read_ahead: int = READ_SIZE,
    ) -> None:
        self._handler = handler
        self._read_size = read_size
        self._read_ahead = read_ahead
        self._timeouts = timeouts
        self._max_connections = max_connections
        self._busy = busy
        self._serving = 0
        self._connections: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._server = await start_piece_server(self._serve, host, port, self._read_ahead)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The work runs in a task of our own: cancelling the task asyncio.start_server made
        # would make asyncio log the cancellation as an error.
        full = self._max_connections is not None and self._serving >= self._max_connections
        handler = self._busy if full and self._busy is not None else self._handler
        counted = handler is self._handler
        task = asyncio.create_task(serve_connection(reader, writer, handler, self._timeouts, self._read_size))
        self._connections.add(task)
        self._serving += counted
        try:
            await asyncio.wait([task])
        finally:
            self._connections.discard(task)
            self._serving -= counted
        if not task.cancelled() and task.exception() is not None:
            log.error("connection failed", exc_info=task.exception())

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)


@dataclass
class _Slot:
    environment: ExecutionEnvironment
    listener: _Listener
    supervisor: RuntimeSupervisor
    task: asyncio.Task[None]


class FunctionUrlEmulator:
    """A local Function URL: ``async with FunctionUrlEmulator(config) as emulator: emulator.url``.

    Starting binds the front on ``config.host:config.port``, binds one loopback Runtime API per
    runtime process and starts ``config.pool_size`` processes of ``config.command``.
    Raises :class:`process.RuntimeStartError` if the command cannot be run and
    :class:`OSError` if the front cannot bind.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._queue = InvocationQueue()
        self._slots: list[_Slot] = []
        self._front: _Listener | None = None

    @property
    def url(self) -> str:
        """The front's base URL, e.g. ``http://127.0.0.1:9000``."""
        assert self._front is not None, "the emulator is not started"
        return f"http://{self.config.host}:{self._front.port}"

    @property
    def runtime_api_addresses(self) -> list[str]:
        """``host:port`` of each environment's Runtime API, in pool order."""
        return [f"{RUNTIME_API_HOST}:{slot.listener.port}" for slot in self._slots]

    @property
    def environments(self) -> list[ExecutionEnvironment]:
        """The execution environments, in pool order (their ``state`` is RAPID's state name)."""
        return [slot.environment for slot in self._slots]

    async def start(self) -> None:
        """Bind the listeners and start the runtime processes (see the class doc for errors)."""
        try:
            for _ in range(self.config.pool_size):
                self._slots.append(await self._start_slot())
            front = FunctionUrlFront(self.config, self._queue)
            timeouts = ClientTimeouts(self.config.header_timeout, self.config.idle_timeout)
            self._front = _Listener(front.handle, timeouts, self.config.max_connections, front.refuse_busy)
            await self._front.start(self.config.host, self.config.port)
        except BaseException:
            await self.close()
            raise

    async def _start_slot(self) -> _Slot:
        supervisor: RuntimeSupervisor | None = None

        def end_timed_out_runtime() -> None:
            if supervisor is not None:
                supervisor.kill()

        limits = self.config.limits
        enforce = limits is not None and limits.enforce_timeout
        environment: ExecutionEnvironment
        if self.config.concurrency > 1:
            environment = ConcurrentEnvironment(
                self._queue, self.config.timeout, enforce, end_timed_out_runtime, self.config.concurrency
            )
        else:
            environment = ExecutionEnvironment(
                self._queue, self.config.timeout, enforce_timeout=enforce, on_timeout=end_timed_out_runtime
            )
        read_ahead = READ_SIZE if limits is not None else RUNTIME_API_READ_SIZE
        api = RuntimeApi(environment, self.config).handle
        listener = _Listener(api, read_size=RUNTIME_API_READ_SIZE, read_ahead=read_ahead)
        await listener.start(RUNTIME_API_HOST, 0)
        address = f"{RUNTIME_API_HOST}:{listener.port}"
        supervisor = RuntimeSupervisor(self.config, environment, self._queue, address)
        try:
            await supervisor.spawn()
        except BaseException:
            await listener.close()
            raise
        return _Slot(environment, listener, supervisor, asyncio.create_task(supervisor.run()))

    async def wait_ready(self) -> InvocationFailure | None:
        """Wait until every runtime reached ``/next``; return the first init failure instead,
        if one came first."""
        for slot in self._slots:
            ready = asyncio.ensure_future(slot.environment.ever_ready.wait())
            failed = slot.supervisor.first_init_failure
            waiters: list[asyncio.Future[Any]] = [ready, failed]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if failed.done() and not slot.environment.ever_ready.is_set():
                return failed.result()
        return None

    async def close(self) -> None:
        """Stop listening, stop the runtimes and their supervisors."""
        if self._front is not None:
            await self._front.close()
            self._front = None
        for slot in self._slots:
            await self._close_slot(slot)
        self._slots.clear()

    @staticmethod
    async def _close_slot(slot: _Slot) -> None:
        await slot.supervisor.stop()
        slot.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await slot.task
        await slot.listener.close()
        await slot.environment.close()

    async def __aenter__(self) -> FunctionUrlEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
