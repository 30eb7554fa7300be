"""One access-log line per request with method, key, status, bytes, duration and time to first byte."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.accesslog import StreamBrokenFilter
from service.errors import StreamBroken
from tests.support.backends import CREDENTIALS
from tests.support.relay import CutAfter, Relay

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024

LINE = re.compile(
    r'^(?P<method>[A-Z]+) "(?P<key>[^"]*)" (?P<status>\d{3}) bytes=(?P<bytes>\d+) '
    r"duration=(?P<duration>[\d.]+)s ttfb=(?P<ttfb>[\d.]+s|-) id=(?P<id>[0-9a-f]{16}) outcome=(?P<outcome>[a-z_]+) "
    r'planned=(?:\d+|-) range=(?:"[^"]*"|-) s3_ttfb=(?:[\d.]+s|-) resumes=\d+ trace=\S+'
    r'(?: cause=(?P<cause>"(?:[^"\\]|\\.)*"))?$'
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
    assert first["outcome"] == "complete"
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
    assert line["outcome"] == "client_aborted"
    assert 0 < int(line["bytes"]) < 32 * 1024 * 1024


# Under ``serve``: a broken S3 body is the access line's to report, once, without a traceback.


@contextlib.contextmanager
def serve_command(bucket: str, endpoint_url: str, log: Path) -> Iterator[str]:
    """Run ``python -m service serve`` on an OS-chosen loopback port, stderr to ``log``; yield its URL."""
    env = {
        "PATH": os.environ["PATH"],
        **CREDENTIALS,
        "AWS_REGION": "us-east-1",
        "S3_PROXY_BUCKET": bucket,
        "S3_PROXY_ENDPOINT_URL": endpoint_url,
        "S3_PROXY_MAX_ATTEMPTS": "1",
    }
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", "0"]
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        started = wait_for_log(log, re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)"), process)
        yield started[1]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_log(log: Path, pattern: re.Pattern[str], process: subprocess.Popen[bytes]) -> re.Match[str]:
    """The first match of ``pattern`` in ``log`` once it is written; fails after 30 s or if the process ends."""
    deadline = time.monotonic() + 30
    while (match := pattern.search(log.read_text(encoding="utf-8"))) is None:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
        time.sleep(0.05)
    return match


def test_a_broken_s3_body_is_one_access_line_with_its_cause_and_no_traceback(
    s3: object, bucket: str, relay: Relay, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="eight.bin", Body=os.urandom(8 * MiB))  # type: ignore[attr-defined]
    relay.fault = CutAfter(limit=2 * MiB)
    log = tmp_path / "serve.log"
    received = 0
    with serve_command(bucket, relay.url, log) as url:
        with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{url}/eight.bin", timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == str(8 * MiB)
            rid = response.headers["x-request-id"]
            for chunk in response.iter_raw():
                received += len(chunk)
        assert 0 < received < 8 * MiB  # the connection was aborted, not ended cleanly
        time.sleep(0.5)  # for any record the server might still write about the failure
    output = log.read_text(encoding="utf-8")
    mentions = [line for line in output.splitlines() if rid in line or "StreamBroken" in line]
    assert len(mentions) == 1, output
    prefix, _, message = mentions[0].partition(" s3_stream_proxy.access: ")
    assert prefix.endswith(" WARNING"), mentions[0]
    line = LINE.match(message)
    assert line is not None, message
    assert (line["id"], line["status"], line["outcome"]) == (rid, "200", "upstream_failed")
    assert int(line["bytes"]) == received
    assert line["cause"].startswith('"StreamBroken: S3 body failed mid-stream: '), line["cause"]
    assert "Traceback" not in output
    assert "Exception in ASGI application" not in output


def _record(exc: BaseException | None) -> logging.LogRecord:
    exc_info = None if exc is None else (type(exc), exc, None)
    return logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application\n", (), exc_info
    )


def test_the_filter_drops_only_a_broken_stream() -> None:
    only = StreamBrokenFilter()
    assert not only.filter(_record(StreamBroken("S3 body failed mid-stream: ClientPayloadError")))
    assert only.filter(_record(RuntimeError("a bug")))
    assert only.filter(_record(None))
