"""Reading access records back out of a process's log output, in either format.

Both formats carry the same facts: the JSON record's fields, and the text line (also the
JSON record's ``message``). :func:`records` turns either into one shape, :class:`Access`, so
one expectation checks both.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCESS_LOGGER = "s3_stream_proxy.access"

LINE = re.compile(
    r'^(?P<method>[A-Z]+) (?P<key>"(?:[^"\\]|\\.)*") (?P<status>\d{3}) bytes=(?P<sent>\d+) '
    r"duration=(?P<duration>\d+\.\d{3})s ttfb=(?P<ttfb>\d+\.\d{3}s|-) id=(?P<id>\S+) "
    r"outcome=(?P<outcome>[a-z_]+) planned=(?P<planned>\d+|-) "
    r'range=(?P<range>"(?:[^"\\]|\\.)*"|-) s3_ttfb=(?P<s3>\d+\.\d{3}s|-) resumes=(?P<resumes>\d+) '
    r'trace=(?P<trace>\S+)(?: cause=(?P<cause>"(?:[^"\\]|\\.)*"))?$'
)
"""The access record's message, the text format's one line (service.accesslog.access_line)."""

TEXT_PREFIX = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)$"
)
"""A record in the text format: ``2026-12-03 13:44:27,123 INFO s3_stream_proxy.access: ...``."""

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
"""The JSON format's ``timestamp``: ISO 8601 / RFC 3339, UTC, milliseconds."""

ENVELOPE = ("timestamp", "level", "message", "logger")
"""Keys every JSON record has."""


@dataclass(frozen=True)
class Access:
    """One access record, whichever format it came in.

    ``facts`` holds the fields compared exactly (level included); ``timings`` the three
    times in milliseconds (None when absent), checked for plausibility.
    """

    facts: dict[str, Any]
    timings: dict[str, float | None] = field(default_factory=dict)


def records(output: str, log_format: str) -> list[Access]:
    """The access records in ``output``, a process's stderr in ``log_format``.

    Every line must be a log record of that format: in JSON one object with the envelope
    keys; in text, lines not starting a record only as a traceback's continuation.
    """
    found: list[Access] = []
    for line in output.splitlines():
        if log_format == "json":
            document = json.loads(line)
            assert all(key in document for key in ENVELOPE), line
            assert TIMESTAMP.match(document["timestamp"]), line
            if document["logger"] == ACCESS_LOGGER:
                found.append(_from_json(document))
        else:
            match = TEXT_PREFIX.match(line)
            if match is not None and match["logger"] == ACCESS_LOGGER:
                found.append(_from_text(match["level"], match["message"]))
    return found


def _from_json(document: dict[str, Any]) -> Access:
    fields = {key: value for key, value in document.items() if key not in {"timestamp", "message", "logger"}}
    timings = {name: fields.pop(name) for name in ("s3FirstByteMs", "clientFirstByteMs", "durationMs")}
    # The message is the text line, and says the same.
    from_message = _from_text(document["level"], document["message"])
    assert from_message.facts == fields, (from_message.facts, fields)
    for name, value in timings.items():
        shown = from_message.timings[name]
        assert (value is None) == (shown is None), (name, value, shown)
        if value is not None and shown is not None:
            assert abs(value - shown) <= 0.5 + 1e-9, (name, value, shown)  # the line rounds to 1 ms
    return Access(fields, timings)


def _from_text(level: str, message: str) -> Access:
    match = LINE.match(message)
    assert match is not None, message
    facts: dict[str, Any] = {
        "level": level,
        "requestId": match["id"],
        "method": match["method"],
        "key": json.loads(match["key"]),
        "status": int(match["status"]),
        "outcome": match["outcome"],
        "range": None if match["range"] == "-" else json.loads(match["range"]),
        "bytesPlanned": None if match["planned"] == "-" else int(match["planned"]),
        "bytesSent": int(match["sent"]),
        "resumes": int(match["resumes"]),
        "traceId": None if match["trace"] == "-" else match["trace"],
    }
    if match["cause"] is not None:
        facts["cause"] = json.loads(match["cause"])
    timings = {
        "s3FirstByteMs": _ms(match["s3"]),
        "clientFirstByteMs": _ms(match["ttfb"]),
        "durationMs": _ms(match["duration"] + "s"),
    }
    return Access(facts, timings)


def _ms(text: str) -> float | None:
    return None if text == "-" else float(text.rstrip("s")) * 1000


class LogFile:
    """A log file another process appends to, read from where the last read stopped."""

    def __init__(self, path: Path, log_format: str) -> None:
        self.path = path
        self.log_format = log_format
        self._offset = 0

    def text(self) -> str:
        """All of the file so far."""
        return self.path.read_text(encoding="utf-8") if self.path.exists() else ""

    def skip(self) -> None:
        """Forget what was written so far."""
        self._offset = len(self.text())

    def next_records(self, count: int = 1, timeout: float = 15.0) -> list[Access]:
        """The next ``count`` access records written since the last read; waits up to ``timeout``
        seconds (a record is written once the app is done, which may be just after the
        client has its answer), then a moment more to see that no other follows."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            complete = text[: text.rfind("\n") + 1] if "\n" in text else ""
            found = records(complete[self._offset :], self.log_format)
            if len(found) >= count:
                break
            assert time.monotonic() < deadline, f"{len(found)} of {count} access records:\n{complete[self._offset :]}"
            time.sleep(0.02)
        time.sleep(0.2)
        text = self.text()
        complete = text[: text.rfind("\n") + 1]
        found = records(complete[self._offset :], self.log_format)
        self._offset = len(complete)
        assert len(found) == count, found
        return found
