"""How every log record is written: one JSON object per line, or one line of text.

The JSON format follows what Lambda's JSON log format expects of application logs, so
CloudWatch Logs Insights discovers the fields and Lambda's log-level filtering applies:

* Lambda docs, "Configuring JSON and plain text log formats":
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html
* "Log-level filtering" (a ``level`` key, an RFC 3339 ``timestamp``, the
  ``AWS_LAMBDA_LOG_LEVEL`` / ``AWS_LAMBDA_LOG_FORMAT`` variables a custom runtime reads):
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
* "Log and monitor Python Lambda functions", advanced logging controls:
  https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html#python-logging-advanced

The keys mirror the Python managed runtime's: ``timestamp``, ``level`` (the :mod:`logging`
level name), ``message``, ``logger``, ``requestId`` (of the request being served, when
there is one), then the record's extra fields (``logging``'s ``extra=``) as top-level
keys, and for a record with an exception ``errorType``, ``errorMessage``, ``stackTrace``
(a list of frames) and ``location`` (``path:function:line``). E.g.::

    {"timestamp": "2026-12-03T13:44:27.123Z", "level": "INFO", "message": "...",
     "logger": "s3_stream_proxy.access", "requestId": "8f507cfc-...", "method": "GET", ...}
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from service import requestid
from service.settings import LogFormat, parse_log_format, parse_log_level

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""The text format: ``2026-12-03 13:44:27,123 INFO s3_stream_proxy.access: GET "a.pdf" 200 ...``."""

_NOT_FIELDS = frozenset(
    {*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "asctime", "taskName", "color_message"}
)
"""Attributes every LogRecord has (anything else on a record came from ``extra=``), and
uvicorn's ``color_message``, the message again with terminal colour codes."""

_LAMBDA_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}
"""``AWS_LAMBDA_LOG_LEVEL``'s values (the ApplicationLogLevel of the function's LoggingConfig,
Lambda API reference) as :mod:`logging` levels; Python has no TRACE, so it means DEBUG."""


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON (see the module docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line; values JSON cannot hold are written as text."""
        document: dict[str, Any] = {
            "timestamp": utc_timestamp(record.created),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        rid = requestid.current()
        if rid is not None:
            document["requestId"] = rid
        for name, value in record.__dict__.items():
            if name not in _NOT_FIELDS and name not in document:
                document[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            document["errorType"] = type(exc).__name__
            document["errorMessage"] = str(exc)
            document["stackTrace"] = traceback.format_tb(exc.__traceback__)
            document["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        return json.dumps(document, ensure_ascii=False, default=str, separators=(",", ":"))


def utc_timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as RFC 3339 / ISO 8601 UTC with milliseconds,
    e.g. ``'2026-12-03T13:44:27.123Z'``."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``log_format``."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: LogFormat, level: int) -> None:
    """Send every record of ``level`` and above to stderr in ``log_format``.

    One handler on the root logger (replacing the one an earlier call installed); the loggers of the proxy, botocore and
    uvicorn (which ``serve`` configures no handler for) all propagate to it. Warnings
    (:mod:`warnings`) become records of the ``py.warnings`` logger, so they too are written
    in the format instead of as bare text.
    """
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in root.handlers[:]:
        if isinstance(old, _StderrHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure` installs, told apart so that calling it again replaces it."""


def level_number(name: str) -> int:
    """The :mod:`logging` level of a :data:`~service.settings.LogLevel` name, e.g. 20 for ``INFO``."""
    return int(logging.getLevelNamesMapping()[name])


def lambda_choice(environ: Mapping[str, str]) -> tuple[LogFormat, int]:
    """The format and level on Lambda: ``S3_PROXY_LOG_FORMAT`` / ``S3_PROXY_LOG_LEVEL`` when set,
    else Lambda's ``AWS_LAMBDA_LOG_FORMAT`` / ``AWS_LAMBDA_LOG_LEVEL`` (set for functions
    with advanced logging controls), else JSON at INFO.

    Never raises: an invalid ``S3_PROXY_LOG_*`` value is passed over here and reported by
    :meth:`~service.settings.Settings.from_env` as the runtime's init error, written in the
    format chosen without it; an invalid ``AWS_LAMBDA_*`` value is passed over.
    """
    log_format: LogFormat = "json"
    for variable in ("S3_PROXY_LOG_FORMAT", "AWS_LAMBDA_LOG_FORMAT"):
        try:
            log_format = parse_log_format(environ[variable])
            break
        except (KeyError, ValueError):
            continue
    level = logging.INFO
    try:
        level = level_number(parse_log_level(environ["S3_PROXY_LOG_LEVEL"]))
    except (KeyError, ValueError):
        level = _LAMBDA_LEVELS.get(environ.get("AWS_LAMBDA_LOG_LEVEL", "").strip().upper(), level)
    return log_format, level
