"""One access-log line per request with method, key, status, bytes, duration and time to first byte."""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest

LINE = re.compile(
    r'^(?P<method>[A-Z]+) "(?P<key>[^"]*)" (?P<status>\d{3}) bytes=(?P<bytes>\d+) '
    r"duration=(?P<duration>[\d.]+)s ttfb=(?P<ttfb>[\d.]+s|-) id=(?P<id>[0-9a-f]{16})(?P<aborted> aborted)?$"
)


def access_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    records = [r for r in caplog.records if r.name == "s3_stream_proxy.access"]
    matches = [LINE.match(r.getMessage()) for r in records]
    assert all(matches), [r.getMessage() for r in records]
    return [m for m in matches if m]


def wait_for_lines(caplog: pytest.LogCaptureFixture, count: int = 1, timeout: float = 10.0) -> list[re.Match[str]]:
    """A line is written once the app returns, which may be just after the client has its answer."""
    deadline = time.monotonic() + timeout
    while len(lines := access_lines(caplog)) < count:
        assert time.monotonic() < deadline, "no access-log line"
        time.sleep(0.01)
    return lines


def test_one_line_per_request(proxy: str, s3: object, bucket: str, caplog: pytest.LogCaptureFixture) -> None:
    s3.put_object(Bucket=bucket, Key="dir/file.bin", Body=b"x" * 5000)  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="s3_stream_proxy.access"):
        ok = httpx.get(f"{proxy}/dir/file.bin")
        missing = httpx.get(f"{proxy}/nope")
        lines = wait_for_lines(caplog, count=2)
    assert len(lines) == 2
    first, second = lines
    assert (first["method"], first["key"], first["status"], first["bytes"]) == ("GET", "dir/file.bin", "200", "5000")
    assert first["id"] == ok.headers["x-request-id"]
    assert first["ttfb"] != "-"
    assert float(first["ttfb"].rstrip("s")) <= float(first["duration"])
    assert first["aborted"] is None
    assert (second["key"], second["status"]) == ("nope", "404")
    assert second["id"] == missing.headers["x-request-id"]
    assert int(second["bytes"]) == len(missing.content)


def test_aborted_stream_is_marked(proxy: str, s3: object, bucket: str, caplog: pytest.LogCaptureFixture) -> None:
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"y" * (32 * 1024 * 1024))  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="s3_stream_proxy.access"):
        with httpx.stream("GET", f"{proxy}/big.bin") as response:
            next(response.iter_raw())
        lines = wait_for_lines(caplog)
    (line,) = lines
    assert line["aborted"] == " aborted"
    assert 0 < int(line["bytes"]) < 32 * 1024 * 1024
