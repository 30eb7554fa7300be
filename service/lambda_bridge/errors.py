"""Errors of the Lambda bridge.

::

    BridgeError
    ├── RuntimeAPIError       the Runtime API refused a call or answered unreadably
    ├── MalformedEventError   an invocation event that maps to no HTTP request (answered with 400)
    ├── LifespanStartupError  the app's ASGI lifespan startup failed (reported to /init/error)
    ├── DeadlineExceeded      the invocation reached its deadline minus the safety margin
    └── IncompleteResponse    the app returned without finishing its response
"""

from __future__ import annotations

from typing import Literal

EventKind = Literal["v2", "v1"]
"""Event shape: ``v2`` = payload format 2.0 (Function URL, HTTP API); ``v1`` = REST proxy / ALB."""


class BridgeError(Exception):
    """Base class of every error the bridge raises itself."""


class RuntimeAPIError(BridgeError):
    """The Runtime API answered a call with an unexpected status, or broke the exchange.

    ``status`` is the HTTP status (``None`` when no valid reply arrived).  A 500 means the
    runtime should exit (Lambda Runtime API docs, "runtimes-api.html").
    """

    def __init__(self, what: str, status: int | None, detail: str = "") -> None:
        answer = "nothing valid" if status is None else str(status)
        super().__init__(f"{what}: the Runtime API answered {answer} {detail}".rstrip())
        self.status = status

    @property
    def fatal(self) -> bool:
        """Whether the runtime process should stop serving (status 500)."""
        return self.status == 500


class MalformedEventError(BridgeError):
    """The event is not a well-formed HTTP integration event; ``reason`` says why in one line."""

    def __init__(self, reason: str, kind: EventKind = "v2") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class LifespanStartupError(BridgeError):
    """The ASGI app reported ``lifespan.startup.failed`` (ASGI lifespan spec)."""


class DeadlineExceeded(BridgeError):
    """The invocation ran into ``Lambda-Runtime-Deadline-Ms`` minus the configured margin."""


class IncompleteResponse(BridgeError):
    """The ASGI app returned before sending ``http.response.body`` with ``more_body`` false."""
