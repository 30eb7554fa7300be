"""Platform limits and runtime failures, felt through AWS's Node.js runtime client.

Limits are scaled down (KiB instead of MiB, a one-second timeout) so each test stays fast.
"""

from __future__ import annotations

import time

import pytest

from tests.function_url.client import assert_matches, fetch
from tests.function_url.conftest import OracleRuntime, running, small_limits
from tests.oracles.cases import CASES, LIMIT_CASES, OracleCase, OracleRequest

pytestmark = pytest.mark.anyio

KIB = 1024


def _case(name: str) -> OracleCase:
    return next(case for case in (*CASES, *LIMIT_CASES) if case.name == name)


async def test_response_over_the_size_limit_is_cut(node_runtime: OracleRuntime) -> None:
    large = _case("large")
    limits = small_limits(max_streamed_bytes=100 * KIB)
    async with running(node_runtime.config(limits=limits)) as emulator:
        observed = await fetch(emulator.url, large.request)
        after = await fetch(emulator.url, _case("success").request)
    assert (observed.status, observed.complete) == (200, False)
    assert len(observed.body) <= 100 * KIB
    assert large.expected.body.startswith(observed.body)
    assert_matches(after, _case("success").expected)


async def test_bandwidth_is_capped_after_the_burst(node_runtime: OracleRuntime) -> None:
    large = _case("large")  # 320 KiB: 64 KiB burst, then 256 KiB at 256 KiB/s take >= 1 s
    limits = small_limits(burst_bytes=64 * KIB, rate_bytes_per_second=256 * KIB)
    async with running(node_runtime.config(limits=limits)) as emulator:
        started = time.monotonic()
        observed = await fetch(emulator.url, large.request)
        elapsed = time.monotonic() - started
    assert_matches(observed, large.expected)
    assert elapsed >= 0.9


async def test_timeout_cuts_a_started_stream_and_the_runtime_is_replaced(node_runtime: OracleRuntime) -> None:
    slow = _case("slow")
    async with running(node_runtime.config(limits=small_limits(), timeout=1.0)) as emulator:
        started = time.monotonic()
        observed = await fetch(emulator.url, slow.request)
        elapsed = time.monotonic() - started
        after = await fetch(emulator.url, _case("success").request)
    assert_matches(observed, slow.expected)
    assert elapsed >= 0.9
    assert_matches(after, _case("success").expected)


async def test_timeout_before_any_byte_gives_502(node_runtime: OracleRuntime) -> None:
    case = _case("slow-start")
    async with running(node_runtime.config(limits=small_limits(), timeout=1.0)) as emulator:
        observed = await fetch(emulator.url, case.request)
    assert_matches(observed, case.expected)


async def test_runtime_exit_mid_stream_cuts_the_response_and_a_new_runtime_serves_the_next(
    node_runtime: OracleRuntime,
) -> None:
    crash = _case("crash")
    async with running(node_runtime.config()) as emulator:
        observed = await fetch(emulator.url, crash.request)
        after = await fetch(emulator.url, _case("success").request)
    assert_matches(observed, crash.expected)
    assert_matches(after, _case("success").expected)


async def test_request_over_the_event_limit_is_413(node_runtime: OracleRuntime) -> None:
    request = OracleRequest(method="POST", target="/case/echo", body=b"x" * (2 * KIB))
    async with running(node_runtime.config(limits=small_limits(max_request_bytes=KIB))) as emulator:
        observed = await fetch(emulator.url, request)
    assert (observed.status, observed.complete) == (413, True)
