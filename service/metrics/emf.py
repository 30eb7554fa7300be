"""CloudWatch Embedded Metric Format on Lambda: one metrics record per request, on stdout.

CloudWatch Logs turns a log event that is an EMF document into metrics, with no API call
from the function ("Specification: Embedded metric format",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
the event must be one JSON object and nothing else; its ``_aws`` member holds a
``Timestamp`` (milliseconds since the epoch) and ``CloudWatchMetrics``, a list of
directives, each a ``Namespace``, ``Dimensions`` (lists of the names of root members
whose string values are the dimensions) and ``Metrics`` (the name and ``Unit`` of root
members whose numbers are the values). Other root members are kept as log fields.

The document is written here as a record of the ``s3_stream_proxy.metrics`` logger in
the JSON log format (:mod:`service.logformat`), so it has the keys of every other JSON
record too (``timestamp``, ``level``, ``message``, ``logger``, ``requestId``) and the
runtime's stdout still carries nothing but log records. It is written whatever
``S3_PROXY_LOG_FORMAT`` and ``S3_PROXY_LOG_LEVEL`` say (as text, or below the level, it
would be no metric), on its own line rather than inside the access record, which may be
text. E.g. (one line)::

    {"timestamp": "2026-12-03T14:04:20.706Z", "level": "INFO", "message": "metrics of GET 206 complete",
     "logger": "s3_stream_proxy.metrics", "requestId": "8f507cfc-...",
     "_aws": {"Timestamp": 1764770660706, "CloudWatchMetrics": [{"Namespace": "s3-stream-proxy",
       "Dimensions": [["outcome"]], "Metrics": [{"Name": "Requests", "Unit": "Count"}, ...]}]},
     "outcome": "complete", "status": 206, "s3ErrorKinds": [], "Requests": 1, "BytesSent": 65536,
     "ClientFirstByte": 88.107, "S3FirstByte": 86.848, "Duration": 166.483, "Resumes": 0, "S3Errors": 0}

The one dimension is the outcome (six values), which keeps the custom metrics CloudWatch
bills for at six per metric name. A time that does not apply (``S3FirstByte`` when S3 was
not asked) is left out of the document and of its directive, as EMF takes numbers only.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from service.logformat import JsonFormatter
from service.metrics import counted
from service.requestfacts import RequestFacts

NAMESPACE = "s3-stream-proxy"
"""The CloudWatch namespace of the metrics."""

LOGGER = "s3_stream_proxy.metrics"
"""The logger the metrics records are written to."""

DIMENSIONS = (("outcome",),)
"""The dimension sets of every metric: the outcome alone."""


def document(facts: RequestFacts, timestamp_ms: int) -> dict[str, Any]:
    """The EMF members of the request of ``facts`` (see the module docstring), for a record
    written at ``timestamp_ms`` (milliseconds since the epoch). Times are milliseconds."""
    values: dict[str, tuple[float | None, str]] = {
        "Requests": (1, "Count"),
        "BytesSent": (facts.bytes_sent, "Bytes"),
        "ClientFirstByte": (_ms(facts.client_first_byte), "Milliseconds"),
        "S3FirstByte": (_ms(facts.s3_first_byte), "Milliseconds"),
        "Duration": (_ms(facts.duration), "Milliseconds"),
        "Resumes": (facts.resumes, "Count"),
        "S3Errors": (len(facts.s3_errors), "Count"),
    }
    present = {name: value for name, (value, _) in values.items() if value is not None}
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": [list(names) for names in DIMENSIONS],
        "Metrics": [{"Name": name, "Unit": values[name][1]} for name in present],
    }
    return {
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]},
        "outcome": facts.outcome(),
        "status": facts.answered_status,
        "s3ErrorKinds": list(facts.s3_errors),
        **present,
    }


class EmfMetrics:
    """A :class:`~service.metrics.RequestObserver` that writes each ended request's EMF
    record to ``stream`` (default: stdout)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._logger = logging.getLogger(LOGGER)
        self._logger.propagate = False  # not through the root's format and level
        self._logger.setLevel(logging.INFO)
        for old in self._logger.handlers[:]:
            if isinstance(old, _EmfHandler):
                self._logger.removeHandler(old)
        handler = _EmfHandler(sys.stdout if stream is None else stream)
        handler.setFormatter(JsonFormatter())
        self._logger.addHandler(handler)

    def response_started(self, facts: RequestFacts) -> None:
        """Nothing: a Lambda invocation is one request, and ``ConcurrentExecutions`` counts them."""

    def request_ended(self, facts: RequestFacts) -> None:
        """Write the request's EMF record."""
        if not counted(facts):
            return
        record = self._logger.makeRecord(
            LOGGER,
            logging.INFO,
            __file__,
            0,
            "metrics of %s %d %s",
            (facts.method, facts.answered_status, facts.outcome()),
            None,
        )
        for name, value in document(facts, int(record.created * 1000)).items():
            setattr(record, name, value)
        self._logger.handle(record)


class _EmfHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :class:`EmfMetrics` installs, told apart so that a second one replaces it."""


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
