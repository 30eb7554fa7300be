"""An execution environment that runs several invocations at once, as on Lambda Managed Instances.

Lambda docs: Managed Instances "accept concurrent /next and /response requests up to the
configured AWS_LAMBDA_MAX_CONCURRENCY limit" (runtimes-api.html); the environment "remains
continuously active" without freezing, invocations run "simultaneously", each "handled by a
different runtime worker", and the function timeout applies to each invocation on its own
(lambda-managed-instances-execution-environment.html, "Invoke phase").

Modelled here: up to ``concurrency`` ``/next`` calls are open or running at once, each gets its
own invocation and deadline, a response is matched to its invocation by request id, and an
invocation that passes its deadline fails alone (the others and the process go on).  Not
documented, so chosen here: a ``/next`` beyond the limit gets 403 ``InvalidStateTransition``
(RAPID's answer to a call that does not fit the state), and a timed-out invocation's late
response gets 400 ``InvalidRequestID``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from s3proxy_dev.function_url.environment import ExecutionEnvironment, RuntimeApiRefusal, State
from s3proxy_dev.function_url.invocation import Invocation, InvocationQueue
from s3proxy_dev.function_url.outcome import InvocationFailure

log = logging.getLogger("s3proxy_dev.function_url")


class ConcurrentEnvironment(ExecutionEnvironment):
    """The Runtime API state of one runtime process serving up to ``concurrency`` invocations."""

    def __init__(
        self,
        queue: InvocationQueue,
        timeout: float,
        enforce_timeout: bool,
        on_timeout: Callable[[], None],
        concurrency: int,
    ) -> None:
        super().__init__(queue, timeout, enforce_timeout, on_timeout)
        self.concurrency = concurrency
        self.running: dict[str, Invocation] = {}
        self._polling = 0
        self._watchdogs: dict[str, asyncio.Task[None]] = {}

    async def next_invocation(self) -> Invocation:
        """Serve one worker's ``GET /next``: wait for and return a new invocation, deadline set.

        Raises :class:`RuntimeApiRefusal` (403) after an init error, or when ``concurrency``
        calls are already open or running.
        """
        if self.state is State.INIT_ERROR:
            raise self._refuse(State.READY)
        if self._polling + len(self.running) >= self.concurrency:
            message = f"{self.concurrency} invocations are already polling or running (AWS_LAMBDA_MAX_CONCURRENCY)"
            raise RuntimeApiRefusal(403, "InvalidStateTransition", message)
        self.state = State.READY
        self.note_ready()
        self._polling += 1
        try:
            invocation = await self._queue.take()
        finally:
            self._polling -= 1
        invocation.deadline = time.time() + self._timeout
        self.running[invocation.request_id] = invocation
        self.state = State.RUNNING
        self._watchdogs[invocation.request_id] = asyncio.create_task(self._watch_one(invocation))
        return invocation

    async def undeliverable(self, invocation: Invocation) -> None:
        """The ``/next`` answer carrying ``invocation`` could not be written: queue it again."""
        if self.running.pop(invocation.request_id, None) is invocation:
            self._stop(invocation.request_id)
            invocation.deadline = None
            await self._queue.put_back(invocation)

    def begin_response(self, request_id: str, *, error: bool) -> Invocation:
        """Start the ``/response`` (or ``/error``) of running invocation ``request_id``.

        Raises :class:`RuntimeApiRefusal`: 403 if nothing runs, 400 for an id not running.
        """
        if not self.running:
            raise self._refuse(State.RESPONSE_SENT if error else State.RESPONDING)
        invocation = self.running.get(request_id)
        if invocation is None:
            raise RuntimeApiRefusal(400, "InvalidRequestID", "Invalid request ID")
        return invocation

    def end_response(self, request_id: str | None = None) -> None:
        """The response (or error) of ``request_id`` is complete."""
        if request_id is not None and self.running.pop(request_id, None) is not None:
            self._stop(request_id)
        self.state = State.RUNNING if self.running else State.RESPONSE_SENT

    async def process_exited(self, failure: InvocationFailure) -> None:
        """The runtime process is gone: fail every invocation it was running, reset."""
        running = list(self.running.values())
        self.running.clear()
        for request_id in list(self._watchdogs):
            self._stop(request_id)
        self.state = State.STARTED
        self.init_error = None
        self._started_at, self._restored_at = time.monotonic(), None
        for invocation in running:
            await invocation.channel.fail(failure)

    async def _watch_one(self, invocation: Invocation) -> None:
        assert invocation.deadline is not None
        await asyncio.sleep(max(0.0, invocation.deadline - time.time()))
        self._watchdogs.pop(invocation.request_id, None)
        if not self._enforce_timeout or invocation.channel.finished:
            return
        message = f"Task timed out after {self._timeout:.2f} seconds"
        log.warning("RequestId: %s Error: %s", invocation.request_id, message)
        self.running.pop(invocation.request_id, None)
        await invocation.channel.fail(InvocationFailure("Sandbox.Timeout", message))

    def _stop(self, request_id: str) -> None:
        watchdog = self._watchdogs.pop(request_id, None)
        if watchdog is not None:
            watchdog.cancel()

    async def close(self) -> None:
        """Stop every deadline watchdog."""
        watchdogs = list(self._watchdogs.values())
        self._watchdogs.clear()
        for watchdog in watchdogs:
            watchdog.cancel()
        for watchdog in watchdogs:
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        await super().close()
