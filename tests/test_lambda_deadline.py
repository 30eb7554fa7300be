"""Over-long Lambda streams end with error trailers before the deadline, and the runtime lives on.

Through the local Function URL emulator with Lambda's limits on (6 MiB burst, then 2 MiB/s)
and a function timeout of a few seconds, our runtime serves objects from moto through a
fault-injecting relay.  A download too large to drain in time, and a body that stops
arriving (a stalled S3), must both end with ``Function.DeadlineExceeded`` trailers while the
invocation still runs: the client sees an aborted response (never a clean, short 200), the
invocation is not ended by ``Sandbox.Timeout``, the same runtime process serves the next
request at once, without a cold start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Iterator

import pytest

from s3proxy_dev.function_url.config import PlatformLimits
from service.settings import Settings
from tests.function_url.client import Observed, fetch
from tests.oracles.cases import OracleRequest
from tests.support.backends import Backend, seed_bucket
from tests.support.relay import Relay, StallAfter, relay_to
from tests.support.servers import serve_function_url

MiB = 1024 * 1024
TIMEOUT = 3.0
"""The function timeout, seconds: the deadline is this long after the runtime takes the invocation."""
MARGIN = Settings.lambda_deadline_margin
"""The runtime's safety margin before the deadline (the default, 1 s)."""
LARGE_SIZE = 32 * MiB
"""Far more than 6 MiB + 2 MiB/s x TIMEOUT can deliver."""
STALL_AFTER = 8 * MiB
"""Bytes S3 sends before its body stops arriving: past the uncapped burst, so some queue."""
PROMPT = 0.8
"""Seconds the next request may take; a cold start of the runtime takes about 1 s here."""
LARGE = os.urandom(MiB) * (LARGE_SIZE // MiB)
SMALL = b"small object\n"
EMULATOR_LOG = "s3proxy_dev.function_url"


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "deadline", {"small.txt": SMALL, "large.bin": LARGE})


@pytest.fixture
def relay(moto: Backend) -> Iterator[Relay]:
    with relay_to(moto.endpoint_url) as running:
        yield running


@pytest.fixture
def url(bucket: str, relay: Relay, caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    """The proxy behind the emulator with Lambda's limits and a TIMEOUT-second function; the
    runtime is warmed up (init done) before the test starts."""
    caplog.set_level(logging.INFO, logger=EMULATOR_LOG)
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1", read_timeout=30.0)
    with serve_function_url(settings, timeout=TIMEOUT, limits=PlatformLimits()) as base:
        assert _get(base, "/small.txt").body == SMALL
        yield base


def _get(base: str, target: str) -> Observed:
    return _timed_get(base, target)[0]


def _timed_get(base: str, target: str) -> tuple[Observed, float]:
    """What the client saw, and the seconds from sending the request until the response
    ended (clock read inside the event loop: tearing a loop down takes time of its own)."""

    async def exchange() -> tuple[Observed, float]:
        started = time.monotonic()
        observed = await fetch(base, OracleRequest(target=target))
        return observed, time.monotonic() - started

    return asyncio.run(exchange())


def _emulator_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The emulator's log lines since it started (setup included)."""
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    return [record.getMessage() for record in records if record.name == EMULATOR_LOG]


def _assert_cut_before_the_deadline(observed: Observed, elapsed: float, caplog: pytest.LogCaptureFixture) -> None:
    assert observed.status == 200
    assert not observed.complete, "a cut stream must never look complete"
    assert 0 < len(observed.body) < LARGE_SIZE
    assert LARGE.startswith(observed.body)
    # The deadline runs from when the runtime took the invocation, a little after the request
    # was sent, so TIMEOUT - elapsed is at most how early the trailers came.
    assert elapsed < TIMEOUT - MARGIN / 2, f"the cut came {TIMEOUT - elapsed:.2f} s before the deadline"
    lines = _emulator_lines(caplog)
    assert any("Failed: Function.DeadlineExceeded" in line for line in lines), lines
    assert not any("Sandbox.Timeout" in line or "Task timed out" in line for line in lines), lines


def _assert_same_runtime_serves_promptly(base: str, caplog: pytest.LogCaptureFixture) -> float:
    after, latency = _timed_get(base, "/small.txt")
    assert (after.status, after.body, after.complete) == (200, SMALL, True)
    assert latency < PROMPT, f"the next request took {latency:.2f} s"
    lines = _emulator_lines(caplog)
    pids = [match[1] for line in lines if (match := re.search(r"Runtime started \(pid (\d+)\)", line))]
    assert len(pids) == 1, f"the runtime was restarted: {lines}"
    assert not any("Runtime exited" in line for line in lines), lines
    return latency


def test_a_download_too_large_for_the_deadline_ends_with_trailers_before_it(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    observed, elapsed = _timed_get(url, "/large.bin")
    _assert_cut_before_the_deadline(observed, elapsed, caplog)
    latency = _assert_same_runtime_serves_promptly(url, caplog)
    print(f"large: {len(observed.body)} bytes, {TIMEOUT - elapsed:.2f} s before the deadline, next {latency:.3f} s")


def test_a_stalled_s3_body_ends_with_trailers_before_the_deadline(
    url: str, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    relay.fault = StallAfter(limit=STALL_AFTER)
    observed, elapsed = _timed_get(url, "/large.bin")
    relay.fault = None
    _assert_cut_before_the_deadline(observed, elapsed, caplog)
    assert len(observed.body) < STALL_AFTER
    relay.wait_until(lambda r: r.open_connections == 0, timeout=1)  # the stalled S3 connection is let go at the cut
    latency = _assert_same_runtime_serves_promptly(url, caplog)
    print(f"stalled: {len(observed.body)} bytes, {TIMEOUT - elapsed:.2f} s before the deadline, next {latency:.3f} s")
