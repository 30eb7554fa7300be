"""One execution environment: the Runtime API state of a single runtime process.

States and transitions follow RAPID (aws-lambda-runtime-interface-emulator,
internal/lambda/core/states.go and rapi/handler/*.go): a runtime starts, calls ``/next``,
gets one invocation, posts one ``/response`` or ``/error`` for it, and calls ``/next`` again.
A call that does not fit the state gets 403 ``InvalidStateTransition``; a response for
another request id gets 400 ``InvalidRequestID``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s3proxy_dev.function_url.invocation import Invocation, InvocationQueue
from s3proxy_dev.function_url.outcome import InvocationFailure

log = logging.getLogger("s3proxy_dev.function_url")


class State(enum.Enum):
    """Runtime states, named as in RAPID."""

    STARTED = "Started"
    READY = "Ready"
    RUNNING = "Running"
    RESPONDING = "InvocationResponse"
    RESPONSE_SENT = "ResponseSent"
    INIT_ERROR = "InitError"


@dataclass(frozen=True)
class RuntimeApiRefusal(Exception):
    """A Runtime API refusal: HTTP ``status`` with RAPID's ``error_type`` and message."""

    status: int
    error_type: str
    message: str


class ExecutionEnvironment:
    """The Runtime API state of one runtime process, and the invocation it is running.

    ``timeout`` is the function timeout in seconds; ``on_timeout`` is called (to kill the
    process) when an invocation passes its deadline and ``enforce_timeout`` is set.
    """

    def __init__(
        self,
        queue: InvocationQueue,
        timeout: float,
        enforce_timeout: bool,
        on_timeout: Callable[[], None],
    ) -> None:
        self._queue = queue
        self._timeout = timeout
        self._enforce_timeout = enforce_timeout
        self._on_timeout = on_timeout
        self.state = State.STARTED
        self.current: Invocation | None = None
        self.init_error: InvocationFailure | None = None
        self.ever_ready = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[Any] | None = None
        # SnapStart (docs snapstart-monitoring.html: "Init Duration", "Restore Duration"): the
        # seconds from the process start to its /restore/next, and from the answer to /next.
        self._started_at = time.monotonic()
        self._restored_at: float | None = None
        self.init_seconds: float | None = None
        self.restore_seconds: float | None = None

    @property
    def waiting(self) -> int:
        """Invocations queued for a runtime of the pool (this one or another) to take."""
        return len(self._queue)

    def _refuse(self, target: State) -> RuntimeApiRefusal:
        message = (
            f"State transition from {self.state.value} to {target.value} failed for runtime. "
            "Error: State transition is not allowed"
        )
        return RuntimeApiRefusal(403, "InvalidStateTransition", message)

    async def next_invocation(self) -> Invocation:
        """Serve ``GET /next``: wait for and return the next invocation, deadline set.

        A repeated ``/next`` while an invocation runs gets that invocation again, as in RAPID.
        Raises :class:`RuntimeApiRefusal` (403) while a response is being posted or after an
        init error.
        """
        if self.state is State.RUNNING and self.current is not None:
            return self.current
        if self.state not in (State.STARTED, State.READY, State.RESPONSE_SENT):
            raise self._refuse(State.READY)
        self.state = State.READY
        self.note_ready()
        invocation = await self._take_as_only_poller()
        invocation.deadline = time.time() + self._timeout
        self.current = invocation
        self.state = State.RUNNING
        self._watchdog = asyncio.create_task(self._watch(invocation))
        return invocation

    async def _take_as_only_poller(self) -> Invocation:
        # One process gets one invocation at a time: a newer /next replaces a waiting one
        # (whose connection is then closed) instead of taking a second invocation.
        if self._poller is not None:
            self._poller.cancel()
        me = asyncio.current_task()
        self._poller = me
        try:
            return await self._queue.take()
        finally:
            if self._poller is me:
                self._poller = None

    def note_ready(self) -> None:
        """The runtime called ``/next``: init (and restore, with SnapStart) is over."""
        if self._restored_at is not None and self.restore_seconds is None:
            self.restore_seconds = time.monotonic() - self._restored_at
            log.info("SnapStart restore: %.1f ms from /restore/next to /next", self.restore_seconds * 1000)
        self.ever_ready.set()

    def restore_next(self) -> None:
        """Serve SnapStart's ``GET /restore/next`` (docs runtimes-api.html): the init is done.

        Lambda would snapshot the environment now and answer once a copy is restored; the
        emulator keeps the process as it is and answers at once, so what follows is the
        runtime's own after-restore work.  Raises :class:`RuntimeApiRefusal` (403) after the init.
        """
        if self.state is not State.STARTED or self._restored_at is not None:
            raise self._refuse(State.READY)
        now = time.monotonic()
        self.init_seconds = now - self._started_at
        self._restored_at = now
        log.info("SnapStart init: %.1f ms from the runtime's start to /restore/next", self.init_seconds * 1000)

    async def undeliverable(self, invocation: Invocation) -> None:
        """The ``/next`` answer carrying ``invocation`` could not be written: queue it again."""
        if self.current is invocation and self.state is State.RUNNING:
            self._stop_watchdog()
            self.current = None
            self.state = State.READY
            invocation.deadline = None
            await self._queue.put_back(invocation)

    def begin_response(self, request_id: str, *, error: bool) -> Invocation:
        """Start a ``/response`` (or ``/error`` if ``error``) for ``request_id``.

        Raises :class:`RuntimeApiRefusal`: 403 if no invocation awaits a response, 400 if the id
        is not the running invocation's.
        """
        if self.state is not State.RUNNING or self.current is None:
            raise self._refuse(State.RESPONSE_SENT if error else State.RESPONDING)
        if request_id != self.current.request_id:
            raise RuntimeApiRefusal(400, "InvalidRequestID", "Invalid request ID")
        self.state = State.RESPONDING
        return self.current

    def end_response(self, request_id: str | None = None) -> None:
        """The response (or error) for the current invocation (``request_id``) is complete."""
        self._stop_watchdog()
        self.state = State.RESPONSE_SENT
        self.current = None

    def record_init_error(self, failure: InvocationFailure) -> None:
        """Serve ``POST /runtime/init/error``; raises :class:`RuntimeApiRefusal` (403) after init."""
        if self.state is not State.STARTED:
            raise self._refuse(State.INIT_ERROR)
        self.state = State.INIT_ERROR
        self.init_error = failure

    async def process_exited(self, failure: InvocationFailure) -> None:
        """The runtime process is gone: fail its invocation, if any, and reset for a new one."""
        self._stop_watchdog()
        running = self.current
        self.current = None
        self.state = State.STARTED
        self.init_error = None
        self._started_at, self._restored_at = time.monotonic(), None
        if running is not None:
            await running.channel.fail(failure)

    async def _watch(self, invocation: Invocation) -> None:
        assert invocation.deadline is not None
        await asyncio.sleep(max(0.0, invocation.deadline - time.time()))
        if not self._enforce_timeout or invocation.channel.finished:
            return
        message = f"Task timed out after {self._timeout:.2f} seconds"
        log.warning("RequestId: %s Error: %s", invocation.request_id, message)
        await invocation.channel.fail(InvocationFailure("Sandbox.Timeout", message))
        # Lambda resets the execution environment after a timeout: the process is replaced.
        self._watchdog = None
        self._on_timeout()

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    async def close(self) -> None:
        """Stop the deadline watchdog, if one runs."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
