"""Errors the proxy answers with, and the one place they become HTTP responses.

Deep code raises a :class:`ProxyError` subclass; :func:`error_response` turns it into a
short plain-text answer that names the problem and carries the request id. AWS error
text, bucket names and stack traces never reach the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from service.requestid import request_id


class ProxyError(Exception):
    """An answer other than success, with its HTTP status and a short reason.

    Attributes:
        status: HTTP status code to answer with.
        reason: one short sentence for the client; never AWS error text.
        headers: extra response headers (e.g. ``Retry-After``, ``Allow``).
    """

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = dict(headers or {})


class BadRequest(ProxyError):
    """The request cannot name an object (400)."""

    status = HTTPStatus.BAD_REQUEST


class Forbidden(ProxyError):
    """S3 denied access to the key (403)."""

    status = HTTPStatus.FORBIDDEN


class NotFound(ProxyError):
    """No object at the key (404)."""

    status = HTTPStatus.NOT_FOUND


class BadGateway(ProxyError):
    """S3 failed (5xx other than throttling) or could not be reached (502)."""

    status = HTTPStatus.BAD_GATEWAY


class ServiceUnavailable(ProxyError):
    """S3 is throttling (``SlowDown``); the client should retry later (503)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class GatewayTimeout(ProxyError):
    """S3 did not answer within the configured timeout (504)."""

    status = HTTPStatus.GATEWAY_TIMEOUT


class NotModified(ProxyError):
    """S3 answered 304 to a conditional request; ``headers`` holds its validators."""

    status = HTTPStatus.NOT_MODIFIED


class PreconditionFailed(ProxyError):
    """S3 answered 412 to a conditional request."""

    status = HTTPStatus.PRECONDITION_FAILED


class RangeNotSatisfiable(ProxyError):
    """S3 answered 416 to a ranged request."""

    status = HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE


class StreamBroken(Exception):
    """The S3 body failed after the response started; the connection must be aborted.

    Raised past the ASGI boundary on purpose: uvicorn then closes the connection, so
    the client sees a body short of its ``Content-Length`` instead of a clean end.
    """


def error_response(request: Request, status: int, reason: str, headers: Mapping[str, str]) -> Response:
    """Build the short plain-text error answer (``"404 Not Found: <reason>"`` + request id), ``nosniff``."""
    rid = request_id(request.scope)
    phrase = HTTPStatus(status).phrase
    body = f"{status} {phrase}: {reason}\nrequest id: {rid}\n"
    if request.method == "HEAD":
        body = ""
    return PlainTextResponse(body, status_code=status, headers={**headers, "x-content-type-options": "nosniff"})
