"""Request metrics, fed by the access record's facts: Prometheus under ``serve``, CloudWatch
Embedded Metric Format on Lambda.

:class:`~service.accesslog.AccessLogMiddleware` tells a :class:`RequestObserver` when a
response starts and, right after writing the access record, when the request has ended;
both get the request's :class:`~service.requestfacts.RequestFacts`, so the metrics count
exactly what the access record says. :func:`for_door` builds the observer (and the routes
it serves) for a door:

* ``serve``: :class:`service.metrics.prometheus.PrometheusMetrics`, scraped at
  ``/_s3proxy/metrics``;
* ``lambda``: :class:`service.metrics.emf.EmfMetrics`, one EMF record per request on stdout.

Requests to the proxy's own paths (``/_s3proxy/health``, ``/_s3proxy/metrics``) are not
counted (:func:`counted`): a load balancer's health checks would swamp the request rate.
"""

from __future__ import annotations

from typing import Literal, Protocol

from starlette.routing import BaseRoute

from service.keys import RESERVED_PREFIX
from service.requestfacts import RequestFacts

Door = Literal["serve", "lambda"]
"""How the app is served: by uvicorn (``serve``, ``run``, the demo) or by the Lambda runtime."""


class RequestObserver(Protocol):
    """Told of each HTTP request's facts by the access log middleware."""

    def response_started(self, facts: RequestFacts) -> None:
        """The server has taken the response's start (``facts.status`` is set)."""

    def request_ended(self, facts: RequestFacts) -> None:
        """The app is done with the request and its access record is written."""


class _NotObserved:
    """The observer of an app without metrics: does nothing."""

    def response_started(self, facts: RequestFacts) -> None:
        """Nothing."""

    def request_ended(self, facts: RequestFacts) -> None:
        """Nothing."""


NOT_OBSERVED: RequestObserver = _NotObserved()
"""An observer that does nothing."""


def counted(facts: RequestFacts) -> bool:
    """Whether the request is one the metrics count: any but those to ``/_s3proxy/``."""
    return not ("/" + facts.key).startswith(RESERVED_PREFIX)


def for_door(enabled: bool | None, door: Door) -> tuple[RequestObserver | None, list[BaseRoute]]:
    """The observer and the ``/_s3proxy/`` routes of the metrics of ``door``.

    ``enabled`` is ``Settings.metrics``: None means the door's default, on for ``serve``
    and off on Lambda (EMF metrics are CloudWatch custom metrics, which are billed).
    ``(None, [])`` when metrics are off. The exporter's module is imported only here, so
    a door never loads the other's library.
    """
    if door == "lambda":
        if not enabled:
            return None, []
        from service.metrics.emf import EmfMetrics

        return EmfMetrics(), []
    if enabled is False:
        return None, []
    from service.metrics.prometheus import PrometheusMetrics

    prometheus = PrometheusMetrics()
    return prometheus, [prometheus.route()]
