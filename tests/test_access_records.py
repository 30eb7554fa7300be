"""The access record of each way a request can end, in both log formats, through both doors.

Each door runs as it is deployed, in a process of its own whose stderr the test reads:
``python -m service serve`` (uvicorn), and our Lambda runtime as the child of the local
Function URL emulator. S3 is moto behind a fault-injecting relay. A record must hold
exactly the expected facts; its three times must be numbers in a plausible order
(S3's first byte before the client's, the client's before the end).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3proxy_dev.function_url.config import PlatformLimits
from service.http.xray import trace_id
from service.settings import LogFormat, Settings
from tests.access_records import ACCESS_LOGGER, Access, LogFile, records
from tests.function_url.client import Observed, fetch
from tests.oracles.cases import OracleRequest
from tests.support.backends import CREDENTIALS, Backend, seed_bucket
from tests.support.relay import CutAfter, Relay, StallAfter, Throttle
from tests.support.servers import serve_function_url, serve_proxy

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
SMALL = os.urandom(200_000)
LARGE_SIZE = 32 * MiB
LARGE = os.urandom(MiB) * (LARGE_SIZE // MiB)
EIGHT = os.urandom(8 * MiB)
CLIENT_TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
TIMEOUT = 3.0
"""The function timeout of the deadline tests, seconds."""
PLAUSIBLE_MS = 20_000.0
"""No time of a record here may come near this (the client gives up after 20 s)."""


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "records", {"docs/a.bin": SMALL, "large.bin": LARGE, "eight.bin": EIGHT})


@pytest.fixture(scope="module", params=["uvicorn", "function-url"])
def door(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module", params=["json", "text"])
def log_format(request: pytest.FixtureRequest) -> LogFormat:
    return "json" if request.param == "json" else "text"


@dataclasses.dataclass
class Target:
    """A running door: its URL and the log its process writes."""

    url: str
    log: LogFile
    door: str


@pytest.fixture(scope="module")
def target(
    door: str, log_format: LogFormat, bucket: str, moto_relay: Relay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    log = LogFile(tmp_path_factory.mktemp("records") / "stderr.log", log_format)
    settings = Settings(
        bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", max_attempts=1, resume_attempts=0
    )
    if door == "uvicorn":
        with serve_command(dataclasses.replace(settings, log_format=log_format), log.path) as (url, _):
            yield Target(url, log, door)
        return
    # JSON is the Lambda runtime's own default: that variant leaves the setting out.
    settings = dataclasses.replace(settings, log_format=None if log_format == "json" else log_format)
    with serve_function_url(settings, runtime_output=log.path) as url:
        yield Target(url, log, door)


@contextlib.contextmanager
def serve_command(settings: Settings, stderr_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``python -m service serve`` for ``settings`` on an OS-chosen loopback port, stderr
    to ``stderr_path``; yield its URL and the process (stopped with SIGTERM after, unless done)."""
    env = {"PATH": os.environ["PATH"], **CREDENTIALS, **settings.to_env()}
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", "0"]
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        log = LogFile(stderr_path, "text")
        yield _wait_for_url(log, process), process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_url(log: LogFile, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while (match := re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.text())) is None:
        assert process.poll() is None, log.text()
        assert time.monotonic() < deadline, log.text()
        time.sleep(0.05)
    return match[1]


class _LeaveNow(Exception):
    """Raised by a test client that leaves after its first body bytes."""


def get(url: str, target: str, *headers: tuple[str, str], leave_early: bool = False, method: str = "GET") -> Observed:
    """What a client sees of ``GET target`` (``leave_early``: it hangs up at the first body bytes)."""
    request = OracleRequest(method=method, target=target, headers=(("X-Amzn-Trace-Id", CLIENT_TRACE), *headers))

    async def leave(_: bytes) -> None:
        raise _LeaveNow

    async def exchange() -> Observed:
        try:
            return await fetch(url, request, leave if leave_early else None)
        except _LeaveNow:
            return Observed(status=200)

    return asyncio.run(exchange())


def expected(observed: Observed, **facts: Any) -> dict[str, Any]:
    """The facts of the record of ``observed``: its request id and trace, then ``facts``."""
    rid = observed.value("x-request-id")
    lambda_id = observed.value("x-amzn-requestid")
    if lambda_id is not None:
        assert rid == lambda_id  # on Lambda the request id is the invocation's
    trace = trace_id(observed.value("x-amzn-trace-id")) or trace_id(CLIENT_TRACE)
    return {"level": "INFO", "requestId": rid, "method": "GET", "resumes": 0, "traceId": trace, **facts}


def assert_times(record: Access, *, s3: bool = True) -> None:
    """S3's first byte (when S3 was asked), then the client's, then the end: numbers, in that order."""
    s3_ms, client_ms, duration_ms = (
        record.timings[name] for name in ("s3FirstByteMs", "clientFirstByteMs", "durationMs")
    )
    assert isinstance(duration_ms, float)
    assert 0 <= duration_ms < PLAUSIBLE_MS, record.timings  # the text line rounds to 1 ms: 0 can be
    if client_ms is not None:
        assert 0 <= client_ms <= duration_ms + 1, record.timings
    if s3:
        assert isinstance(s3_ms, float), record.timings
        assert 0 <= s3_ms <= (duration_ms if client_ms is None else client_ms) + 1, record.timings
    else:
        assert s3_ms is None, record.timings


def test_a_complete_stream(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/docs/a.bin")
    assert (observed.status, observed.complete, observed.body == SMALL) == (200, True, True)
    (record,) = target.log.next_records()
    assert record.facts == expected(
        observed,
        key="docs/a.bin",
        status=200,
        outcome="complete",
        range=None,
        bytesPlanned=len(SMALL),
        bytesSent=len(SMALL),
    )
    assert_times(record)
    assert record.timings["clientFirstByteMs"] is not None


def test_a_ranged_answer(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/docs/a.bin", ("Range", "bytes=100-1099"))
    assert (observed.status, observed.body) == (206, SMALL[100:1100])
    (record,) = target.log.next_records()
    assert record.facts == expected(
        observed,
        key="docs/a.bin",
        status=206,
        outcome="complete",
        range=f"bytes 100-1099/{len(SMALL)}",
        bytesPlanned=1000,
        bytesSent=1000,
    )
    assert_times(record)


def test_a_revalidation_answered_304_is_complete(target: Target) -> None:
    target.log.skip()
    etag = get(target.url, "/docs/a.bin", ("Range", "bytes=0-0")).value("etag")
    assert etag is not None
    target.log.next_records()
    observed = get(target.url, "/docs/a.bin", ("If-None-Match", etag))
    assert (observed.status, observed.body) == (304, b"")
    (record,) = target.log.next_records()
    assert record.facts == expected(
        observed, key="docs/a.bin", status=304, outcome="complete", range=None, bytesPlanned=0, bytesSent=0
    )
    assert_times(record)


def test_a_head_answer_plans_and_sends_no_body(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/docs/a.bin", method="HEAD")
    assert (observed.status, observed.body) == (200, b"")
    (record,) = target.log.next_records()
    assert record.facts == expected(
        observed,
        method="HEAD",
        key="docs/a.bin",
        status=200,
        outcome="complete",
        range=None,
        bytesPlanned=0,
        bytesSent=0,
    )
    assert_times(record)  # S3 answered the HeadObject


def test_a_missing_key_is_rejected(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/no/such%20key")
    assert observed.status == 404
    (record,) = target.log.next_records()
    assert record.facts == expected(
        observed,
        key="no/such key",
        status=404,
        outcome="rejected",
        range=None,
        bytesPlanned=len(observed.body),
        bytesSent=len(observed.body),
    )
    assert_times(record)  # S3 answered the GetObject: 404


def test_a_request_for_a_bad_key_is_rejected_without_asking_s3(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/a/../b")
    assert observed.status == 400
    (record,) = target.log.next_records()
    assert record.facts == expected(
        observed,
        key="a/../b",
        status=400,
        outcome="rejected",
        range=None,
        bytesPlanned=len(observed.body),
        bytesSent=len(observed.body),
    )
    assert_times(record, s3=False)


@pytest.mark.parametrize("door", ["uvicorn"], indirect=True)  # Lambda tells a runtime nothing of a client leaving
def test_a_client_that_leaves_mid_stream(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/large.bin", leave_early=True)
    (record,) = target.log.next_records()
    sent = record.facts.pop("bytesSent")
    assert 0 < sent < LARGE_SIZE
    record.facts.pop("requestId")
    facts = expected(observed, key="large.bin", status=200, outcome="client_aborted", range=None)
    facts.pop("requestId")
    assert record.facts == {**facts, "bytesPlanned": LARGE_SIZE}
    assert_times(record)


def test_an_s3_body_that_breaks_mid_stream(target: Target, moto_relay: Relay) -> None:
    target.log.skip()
    moto_relay.fault = CutAfter(limit=2 * MiB)
    observed = get(target.url, "/eight.bin")
    assert (observed.status, observed.complete) == (200, False)
    assert 0 < len(observed.body) < 8 * MiB
    (record,) = target.log.next_records()
    cause = record.facts.pop("cause")
    assert cause.startswith("StreamBroken: "), cause
    assert record.facts == expected(
        observed,
        level="WARNING",
        key="eight.bin",
        status=200,
        outcome="upstream_failed",
        range=None,
        bytesPlanned=8 * MiB,
        bytesSent=len(observed.body),
    )
    assert_times(record)


@pytest.fixture(scope="module")
def resuming(
    door: str, log_format: LogFormat, bucket: str, moto_relay: Relay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """Like ``target``, but resuming a broken S3 body twice (``S3_PROXY_RESUME_ATTEMPTS`` 2)."""
    log = LogFile(tmp_path_factory.mktemp("resuming") / "stderr.log", log_format)
    settings = Settings(
        bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", max_attempts=1, log_format=log_format
    )
    if door == "uvicorn":
        with serve_command(settings, log.path) as (url, _):
            yield Target(url, log, door)
        return
    with serve_function_url(settings, runtime_output=log.path) as url:
        yield Target(url, log, door)


def test_a_resumed_stream_counts_its_resumes(resuming: Target, moto_relay: Relay) -> None:
    resuming.log.skip()
    moto_relay.queued = [CutAfter(limit=2 * MiB), CutAfter(limit=2 * MiB)]
    try:
        observed = get(resuming.url, "/eight.bin")
    finally:
        moto_relay.queued = []
    assert (observed.status, observed.complete, observed.body == EIGHT) == (200, True, True)
    (record,) = resuming.log.next_records()
    assert record.facts == expected(
        observed,
        key="eight.bin",
        status=200,
        outcome="complete",
        range=None,
        bytesPlanned=8 * MiB,
        bytesSent=8 * MiB,
        resumes=2,
    )
    assert_times(record)


# Through the local Function URL only: a download the deadline cuts short.


@pytest.fixture(scope="module")
def short_function(
    log_format: LogFormat, bucket: str, moto_relay: Relay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """The runtime behind the emulator with Lambda's limits and a TIMEOUT-second function."""
    log = LogFile(tmp_path_factory.mktemp("deadline") / "runtime.log", log_format)
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", log_format=log_format)
    with serve_function_url(settings, timeout=TIMEOUT, limits=PlatformLimits(), runtime_output=log.path) as url:
        yield Target(url, log, "function-url")


@pytest.mark.lambda_door
@pytest.mark.parametrize("cause", ["too large to drain", "stalled S3"])
def test_a_stream_cut_at_the_lambda_deadline(short_function: Target, moto_relay: Relay, cause: str) -> None:
    if cause == "stalled S3":
        moto_relay.fault = StallAfter(limit=8 * MiB)
    short_function.log.skip()
    observed = get(short_function.url, "/large.bin")
    assert (observed.status, observed.complete) == (200, False)
    assert 0 < len(observed.body) < LARGE_SIZE
    assert observed.body == LARGE[: len(observed.body)]
    (record,) = short_function.log.next_records()
    reason = record.facts.pop("cause")
    if cause == "stalled S3":  # the bridge cancelled the app, which waited for S3
        assert reason == "CancelledError"
    else:  # the bridge refused the body bytes that could not drain in time
        assert reason.startswith("DeadlineExceeded: the body was cut after "), reason
    assert record.facts == expected(
        observed,
        level="WARNING",
        key="large.bin",
        status=200,
        outcome="deadline_cut",
        range=None,
        bytesPlanned=LARGE_SIZE,
        bytesSent=len(observed.body),
    )
    assert_times(record)
    duration = record.timings["durationMs"]
    assert duration is not None
    assert duration < (TIMEOUT - Settings.lambda_deadline_margin / 2) * 1000


# A client's own X-Request-Id: ignored unless S3_PROXY_TRUST_REQUEST_ID is on, then taken if safe.


def test_a_client_request_id_is_ignored_by_default(target: Target) -> None:
    target.log.skip()
    observed = get(target.url, "/docs/a.bin", ("Range", "bytes=0-0"), ("X-Request-Id", "from-the-client"))
    (record,) = target.log.next_records()
    assert observed.value("x-request-id") == record.facts["requestId"] != "from-the-client"


@pytest.fixture(scope="module")
def trusting_proxy(bucket: str, moto_relay: Relay) -> Iterator[str]:
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", trust_request_id=True)
    with serve_proxy(settings) as url:
        yield url


@pytest.mark.parametrize(
    ("sent", "taken"),
    [
        (("req-42.a:b/c+d=e~f_g",), True),
        (("7" * 128,), True),
        (("7" * 129,), False),  # too long
        (('a"b',), False),  # a quote could end the field it is logged in
        (("a b",), False),
        (("a;b",), False),
        (("",), False),
        (("one", "two"), False),  # which one?
    ],
)
def test_a_trusted_client_request_id_is_taken_only_when_safe(
    trusting_proxy: str, sent: tuple[str, ...], taken: bool, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [("Range", "bytes=0-0"), *(("X-Request-Id", value) for value in sent)]
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        response = httpx.get(f"{trusting_proxy}/docs/a.bin", headers=headers)
        deadline = time.monotonic() + 10
        while not (found := [r for r in caplog.records if r.name == ACCESS_LOGGER]):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    (record,) = found
    rid = response.headers["x-request-id"]
    assert record.__dict__["requestId"] == rid
    if taken:
        assert rid == sent[0]
    else:
        assert re.fullmatch(r"[0-9a-f]{16}", rid), rid


@pytest.mark.parametrize("log_format", ["json"], indirect=True)
def test_every_line_either_process_writes_is_a_json_record(target: Target) -> None:
    """serve's own records (uvicorn's included) and the Lambda runtime's: nothing but JSON
    records reaches stderr (and, for the runtime, stdout, which goes to the same file)."""
    get(target.url, "/docs/a.bin", ("Range", "bytes=0-0"))
    target.log.next_records()
    lines = target.log.text().splitlines()
    documents = [json.loads(line) for line in lines]  # records() checks each one's keys too
    assert len(records(target.log.text(), "json")) >= 1
    loggers = {document["logger"] for document in documents}
    if target.door == "uvicorn":
        assert "uvicorn.error" in loggers, loggers
        assert not any("color_message" in document for document in documents)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_stream_cut_at_serves_shutdown_timeout(
    bucket: str, moto_relay: Relay, log_format: LogFormat, tmp_path: Path
) -> None:
    moto_relay.fault = Throttle(bytes_per_second=2 * MiB)
    log = LogFile(tmp_path / "stderr.log", log_format)
    settings = Settings(
        bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", shutdown_timeout=1.0, log_format=log_format
    )
    with serve_command(settings, log.path) as (url, process):
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            download = pool.submit(get, url, "/eight.bin")
            moto_relay.wait_until(lambda r: r.downstream_bytes > MiB)
            process.send_signal(signal.SIGTERM)  # once: a second one makes uvicorn exit at once
            observed = download.result(timeout=30)
        process.wait(timeout=20)  # uvicorn ends by raising the signal again, after its shutdown
    assert (observed.status, observed.complete) == (200, False)
    (record,) = log.next_records()
    assert record.facts.pop("cause") == "CancelledError: Task cancelled, timeout graceful shutdown exceeded"
    assert record.facts == expected(
        observed,
        level="WARNING",
        key="eight.bin",
        status=200,
        outcome="deadline_cut",
        range=None,
        bytesPlanned=8 * MiB,
        bytesSent=len(observed.body),
    )
    assert_times(record)
