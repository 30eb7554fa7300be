"""Prometheus metrics for ``serve``: one registry per app, scraped at ``/_s3proxy/metrics``.

Built with the ``prometheus-client`` library (https://prometheus.github.io/client_python/),
in its text exposition format, or OpenMetrics when the scraper asks for it (``Accept``).
The registry belongs to the app, not to the library's global default, so each app built in
one process (the tests build many) counts alone. ``serve`` runs one uvicorn process, so
these per-process values are the proxy's.

Every value comes from a request's :class:`~service.requestfacts.RequestFacts`, the
access record's facts; times are seconds, sizes bytes:

======================================== ========= ============== ====================================
name                                     type      labels         what it counts
======================================== ========= ============== ====================================
``s3proxy_requests_total``               counter   status,        requests ended, by the status the
                                                   outcome        client got and the access record's
                                                                  outcome
``s3proxy_sent_bytes_total``             counter                  body bytes handed to uvicorn, those of
                                                                  streams still running included
``s3proxy_client_first_byte_seconds``    histogram                request to its first body byte
``s3proxy_s3_first_byte_seconds``        histogram                first S3 call to S3's answer headers
                                                                  (requests that asked S3)
``s3proxy_request_duration_seconds``     histogram                request to the app being done with it
``s3proxy_streams_in_flight``            gauge                    responses started and not yet ended
``s3proxy_s3_errors_total``              counter   kind           S3 failures, by
                                                                  :data:`~service.s3.S3ErrorKind`
``s3proxy_resumes_total``                counter                  broken S3 bodies read on from where
                                                                  they broke
======================================== ========= ============== ====================================
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.metrics import counted
from service.requestfacts import RequestFacts
from service.s3 import S3ErrorKind

PATH = "/metrics"
"""The route's path inside the ``/_s3proxy`` mount: ``/_s3proxy/metrics``."""

FIRST_BYTE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the time-to-first-byte histograms: S3 in the same region
answers in milliseconds to tens of milliseconds; past 10 s a client has likely given up."""

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
"""Upper bounds (seconds) of the duration histogram: from a 304 (milliseconds) to a large
download over a slow link (minutes)."""


class PrometheusMetrics:
    """A :class:`~service.metrics.RequestObserver` that keeps the metrics of the module docstring."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter(
            "s3proxy_requests", "Requests ended, by status and outcome.", ["status", "outcome"], registry=registry
        )
        self._client_first_byte = Histogram(
            "s3proxy_client_first_byte_seconds",
            "Seconds from the request reaching the proxy to its first body byte handed on.",
            buckets=FIRST_BYTE_BUCKETS,
            registry=registry,
        )
        self._s3_first_byte = Histogram(
            "s3proxy_s3_first_byte_seconds",
            "Seconds from issuing the request's first S3 call to S3's answer headers.",
            buckets=FIRST_BYTE_BUCKETS,
            registry=registry,
        )
        self._duration = Histogram(
            "s3proxy_request_duration_seconds",
            "Seconds from the request reaching the proxy to the proxy being done with it.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._s3_errors = Counter("s3proxy_s3_errors", "S3 failures, by kind.", ["kind"], registry=registry)
        for kind in get_args(S3ErrorKind):
            self._s3_errors.labels(kind)  # every kind is shown, at 0 until it happens
        self._resumes = Counter("s3proxy_resumes", "Broken S3 bodies read on from where they broke.", registry=registry)
        self._streams = _Streams()
        registry.register(self._streams)

    def response_started(self, facts: RequestFacts) -> None:
        """Count the response as in flight."""
        if counted(facts):
            self._streams.start(facts)

    def request_ended(self, facts: RequestFacts) -> None:
        """Count the ended request in every metric."""
        if not counted(facts):
            return
        self._streams.end(facts)
        self._requests.labels(str(facts.answered_status), facts.outcome()).inc()
        if facts.client_first_byte is not None:
            self._client_first_byte.observe(facts.client_first_byte)
        if facts.s3_first_byte is not None:
            self._s3_first_byte.observe(facts.s3_first_byte)
        self._duration.observe(facts.duration)
        for kind in facts.s3_errors:
            self._s3_errors.labels(kind).inc()
        if facts.resumes:
            self._resumes.inc(facts.resumes)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The registry's samples in the format ``accept`` asks for (Prometheus text unless it
        asks for OpenMetrics), and that format's content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def route(self) -> Route:
        """``GET`` (and ``HEAD``) :data:`PATH`: the exposition, never cached."""

        async def scrape(request: Request) -> Response:
            body, content_type = self.exposition(request.headers.get("accept"))
            return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})

        return Route(PATH, scrape, methods=["GET"])


class _Streams(Collector):
    """``s3proxy_streams_in_flight`` and ``s3proxy_sent_bytes_total``, read at scrape time.

    The bytes of a stream still running count as far as they have been sent
    (``RequestFacts.bytes_sent`` of each response in flight), so a long download shows as
    a steady rate rather than one leap when it ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: dict[int, RequestFacts] = {}
        self._ended_bytes = 0

    def start(self, facts: RequestFacts) -> None:
        with self._lock:
            self._facts[id(facts)] = facts

    def end(self, facts: RequestFacts) -> None:
        with self._lock:
            self._facts.pop(id(facts), None)
            self._ended_bytes += facts.bytes_sent

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            in_flight = len(self._facts)
            sent = self._ended_bytes + sum(facts.bytes_sent for facts in self._facts.values())
        yield GaugeMetricFamily("s3proxy_streams_in_flight", "Responses started and not yet ended.", value=in_flight)
        yield CounterMetricFamily("s3proxy_sent_bytes", "Body bytes handed to the server.", value=sent)
