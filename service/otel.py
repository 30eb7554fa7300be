"""OpenTelemetry spans for requests and S3 calls (``S3_PROXY_TRACING=otel``; needs the ``otel`` extra).

Imported only when tracing is switched on (:func:`service.tracing.from_settings`); nothing
else in :mod:`service` imports OpenTelemetry.

Per request, one ``SERVER`` span named after the method (OpenTelemetry semantic conventions,
HTTP spans: ``{method}`` when no route template is known) with ``http.request.method``,
``url.path``, ``url.scheme``, ``network.protocol.version``, ``http.response.status_code`` and
the proxy's own ``s3proxy.outcome``, ``s3proxy.bytes_sent``, ``s3proxy.bytes_planned``,
``s3proxy.resumes`` and ``s3proxy.request_id`` (from the request's
:class:`~service.requestfacts.RequestFacts`). It continues the caller's trace: a W3C
``traceparent`` (and ``tracestate``) when the request has one, else the X-Ray header of
:func:`service.tracing.incoming_header` (on Lambda, the invocation's). Its status is
ERROR for a 5xx answer and for a body that failed (``upstream_failed``, ``deadline_cut``).

Per S3 call, one ``CLIENT`` span under it, named ``S3.GetObject`` or ``S3.HeadObject``
(semantic conventions, AWS SDK spans: ``Service.Operation``), with ``rpc.system``
``aws-api``, ``rpc.service`` ``S3``, ``rpc.method``, ``aws.s3.bucket``, ``aws.s3.key``,
``http.response.status_code`` and ``aws.request_id`` when S3 answered. It lasts from issuing
the call to S3's answer headers, retries included; the body's bytes are counted on the
request span. Its X-Ray header (``Root`` from the trace id, ``Parent`` the S3 span) is what S3
gets as ``X-Amzn-Trace-Id``; S3 understands no other trace header.

Why not ``opentelemetry-instrumentation-botocore``: it wraps botocore's synchronous
``BaseClient._make_api_call``, which aiobotocore's client overrides with a coroutine, so it
records nothing for this proxy's S3 calls (tried with 0.66b2 on aiobotocore 2.25: no span).
The aiobotocore fork of it patches the client class process-wide and pins aiobotocore below
3.10; two spans made here, at the one place S3 is called, need neither.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.propagators.aws.aws_xray_propagator import AwsXRayPropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ProxyError
from service.requestfacts import facts_of
from service.settings import ConfigError
from service.tracing import XRAY_HEADER, S3Call, Tracing, incoming_header, propagated_header, request_header

DEFAULT_SERVICE_NAME = "s3-stream-proxy"
"""``service.name`` unless ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` names one."""

EXPORTERS = ("otlp", "console", "none")
"""Values of ``OTEL_TRACES_EXPORTER`` understood: OTLP over HTTP/protobuf (the default), each
span as indented JSON on stdout (for trying it out; on Lambda it would mix with the log
records), or no export."""

FLUSH_TIMEOUT_MS = 2000
"""Milliseconds a flush after a Lambda invocation may wait for the exporter (the SDK's
default, 30 s, would hold a frozen-to-be environment far too long)."""

_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "CONNECT", "TRACE"})
"""Methods named as themselves; any other is ``_OTHER`` (semantic conventions, ``http.request.method``)."""

_FAILED_OUTCOMES = frozenset({"upstream_failed", "deadline_cut"})
_ANSWERS = frozenset({304, 412, 416})
"""S3 statuses that answer the request's own conditions or range: not a failed call."""


class _OtelS3Call(S3Call):
    def __init__(self, span: Span) -> None:
        self._span = span

    def answered(self, metadata: Mapping[str, Any]) -> None:
        _answer_attributes(self._span, metadata)


class OtelTracing(Tracing):
    """Spans for each request and S3 call, made with ``provider``'s tracer."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("s3-stream-proxy")
        self._w3c = TraceContextTextMapPropagator()
        self._xray = AwsXRayPropagator()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OtelTracing:
        """Configured by the standard ``OTEL_*`` variables (OpenTelemetry SDK configuration):
        ``OTEL_TRACES_EXPORTER`` (:data:`EXPORTERS`), ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
        ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` and ``_HEADERS``, ``OTEL_SERVICE_NAME``,
        ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` / ``_ARG``, ``OTEL_BSP_*``, and
        ``OTEL_SDK_DISABLED``, read by the SDK itself.

        Raises:
            ConfigError: an exporter or OTLP protocol this install cannot provide.
        """
        env = os.environ if environ is None else environ
        exporter = _exporter(env)
        resource = Resource.create()
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            resource = resource.merge(Resource({"service.name": DEFAULT_SERVICE_NAME}))
        provider = TracerProvider(resource=resource)
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    @property
    def resource(self) -> Resource:
        """What the spans say of the process (``service.name`` and the ``OTEL_RESOURCE_ATTRIBUTES``)."""
        return self._provider.resource

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``app`` for one request inside its server span (see the module docstring)."""
        method = str(scope["method"])
        known = method in _METHODS
        attributes: dict[str, str] = {
            "http.request.method": method if known else "_OTHER",
            "url.path": scope.get("raw_path", b"").decode("latin-1") or str(scope["path"]),
            "url.scheme": str(scope.get("scheme", "http")),
            "network.protocol.version": str(scope.get("http_version", "1.1")),
        }
        if not known:
            attributes["http.request.method_original"] = method
        span = self._tracer.start_span(
            method if known else "HTTP", context=self._parent(scope), kind=SpanKind.SERVER, attributes=attributes
        )
        failure: BaseException | None = None
        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                await app(scope, receive, send)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            _request_outcome(span, scope, failure)
            span.end()

    def _parent(self, scope: Scope) -> Any:
        """The caller's context: W3C trace context if valid, else the X-Ray header's, else none."""
        carrier: dict[str, str] = {}
        for name in ("traceparent", "tracestate"):
            value = request_header(scope, name.encode())
            if value:
                carrier[name] = value
        context = self._w3c.extract(carrier)
        if trace.get_current_span(context).get_span_context().is_valid:
            return context
        xray = propagated_header(incoming_header(scope))
        return self._xray.extract({XRAY_HEADER: xray}) if xray else None

    @contextlib.contextmanager
    def s3_call(self, operation: str, bucket: str, key: str) -> Iterator[S3Call]:
        """A client span around one S3 call, current while it runs, so that
        :meth:`add_s3_headers` sends S3 its X-Ray header."""
        attributes = {
            "rpc.system": "aws-api",
            "rpc.service": "S3",
            "rpc.method": operation,
            "aws.s3.bucket": bucket,
            "aws.s3.key": key,
        }
        with self._tracer.start_as_current_span(
            f"S3.{operation}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield _OtelS3Call(span)
            except BaseException as exc:
                _s3_failure(span, exc)
                raise

    def add_s3_headers(self, params: dict[str, Any], **kwargs: Any) -> None:
        """``X-Amzn-Trace-Id`` for the current span (the S3 call's), replacing any other."""
        self._xray.inject(params["headers"])

    needs_flush = True

    def flush(self) -> None:
        """Export the finished spans still buffered, waiting at most :data:`FLUSH_TIMEOUT_MS`."""
        self._provider.force_flush(FLUSH_TIMEOUT_MS)

    def shutdown(self) -> None:
        """Export the spans still buffered, then stop the provider."""
        self._provider.shutdown()


def _exporter(env: Mapping[str, str]) -> SpanExporter | None:
    name = env.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    if name not in EXPORTERS:
        raise ConfigError(f"OTEL_TRACES_EXPORTER: expected one of {', '.join(EXPORTERS)}, got {name!r}")
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = env.get(variable, "").strip()
        if protocol and protocol != "http/protobuf":
            raise ConfigError(f"{variable}: only http/protobuf is installed with the otel extra, got {protocol!r}")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _request_outcome(span: Span, scope: Scope, failure: BaseException | None) -> None:
    """Set the server span's answer attributes and status from the request's facts."""
    facts = facts_of(scope)
    if facts is None:  # not behind the access log middleware: only the exception is known
        if failure is not None:
            span.set_status(Status(StatusCode.ERROR, type(failure).__name__))
        return
    status = facts.answered_status
    outcome = facts.outcome()
    span.set_attributes(
        {
            "http.response.status_code": status,
            "s3proxy.outcome": outcome,
            "s3proxy.bytes_sent": facts.bytes_sent,
            "s3proxy.resumes": facts.resumes,
            "s3proxy.request_id": facts.request_id,
        }
    )
    if facts.bytes_planned is not None:
        span.set_attribute("s3proxy.bytes_planned", facts.bytes_planned)
    if failure is not None and isinstance(failure, Exception):
        span.record_exception(failure)
    if outcome in _FAILED_OUTCOMES or status >= 500:
        error_type = type(failure).__qualname__ if failure is not None else str(status)
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, outcome))


def _answer_attributes(span: Span, metadata: Mapping[str, Any]) -> None:
    status = metadata.get("HTTPStatusCode")
    if isinstance(status, int):
        span.set_attribute("http.response.status_code", status)
    request_id = metadata.get("RequestId")
    if isinstance(request_id, str) and request_id:
        span.set_attribute("aws.request_id", request_id)


def _s3_failure(span: Span, exc: BaseException) -> None:
    """Describe a failed S3 call: S3's status and error code when it answered, else the
    exception (a timeout, a refused connection, missing credentials)."""
    cause = exc.__cause__ if isinstance(exc, ProxyError) and exc.__cause__ is not None else exc
    response = getattr(cause, "response", None)
    if isinstance(response, Mapping):
        metadata = response.get("ResponseMetadata", {})
        _answer_attributes(span, metadata)
        code = str(response.get("Error", {}).get("Code", "")) or str(metadata.get("HTTPStatusCode", ""))
        if metadata.get("HTTPStatusCode") in _ANSWERS:
            return
        span.set_attribute("error.type", code or type(cause).__qualname__)
        span.set_status(Status(StatusCode.ERROR, code))
        return
    span.set_attribute("error.type", type(cause).__qualname__)
    span.set_status(Status(StatusCode.ERROR, type(cause).__name__))
