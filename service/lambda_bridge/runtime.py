"""The runtime loop: lifespan startup, then ``/next`` → cycle → result, until SIGTERM.

Processing steps follow the Lambda custom runtime docs ("runtimes-custom.html", "Processing
tasks"): get an invocation, propagate the trace id, run the handler, post its response.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp

from service import requestid
from service.lambda_bridge.buffered import BufferedCycle
from service.lambda_bridge.concurrency import run_workers
from service.lambda_bridge.cycle import HTTPCycle, StreamingCycle
from service.lambda_bridge.errors import LifespanStartupError, MalformedEventError, RuntimeAPIError
from service.lambda_bridge.events import HTTPRequest, parse_event
from service.lambda_bridge.framing import ErrorReport
from service.lambda_bridge.lifespan import Lifespan
from service.lambda_bridge.runtime_api import NextInvocation, RuntimeAPIClient
from service.lambda_bridge.snapstart import AFTER_RESTORE_ERROR, RestoreFailed
from service.requestfacts import TRACE_SCOPE_KEY
from service.settings import ConfigError, InvokeMode, Settings
from service.tracing import AFTER_RESPONSE_SCOPE_KEY

logger = logging.getLogger("service.lambda_bridge")

TRACE_ID_VARIABLE = "_X_AMZN_TRACE_ID"
EXIT_OK = 0
EXIT_FAILURE = 1


@dataclass(frozen=True)
class BridgeOptions:
    """How the runtime serves: ``invoke_mode`` must match the Function URL's InvokeMode
    (Lambda cannot tell the runtime); ``deadline_margin`` is how many seconds before
    ``Lambda-Runtime-Deadline-Ms`` a response is cut off with error trailers."""

    invoke_mode: InvokeMode = "RESPONSE_STREAM"
    deadline_margin: float = 1.0
    concurrency: int = 1
    """Invocations served at once (``AWS_LAMBDA_MAX_CONCURRENCY``, :mod:`.concurrency`)."""
    snap_start: bool = False
    """Started for a SnapStart snapshot: wait for the restore before serving (:mod:`.snapstart`)."""

    @classmethod
    def from_settings(cls, settings: Settings, concurrency: int = 1, snap_start: bool = False) -> BridgeOptions:
        """Take ``lambda_invoke_mode`` and ``lambda_deadline_margin`` from the settings."""
        return cls(settings.lambda_invoke_mode, settings.lambda_deadline_margin, concurrency, snap_start)


class Runtime:
    """Serve ``app`` to the Runtime API behind ``client``: one invocation at a time, or
    ``options.concurrency`` at once, each in its own worker (:mod:`.concurrency`)."""

    def __init__(self, app: ASGIApp, client: RuntimeAPIClient, options: BridgeOptions) -> None:
        self._app = app
        self._client = client
        self._options = options
        self._lifespan = Lifespan(app)

    async def run(self) -> int:
        """Start up, serve until SIGTERM (or SIGINT), shut down; return the exit status.

        Returns 1 after reporting a lifespan startup failure to ``/init/error``, or when the
        Runtime API fails; 0 after a signal.
        """
        try:
            await self._lifespan.startup()
        except LifespanStartupError as exc:
            return await report_init_error(self._client, "Runtime.LifespanStartupFailed", exc)
        serving = asyncio.ensure_future(self._restore_then_serve())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, serving.cancel)
        try:
            await serving
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not serving.cancelled() or (current is not None and current.cancelling()):
                raise  # run() itself is being cancelled, not stopped by a signal
            logger.info("stop signal received; shutting down")
            return EXIT_OK
        except (OSError, RuntimeAPIError):
            logger.exception("the Runtime API failed; exiting")
            return EXIT_FAILURE
        except RestoreFailed:
            return EXIT_FAILURE
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self._lifespan.shutdown()
        return EXIT_OK

    async def _restore_then_serve(self) -> None:
        if self._options.snap_start:
            await self._restore()
        await self.serve_forever()

    async def _restore(self) -> None:
        """SnapStart: wait at ``/restore/next`` while Lambda snapshots, then replace the app's
        lifespan (its S3 client and pool) with a fresh one.

        Raises:
            RestoreFailed: the fresh start failed (reported to ``/restore/error``).
            RuntimeAPIError, OSError: the Runtime API failed.
        """
        await self._client.restore_next()
        started = time.monotonic()
        try:
            await self._lifespan.shutdown()
            self._lifespan = Lifespan(self._app)
            await self._lifespan.startup()
        except Exception as exc:
            logger.error("the start after a SnapStart restore failed: %s", exc, exc_info=exc)
            await self._client.post_restore_error(ErrorReport.from_exception(AFTER_RESTORE_ERROR, exc, with_trace=True))
            raise RestoreFailed(str(exc)) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("restored from a SnapStart snapshot; the app restarted in %.1f ms", elapsed_ms)

    async def serve_forever(self) -> None:
        """Take invocations from ``/next`` and answer each.

        Raises:
            RuntimeAPIError, OSError: ``/next`` failed, or the Runtime API answered 500.
        """
        if self._options.concurrency == 1:
            await self._serve_one_at_a_time()
            return
        logger.info("serving up to %d invocations at once", self._options.concurrency)
        await run_workers(self._options.concurrency, self._serve_one_at_a_time)

    async def _serve_one_at_a_time(self) -> None:
        while True:
            await self.handle(await self._client.next_invocation())

    async def handle(self, invocation: NextInvocation) -> None:
        """Answer one invocation; a failed delivery is logged unless the Runtime API said 500.

        Raises:
            RuntimeAPIError: the Runtime API answered 500 (the runtime must exit).
        """
        # Every record written for the invocation names its request id (service.logformat).
        with requestid.bound(invocation.request_id):
            await self._answer(invocation)

    async def _answer(self, invocation: NextInvocation) -> None:
        if self._options.concurrency == 1:
            # Process-wide, so right only while one invocation runs; with several, each
            # request's trace header lives in its scope and context alone (service.tracing).
            _set_trace_id(invocation.trace_id)
        app = self._app
        try:
            request = parse_event(invocation.event)
        except MalformedEventError as exc:
            logger.warning("invocation %s: malformed event: %s", invocation.request_id, exc.reason)
            app = PlainTextResponse(f"Bad Request: {exc.reason}\n", status_code=400)
            request = HTTPRequest({"type": "http", "method": "GET", "headers": []}, b"", exc.kind)
        request.scope["state"] = self._lifespan.state.copy()
        # The app's request id and trace are the invocation's, so both logs tell one story.
        request.scope[requestid.SCOPE_KEY] = invocation.request_id
        if invocation.trace_id:
            request.scope[TRACE_SCOPE_KEY] = invocation.trace_id
        after_response: list[Callable[[], None]] = []
        request.scope[AFTER_RESPONSE_SCOPE_KEY] = after_response
        deadline, hard_deadline = self._deadlines(invocation)
        try:
            await self._cycle(request, invocation).run(app, deadline, hard_deadline)
        except RuntimeAPIError as exc:
            if exc.fatal:
                raise
            logger.exception("invocation %s: %s", invocation.request_id, exc)
        except OSError as exc:
            logger.exception("invocation %s: Runtime API connection failed: %s", invocation.request_id, exc)
        await _run_after_response(after_response, invocation.request_id)

    def _cycle(self, request: HTTPRequest, invocation: NextInvocation) -> HTTPCycle:
        cycle_class = StreamingCycle if self._options.invoke_mode == "RESPONSE_STREAM" else BufferedCycle
        return cycle_class(request, self._client, invocation.request_id)

    def _deadlines(self, invocation: NextInvocation) -> tuple[float, float]:
        """(soft, hard) deadlines on the ``anyio.current_time()`` clock, in seconds."""
        if invocation.deadline_ms is None:
            return float("inf"), float("inf")
        hard = anyio.current_time() + invocation.deadline_ms / 1000 - time.time()
        return hard - self._options.deadline_margin, hard


async def _run_after_response(callbacks: list[Callable[[], None]], request_id: str) -> None:
    """Run what the app asked to be done once its response is delivered (see
    :data:`service.tracing.AFTER_RESPONSE_SCOPE_KEY`), in a worker thread, before the next
    ``/next``: Lambda may freeze the process as soon as it asks for the next invocation."""
    for callback in callbacks:
        try:
            await anyio.to_thread.run_sync(callback)
        except Exception:
            logger.exception("invocation %s: a task after the response failed", request_id)


async def report_init_error(client: RuntimeAPIClient, error_type: str, exc: BaseException) -> int:
    """Log ``exc``, post it to ``/init/error`` as ``error_type`` and return exit status 1.

    A configuration error or a failed lifespan startup is logged as one line, its message
    says it all; anything else with its traceback.  A failure to post is logged too: the
    process exits either way, and Lambda records it.
    """
    trace = None if isinstance(exc, ConfigError | LifespanStartupError) else exc
    logger.error("initialisation failed (%s): %s", error_type, exc, exc_info=trace)
    try:
        await client.post_init_error(ErrorReport.from_exception(error_type, exc, with_trace=True))
    except (OSError, RuntimeAPIError) as post_failure:
        logger.exception("could not report the init error: %s", post_failure)
    return EXIT_FAILURE


def _set_trace_id(trace_id: str | None) -> None:
    # "Propagate the tracing header": AWS's custom runtime guide (docs.aws.amazon.com/lambda/
    # latest/dg/runtimes-custom.html, "Processing tasks") has a runtime take the X-Ray header
    # from /next's Lambda-Runtime-Trace-Id and set _X_AMZN_TRACE_ID to it for the X-Ray SDK;
    # botocore also copies it into X-Amzn-Trace-Id when AWS_LAMBDA_FUNCTION_NAME is set. The
    # variable is process-wide, right only while one invocation runs at a time, as here; the
    # proxy's own S3 requests take the header from the request's context (service.tracing).
    # An invocation without a header clears it, so no request inherits the one before.
    if trace_id:
        os.environ[TRACE_ID_VARIABLE] = trace_id
    else:
        os.environ.pop(TRACE_ID_VARIABLE, None)
