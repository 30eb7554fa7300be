"""Conformance with AWS's Node.js runtime client (npm aws-lambda-ric 4.0.2).

Each streaming oracle case runs ``awslambda.streamifyResponse`` handlers under the real client
against the emulator; the client must see exactly what the handler meant.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.function_url.client import FirstChunkHook, Observed, assert_matches, fetch
from tests.function_url.conftest import OracleRuntime, running
from tests.oracles.cases import OracleCase, cases_for

pytestmark = pytest.mark.anyio

STREAMING_CASES = cases_for("streaming")


def _gate_opener(gate_dir: Path, case: OracleCase, seen: list[bytes]) -> FirstChunkHook | None:
    async def open_gate(first: bytes) -> None:
        seen.append(first)
        (gate_dir / case.name).touch()

    return open_gate if case.script.gate else None


@pytest.mark.parametrize("case", STREAMING_CASES, ids=[case.name for case in STREAMING_CASES])
async def test_node_client_streams_each_case_as_meant(
    case: OracleCase, node_runtime: OracleRuntime, gate_dir: Path
) -> None:
    seen: list[bytes] = []
    async with running(node_runtime.config()) as emulator:
        observed = await fetch(emulator.url, case.request, _gate_opener(gate_dir, case, seen))
    assert_matches(observed, case.expected)
    if case.script.gate:
        # The handler was still waiting at its gate when this chunk arrived: it was flushed.
        assert seen == [case.script.chunks[0]]


async def test_streamed_responses_are_chunked_and_clean_ends_keep_the_connection(
    node_runtime: OracleRuntime,
) -> None:
    case = next(case for case in STREAMING_CASES if case.name == "success")
    async with running(node_runtime.config()) as emulator:
        first = await fetch(emulator.url, case.request)
        second = await fetch(emulator.url, case.request)
    assert first.chunked and second.chunked
    assert first.value("x-amzn-requestid") != second.value("x-amzn-requestid")
    assert_matches(second, case.expected)


async def test_two_runtime_processes_serve_two_requests_at_once(node_runtime: OracleRuntime, gate_dir: Path) -> None:
    case = next(case for case in STREAMING_CASES if case.name == "gated")
    both_started = asyncio.Event()
    firsts: list[bytes] = []

    async def hold_until_both(first: bytes) -> None:
        firsts.append(first)
        if len(firsts) == 2:
            (gate_dir / case.name).touch()
            both_started.set()
        await both_started.wait()

    async with running(node_runtime.config(pool_size=2)) as emulator:
        results: list[Observed] = await asyncio.gather(
            fetch(emulator.url, case.request, hold_until_both), fetch(emulator.url, case.request, hold_until_both)
        )
    # Each handler held its gate until both first chunks had arrived: two invocations ran at once.
    assert firsts == [b"first,", b"first,"]
    for observed in results:
        assert_matches(observed, case.expected)
