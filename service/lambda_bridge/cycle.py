"""One invocation's ASGI HTTP cycle, and its streaming (RESPONSE_STREAM) form.

The cycle hands the app its request through ``receive`` and takes the response through
``send`` (ASGI HTTP spec 2.3), enforcing message order the way uvicorn's h11 cycle does.
How the response leaves the process is up to a subclass: :class:`StreamingCycle` here,
``BufferedCycle`` in :mod:`service.lambda_bridge.buffered`.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import logging
import math
from collections.abc import Callable

import anyio
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message

from service.errors import StreamBroken
from service.lambda_bridge.bandwidth import DrainSchedule
from service.lambda_bridge.errors import DeadlineExceeded, IncompleteResponse, RuntimeAPIError
from service.lambda_bridge.events import HTTPRequest
from service.lambda_bridge.framing import PRELUDE_DELIMITER, ErrorReport, ResponseHead, encode_prelude
from service.lambda_bridge.runtime_api import ResponseStream, RuntimeAPIClient
from service.requestfacts import mark_deadline_cut

logger = logging.getLogger("service.lambda_bridge")

STREAM_ERROR = "Function.StreamError"
DEADLINE_ERROR = "Function.DeadlineExceeded"


class ResponseState(enum.Enum):
    """How far the app's response has gone.

    * ``AWAITING_START`` - no ``http.response.start`` yet; a failure still becomes a clean
      error response.
    * ``STARTED`` - the head was taken; a failure now ends the body with error trailers.
    * ``COMPLETE`` - ``more_body`` false was sent; later failures are only logged.
    """

    AWAITING_START = "awaiting start"
    STARTED = "started"
    COMPLETE = "complete"


class HTTPCycle(abc.ABC):
    """Drive an ASGI app through one invocation's request and response.

    ``receive()`` returns the whole request body as one ``http.request`` message, then
    ``http.disconnect`` once the response is complete (Lambda reports no client disconnects).
    """

    def __init__(self, request: HTTPRequest, client: RuntimeAPIClient, request_id: str) -> None:
        self.request = request
        self.state = ResponseState.AWAITING_START
        self._client = client
        self._request_id = request_id
        self._request_delivered = False
        self._response_complete = anyio.Event()
        self._has_content = True
        self._cancel_scope = anyio.CancelScope()
        # Set when the cycle cancels the app on purpose, so the cancellation is no deadline.
        self._stopped_early = False
        # When what is posted must have left the platform: the deadline while the app runs,
        # the hard deadline for the cycle's own error response after it.
        self._drain_by = math.inf

    async def run(self, app: ASGIApp, deadline: float = math.inf, hard_deadline: float = math.inf) -> None:
        """Run ``app`` for this request and deliver its response.

        ``deadline`` (``anyio.current_time()`` clock, seconds) cancels the app and ends the
        response as failed; ``hard_deadline`` bounds the delivery that follows.  App exceptions
        are reported on the response, never raised.

        Raises:
            RuntimeAPIError, OSError: the Runtime API failed while the response was delivered.
        """
        failure: Exception | None = None
        self._drain_by = deadline
        self._cancel_scope = anyio.CancelScope()
        alarm = _call_at(deadline, self._deadline_reached)
        with self._cancel_scope:
            try:
                await app(self.request.scope, self.receive, self.send)
            except Exception as exc:
                failure = exc
            finally:
                if alarm is not None:
                    alarm.cancel()
        failure = self._outcome(failure)
        self._log_failure(failure)
        self._drain_by = hard_deadline
        with anyio.CancelScope(deadline=hard_deadline) as delivery:
            await self._finish(failure)
        if delivery.cancelled_caught:
            logger.error("invocation %s: the response was cut off at the deadline", self._request_id)

    async def receive(self) -> Message:
        """ASGI ``receive``: the request, then ``http.disconnect`` after the response."""
        if not self._request_delivered:
            self._request_delivered = True
            return {"type": "http.request", "body": self.request.body, "more_body": False}
        await self._response_complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """ASGI ``send``: one ``http.response.start``, then ``http.response.body`` messages.

        Raises:
            RuntimeError: a message out of order, or an invalid status.
            OSError, RuntimeAPIError: the Runtime API connection failed.
        """
        kind = message["type"]
        if kind == "http.response.start" and self.state is ResponseState.AWAITING_START:
            head = ResponseHead.from_asgi(message.get("status"), message.get("headers", []))
            self._has_content = head.has_content(self.request.scope["method"])
            await self._start(head)
            self.state = ResponseState.STARTED
        elif kind == "http.response.body" and self.state is ResponseState.STARTED:
            body = message.get("body", b"")
            if body and self._has_content:
                await self._write(body)
            if not message.get("more_body", False):
                await self._end()
                self.state = ResponseState.COMPLETE
                self._response_complete.set()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} while the response is {self.state.value}")

    def _outcome(self, failure: Exception | None) -> Exception | None:
        """What went wrong, if anything, once the app is done (a cycle that stopped the app on
        purpose knows why and reports it itself)."""
        if self._stopped_early:
            return failure
        if self._cancel_scope.cancelled_caught:
            return DeadlineExceeded("the invocation deadline (minus the safety margin) was reached")
        if failure is None and self.state is not ResponseState.COMPLETE:
            return IncompleteResponse("the ASGI app returned before completing its response")
        return failure

    def _deadline_reached(self) -> None:
        """Cancel the app at the deadline, having told its access log why (a cancellation
        alone does not say who cancelled)."""
        mark_deadline_cut(self.request.scope)
        self._cancel_scope.cancel()

    def _stop_app(self) -> None:
        """Cancel the app on purpose (not a deadline); it stops at its next checkpoint."""
        self._stopped_early = True
        self._cancel_scope.cancel()

    def _log_failure(self, failure: Exception | None) -> None:
        """Log what went wrong: one line for the outcomes the bridge expects, the traceback
        for anything else the app raised."""
        if isinstance(failure, DeadlineExceeded):
            logger.warning("invocation %s: %s; stopping the app", self._request_id, failure)
        elif isinstance(failure, IncompleteResponse):
            logger.error("invocation %s: %s", self._request_id, failure)
        elif isinstance(failure, StreamBroken) and self.state is ResponseState.STARTED:
            # S3 failing mid-body is an outcome of the network, not a bug: the cause says all.
            logger.warning("invocation %s: the response body broke off: %s", self._request_id, _one_line(failure))
        elif failure is not None:
            logger.error("invocation %s: the ASGI app raised", self._request_id, exc_info=failure)

    @abc.abstractmethod
    async def _start(self, head: ResponseHead) -> None:
        """Take the response head."""

    @abc.abstractmethod
    async def _write(self, data: bytes) -> None:
        """Take a non-empty piece of the body."""

    @abc.abstractmethod
    async def _end(self) -> None:
        """The body is complete."""

    @abc.abstractmethod
    async def _finish(self, failure: Exception | None) -> None:
        """Deliver the outcome once the app has returned (or failed with ``failure``)."""


def _call_at(when: float, callback: Callable[[], None]) -> asyncio.TimerHandle | None:
    """Run ``callback`` at ``when`` (``anyio.current_time()`` clock, the event loop's own
    under asyncio); None, and never, for an infinite ``when``."""
    if math.isinf(when):
        return None
    return asyncio.get_running_loop().call_at(when, callback)


def _one_line(exc: BaseException) -> str:
    """``exc``'s message and, if it was raised ``from`` another exception, that cause's type
    and message, as one line of text (line breaks become spaces)."""
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    if cause is not None:
        detail = f": {cause}" if str(cause) else ""
        text += f" (caused by {type(cause).__name__}{detail})"
    return " ".join(text.split())


def error_report(failure: Exception) -> ErrorReport:
    """The report for a failed response: ``Function.DeadlineExceeded`` for the deadline,
    ``Function.StreamError`` otherwise; no stack trace, as an HTTP client may see it."""
    error_type = DEADLINE_ERROR if isinstance(failure, DeadlineExceeded) else STREAM_ERROR
    return ErrorReport.from_exception(error_type, failure)


def error_response(failure: Exception) -> PlainTextResponse:
    """The short plain-text response for a failure before the response started:
    504 for the deadline, 500 otherwise."""
    if isinstance(failure, DeadlineExceeded):
        return PlainTextResponse("Gateway Timeout: the request ran out of time\n", status_code=504)
    return PlainTextResponse("Internal Server Error\n", status_code=500)


class StreamingCycle(HTTPCycle):
    """Stream the response to ``POST /invocation/{id}/response`` as it is produced.

    Body: JSON prelude chunk, 8-NUL delimiter chunk, one chunk per non-empty body message,
    last chunk (Lambda custom runtime docs, "Response streaming").  A failure before the
    head becomes a 500 (504 at the deadline) streamed the same way, or ``/invocation/{id}/error``
    if even that cannot be sent; a failure after the head ends the body with the error
    trailers, so a short body never looks complete.

    The trailers must reach Lambda before the invocation's deadline, or Lambda ends the
    invocation with ``Sandbox.Timeout`` and replaces the process.  They are read after every
    body byte posted before them, and Lambda passes those on at its documented bandwidth
    only (:mod:`service.lambda_bridge.bandwidth`).  So the body stops, and the stream ends
    as failed with ``Function.DeadlineExceeded``, at the first byte that could not drain
    before the deadline minus the margin; a body that stops arriving (a stalled S3) is cut
    at that time too, by the cycle's deadline.
    """

    def __init__(
        self,
        request: HTTPRequest,
        client: RuntimeAPIClient,
        request_id: str,
        schedule: DrainSchedule | None = None,
    ) -> None:
        super().__init__(request, client, request_id)
        self._stream: ResponseStream | None = None
        # The running loop's clock is the one anyio.current_time() reads on asyncio, without
        # anyio's look-up of the running library, which it would repeat for every body chunk.
        self._schedule = DrainSchedule(clock=asyncio.get_running_loop().time) if schedule is None else schedule
        self._cut: DeadlineExceeded | None = None

    async def _start(self, head: ResponseHead) -> None:
        chunks = [encode_prelude(head), PRELUDE_DELIMITER]
        self._stream = await self._client.open_stream(self._request_id)
        self._schedule.post(sum(len(chunk) for chunk in chunks))
        await self._stream.begin(chunks)

    async def _write(self, data: bytes) -> None:
        assert self._stream is not None  # _start ran: the state machine guarantees it
        fitting = 0 if self._cut is not None else self._schedule.fitting(len(data), self._drain_by)
        if fitting:
            self._schedule.post(fitting)
            await self._stream.write(data if fitting == len(data) else data[:fitting])
        if fitting < len(data):
            if self._cut is None:
                mark_deadline_cut(self.request.scope, accepted_bytes=fitting)
            raise self._cut_body()

    def _cut_body(self) -> DeadlineExceeded:
        """Stop the body here for good: the bytes already posted need the time left to drain.

        The error is raised from the app's ``send``, as a broken connection would be, so the
        app unwinds and closes what it holds; if it goes on regardless, nothing more is
        written and the cycle's deadline still stops it.
        """
        if self._cut is None:
            self._cut = DeadlineExceeded(
                f"the body was cut after {self._schedule.posted} bytes: more would not drain at "
                "Lambda's streaming bandwidth before the invocation deadline (minus the safety margin)"
            )
        return self._cut

    def _outcome(self, failure: Exception | None) -> Exception | None:
        """A cut body fails with the cut's :class:`DeadlineExceeded`, whatever the app made of it."""
        if self._cut is not None:
            return self._cut
        return super()._outcome(failure)

    async def _end(self) -> None:
        assert self._stream is not None
        if self._cut is not None:
            raise self._cut_body()  # a cut body never ends as complete
        await self._stream.end()

    async def _finish(self, failure: Exception | None) -> None:
        try:
            if failure is not None and self._stream is None:
                await self._send_error_response(failure)
            elif failure is not None and self.state is not ResponseState.COMPLETE:
                assert self._stream is not None
                await self._stream.end(error_report(failure).trailers())
            if self._stream is not None:
                await self._stream.read_reply()
        finally:
            if self._stream is not None:
                await self._stream.aclose()

    async def _send_error_response(self, failure: Exception) -> None:
        try:
            await error_response(failure)(self.request.scope, self.receive, self.send)
        except (OSError, RuntimeAPIError):
            if self._stream is not None:
                raise
            # Not a byte reached the Runtime API, so the invocation can still fail cleanly.
            await self._client.post_invocation_error(self._request_id, error_report(failure))
