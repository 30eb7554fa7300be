"""What happened to one request, gathered in one place while it runs: the access record's (and
any metric's) single source.

:class:`~service.accesslog.AccessLogMiddleware` makes a :class:`RequestFacts` per HTTP
request, puts it in the scope (:data:`SCOPE_KEY`) and in a context variable for the time the
app runs. Code deep in the request reaches it without being handed it: the S3 access
(:func:`note_s3_answer`), the body resumption (:func:`note_resume`). The context variable
holds the object itself, and tasks started for the request (the body pump of
:class:`~service.streaming.ObjectStreamResponse`) copy the context, so they add to the same
facts. A server in front of the app that ends a response itself (the Lambda bridge at the
invocation deadline, or when a buffered answer grows too large) says so through the scope:
:func:`mark_deadline_cut`, :func:`mark_replaced`.

Outside a request every ``note_*`` function does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

from starlette.types import Message, Scope

SCOPE_KEY = "s3proxy.facts"
"""ASGI scope key of the request's :class:`RequestFacts`."""

TRACE_SCOPE_KEY = "s3proxy.trace_header"
"""ASGI scope key where a server in front (the Lambda bridge) puts the X-Ray trace header it
was given (``Lambda-Runtime-Trace-Id``); it wins over the request's ``X-Amzn-Trace-Id``."""

Outcome = Literal["complete", "client_aborted", "upstream_failed", "deadline_cut", "rejected", "redirected"]
"""How a request ended; see :meth:`RequestFacts.outcome` for the rules."""

_NO_CONTENT = frozenset({204, 304})
"""Statuses whose answer never has content (RFC 9110 §6.4.1), whatever Content-Length says."""

_current: ContextVar[RequestFacts | None] = ContextVar("s3proxy_request_facts", default=None)


@dataclass
class RequestFacts:
    """The facts of one HTTP request. Times are seconds on :func:`time.perf_counter`'s clock.

    Attributes:
        request_id: the request id (the Lambda request id on Lambda).
        method: the request method.
        key: the URL path percent-decoded, without its leading ``/`` (the key asked for).
        trace_id: the X-Ray trace id, when one came with the request.
        started: when the request reached the app.
        status: the status of the response start the server took; None before one.
        range_served: the response's ``Content-Range`` value, e.g. ``'bytes 0-99/5000'``.
        bytes_planned: body bytes the response promised: its ``Content-Length``, 0 for
            ``HEAD``, 204 and 304, None when it sent no length.
        bytes_sent: body bytes the server took from the app.
        s3_first_byte: seconds from issuing the request's first S3 call (``GetObject`` or
            ``HeadObject``) to S3's answer headers, retries included; None without one.
        s3_requests: S3 calls answered by S3, a 404 or 304 included.
        s3_errors: the kind of each S3 failure the request met, in order (see
            :func:`note_s3_error`; the kinds are :data:`service.s3.S3ErrorKind`).
        client_first_byte: seconds from ``started`` to the first body byte the server took,
            or to the end of an empty body.
        resumes: times the S3 body broke and was read on from where it broke.
        response_complete: the last body message (``more_body`` false) was taken.
        client_gone: the client went away first (``http.disconnect``, or ``send`` failed).
        deadline_cut: a server's deadline ended the response (see :func:`mark_deadline_cut`).
        replaced_status: a server answered this status in place of the app's response.
        failure: what the app raised, if anything.
        finished: when the app returned or raised; None while it runs.
    """

    request_id: str
    method: str
    key: str
    trace_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    range_served: str | None = None
    bytes_planned: int | None = None
    bytes_sent: int = 0
    s3_first_byte: float | None = None
    s3_requests: int = 0
    s3_errors: list[str] = field(default_factory=list)
    client_first_byte: float | None = None
    resumes: int = 0
    response_complete: bool = False
    client_gone: bool = False
    deadline_cut: bool = False
    replaced_status: int | None = None
    failure: BaseException | None = None
    finished: float | None = None

    def took(self, message: Message) -> None:
        """Record an ASGI ``http.response.*`` message the server has just taken from the app."""
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            headers = {bytes(name).lower(): bytes(value) for name, value in message.get("headers", [])}
            served = headers.get(b"content-range")
            self.range_served = None if served is None else served.decode("latin-1")
            self.bytes_planned = self._planned(headers.get(b"content-length"))
            return
        if message["type"] != "http.response.body":
            return
        body = message.get("body", b"")
        more = bool(message.get("more_body", False))
        self.bytes_sent += len(body)
        if self.client_first_byte is None and (body or not more):
            self.client_first_byte = time.perf_counter() - self.started
        if not more:
            self.response_complete = True

    def _planned(self, length: bytes | None) -> int | None:
        if self.method == "HEAD" or self.status in _NO_CONTENT:
            return 0
        if length is None or not length.isdigit():
            return None
        return int(length)

    @property
    def duration(self) -> float:
        """Seconds from ``started`` to ``finished`` (to now while the app runs)."""
        end = time.perf_counter() if self.finished is None else self.finished
        return end - self.started

    @property
    def answered_status(self) -> int:
        """The status the client got: a server's replacement, else the app's, else 500 (what
        servers answer when the app fails before it starts a response) or, when a deadline
        came first, 504 (the Lambda bridge's answer)."""
        if self.replaced_status is not None:
            return self.replaced_status
        if self.status is not None:
            return self.status
        return 504 if self.deadline_cut else 500

    def outcome(self) -> Outcome:
        """How the request ended, from the first rule that holds.

        1. ``deadline_cut``: a server's deadline ended it (:func:`mark_deadline_cut`).
        2. ``rejected``: a server answered an error in place of the app's response
           (:func:`mark_replaced`), or the app failed before it started one (the server
           then answers 500).
        3. Once the whole response was taken: ``redirected`` for a 3xx other than 304,
           ``rejected`` for 4xx and 5xx (the proxy's own error answers: bad key, denied,
           missing, S3 unavailable, ...), else ``complete`` (200, 206, 204, and 304, which
           completes a revalidation: the client's copy is current).
        4. ``client_aborted``: the client left first.
        5. ``deadline_cut``: the app was cancelled, which only a server does (``serve``'s
           shutdown timeout ending a stream in flight).
        6. ``upstream_failed``: the app raised, or stopped, after the response started (an
           S3 body that broke and could not be resumed).
        """
        if self.deadline_cut:
            return "deadline_cut"
        if self.replaced_status is not None or self.status is None:
            return "rejected"
        if self.response_complete:
            return _answered(self.status)
        if self.client_gone:
            return "client_aborted"
        if isinstance(self.failure, asyncio.CancelledError):
            return "deadline_cut"
        return "upstream_failed"


def _answered(status: int) -> Outcome:
    """The outcome of a response taken whole, by its status."""
    if 300 <= status < 400 and status != 304:
        return "redirected"
    return "rejected" if status >= 400 else "complete"


def current() -> RequestFacts | None:
    """The facts of the request being served in this context, else None."""
    return _current.get()


@contextlib.contextmanager
def active(facts: RequestFacts) -> Iterator[RequestFacts]:
    """Make ``facts`` the :func:`current` ones for the ``with`` block and the tasks it starts."""
    token = _current.set(facts)
    try:
        yield facts
    finally:
        _current.reset(token)


def note_resume() -> None:
    """Count one resumption of a broken S3 body for the current request; no-op outside one."""
    facts = _current.get()
    if facts is not None:
        facts.resumes += 1


def note_s3_answer(seconds: float) -> None:
    """Record that S3 answered a call of the current request after ``seconds`` (issue to answer
    headers); the first answer is the request's S3 time to first byte. No-op outside a request."""
    facts = _current.get()
    if facts is None:
        return
    facts.s3_requests += 1
    if facts.s3_first_byte is None:
        facts.s3_first_byte = seconds


def note_s3_error(kind: str) -> None:
    """Record that an S3 call or body of the current request failed, as ``kind`` (e.g.
    ``'not_found'``, ``'timeout'``). No-op outside a request."""
    facts = _current.get()
    if facts is not None:
        facts.s3_errors.append(kind)


def facts_of(scope: Scope) -> RequestFacts | None:
    """The facts the access log keeps for the request of ``scope``, if any."""
    facts = scope.get(SCOPE_KEY)
    return facts if isinstance(facts, RequestFacts) else None


def mark_deadline_cut(scope: Scope, accepted_bytes: int = 0) -> None:
    """For a server: the response of ``scope`` is being ended at a deadline.

    Call it before cancelling the app or failing its ``send``. ``accepted_bytes`` is how
    much of the body message being refused was sent all the same (a server may send part of
    a message before the cut); they count as sent. No-op without facts in the scope.
    """
    facts = facts_of(scope)
    if facts is not None:
        facts.deadline_cut = True
        facts.bytes_sent += accepted_bytes


def mark_replaced(scope: Scope, status: int) -> None:
    """For a server: it answers ``status`` instead of the app's response (e.g. 413 when a
    buffered Lambda answer outgrows 6 MB). Call it before stopping the app."""
    facts = facts_of(scope)
    if facts is not None:
        facts.replaced_status = status
