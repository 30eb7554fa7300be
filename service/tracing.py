"""Tracing: the request's X-Ray trace header carried on to S3, and the hooks OpenTelemetry fills in.

Always on, without OpenTelemetry: the trace header a request came with
(the Lambda invocation's ``Lambda-Runtime-Trace-Id``, else the client's ``X-Amzn-Trace-Id``;
the same rule as the access record's ``traceId``) is sent on, as ``X-Amzn-Trace-Id``, with
every S3 request made for it. That is what AWS's own SDKs do on Lambda (botocore's
``add_recursion_detection_header`` copies ``_X_AMZN_TRACE_ID`` into ``X-Amzn-Trace-Id``), but
read from the request's own context, not from the process-wide environment variable, so it
is right whoever else runs in the process and whatever the bridge has set. Only a
well-formed header (see :func:`propagated_header`) is sent on.

With ``S3_PROXY_TRACING=otel`` :func:`from_settings` returns :class:`service.otel.OtelTracing`
instead, which overrides the hooks of :class:`Tracing`: the request's server span, an S3
call's client span, the header S3 gets, and the export of buffered spans once a Lambda
response is delivered (:data:`AFTER_RESPONSE_SCOPE_KEY`). This module imports nothing from
OpenTelemetry; only that choice does.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from service.requestfacts import TRACE_SCOPE_KEY
from service.settings import ConfigError, Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

XRAY_HEADER = "X-Amzn-Trace-Id"
"""The X-Ray tracing header (X-Ray developer guide, "Tracing header")."""

AFTER_RESPONSE_SCOPE_KEY = "s3proxy.after_response"
"""ASGI scope key where a server that may be frozen once a response is delivered (the Lambda
bridge: Lambda freezes the execution environment between invocations) puts a list; the app
appends callables without arguments, which the server calls, in a worker thread, after the
response and before it takes the next request. Tracing adds its span export there."""

_current_header: ContextVar[str | None] = ContextVar("s3proxy_trace_header", default=None)

_FIELDS = {
    "Root": re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}"),
    "Parent": re.compile(r"[0-9a-f]{16}"),
    "Sampled": re.compile(r"[01?]"),
}
"""The fields of an X-Ray header passed on, and the form each must have (X-Ray developer
guide, "Tracing header", docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html):
``Root`` is ``1-``, 8 hex digits of epoch seconds, ``-``, 24 hex digits; ``Parent`` a 64-bit
segment id in 16 hex digits; ``Sampled`` ``1``, ``0`` or ``?``."""

MAX_HEADER_LENGTH = 256
"""Characters of an incoming trace header looked at; a well-formed one has about 80."""


def propagated_header(header: str | None) -> str | None:
    """The X-Ray header to send on for ``header``: its ``Root``, ``Parent`` and ``Sampled``
    fields in that order, e.g. ``'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'``.

    None without a well-formed ``Root``. Other fields (a load balancer's ``Self=``) and
    malformed ones are left out, so a client can make the proxy send S3 nothing but a
    trace id it could have sent itself.
    """
    if header is None or len(header) > MAX_HEADER_LENGTH:
        return None
    found: dict[str, str] = {}
    for item in header.split(";"):
        name, _, value = item.strip().partition("=")
        pattern = _FIELDS.get(name)
        if pattern is not None and name not in found and pattern.fullmatch(value):
            found[name] = value
    if "Root" not in found:
        return None
    return ";".join(f"{name}={found[name]}" for name in _FIELDS if name in found)


def incoming_header(scope: Scope) -> str | None:
    """The raw X-Ray header of the request of ``scope``: what a server in front put in the
    scope (:data:`~service.requestfacts.TRACE_SCOPE_KEY`: on Lambda, the invocation's),
    else the request's ``X-Amzn-Trace-Id``, else None."""
    given = scope.get(TRACE_SCOPE_KEY)
    if isinstance(given, str):
        return given
    return request_header(scope, b"x-amzn-trace-id")


def request_header(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header ``name`` (lower case), decoded as Latin-1."""
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def current_header() -> str | None:
    """The X-Ray header of the request served in this context (see :func:`propagated_header`)."""
    return _current_header.get()


class S3Call:
    """What a tracer learns of one S3 call; this one keeps nothing (tracing off)."""

    def answered(self, metadata: Mapping[str, Any]) -> None:
        """S3 answered with success; ``metadata`` is botocore's ``ResponseMetadata``."""


class Tracing:
    """X-Ray header propagation, and the hooks a tracer overrides (:class:`service.otel.OtelTracing`).

    One per app, made by :func:`from_settings`; :class:`TracingMiddleware` calls
    :meth:`serve`, :meth:`service.s3.ObjectStore` calls :meth:`s3_call`, and the S3
    client's ``before-call.s3`` event calls :meth:`add_s3_headers` (:func:`register_s3_hooks`).
    """

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``app`` for one HTTP request with its trace header as :func:`current_header`."""
        token = _current_header.set(propagated_header(incoming_header(scope)))
        try:
            await app(scope, receive, send)
        finally:
            _current_header.reset(token)

    @contextlib.contextmanager
    def s3_call(self, operation: str, bucket: str, key: str) -> Iterator[S3Call]:
        """Around one S3 call (``operation`` as the S3 API names it, e.g. ``'GetObject'``),
        until its answer headers arrive or it fails; the block raises what the call raised."""
        yield S3Call()

    def add_s3_headers(self, params: dict[str, Any], **kwargs: Any) -> None:
        """botocore ``before-call`` handler: put the current request's trace header on the
        S3 request about to be signed and sent; without one, it leaves the headers alone.

        It runs before botocore's own ``before-call`` handler (botocore calls the handlers of
        the more specific event first), which then keeps this header rather than copy
        ``_X_AMZN_TRACE_ID``: on Lambda both name the same invocation, as the bridge sets the
        variable per invocation, but only the request's context stays right if a process
        ever serves several invocations at once (the variable is process-wide)."""
        headers = params["headers"]
        header = current_header()
        if header is not None:
            headers[XRAY_HEADER] = header

    needs_flush = False
    """Whether :meth:`flush` has anything to do (spans buffered for export)."""

    def flush(self) -> None:
        """Export what is buffered now (blocking; called after a response, see
        :data:`AFTER_RESPONSE_SCOPE_KEY`)."""

    def shutdown(self) -> None:
        """Flush and stop, at the app's shutdown."""


def register_s3_hooks(client: S3Client, tracing: Tracing) -> None:
    """Make every S3 request of ``client`` carry the trace header (see :meth:`Tracing.add_s3_headers`).

    ``before-call`` is where botocore adds its own ``X-Amzn-Trace-Id`` on Lambda, once per
    call (retries send the same header); it is not emitted for presigned URLs, which carry
    no trace. SigV4 leaves the header out of the signature (botocore's
    ``SIGNED_HEADERS_BLACKLIST``), as AWS services may rewrite it on the way.
    """
    client.meta.events.register("before-call.s3", tracing.add_s3_headers)


class TracingMiddleware:
    """Pure ASGI middleware: each HTTP request runs under ``tracing``'s :meth:`Tracing.serve`.

    It wraps the access log middleware, so that a span ends after the request's facts are
    complete and the S3 calls made inside are its children.
    """

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        after_response = scope.get(AFTER_RESPONSE_SCOPE_KEY)
        if self.tracing.needs_flush and isinstance(after_response, list):
            after_response.append(self.tracing.flush)
        await self.tracing.serve(self.app, scope, receive, send)


OTEL_EXTRA_MISSING = (
    "S3_PROXY_TRACING: 'otel' needs the OpenTelemetry packages (missing: {module}); pip install 's3-stream-proxy[otel]'"
)


def from_settings(settings: Settings) -> Tracing:
    """The tracing ``settings.tracing`` asks for: :class:`Tracing` (X-Ray header only) for
    ``off``, :class:`service.otel.OtelTracing` configured by the ``OTEL_*`` variables for ``otel``.

    Raises:
        ConfigError: ``otel`` without the ``otel`` extra installed, or a bad ``OTEL_*`` value.
    """
    if settings.tracing == "off":
        return Tracing()
    try:
        from service.otel import OtelTracing
    except ModuleNotFoundError as exc:
        raise ConfigError(OTEL_EXTRA_MISSING.format(module=exc.name)) from None
    return OtelTracing.from_env()
