"""AWS's runtime clients in their Lambda Managed Instances mode (``AWS_LAMBDA_MAX_CONCURRENCY``)
against the emulator's ``concurrency``: both hold several invocations at once, as ours does.

awslambdaric 4 forks that many worker processes, each polling ``/next``; aws-lambda-ric 4 runs
its handlers concurrently in one process.  A handler that waits one second before answering is
asked four times at once: with four invocations at a time the four answers come in about one
second, where one at a time would need four.  A request beyond the concurrency waits for a
worker to come free.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from s3proxy_dev.function_url.concurrent import ConcurrentEnvironment
from tests.function_url.client import Observed, fetch
from tests.function_url.conftest import ORACLES, OracleRuntime, running
from tests.oracles.cases import FunctionScript, OracleRequest

pytestmark = pytest.mark.anyio

HELD = FunctionScript(headers={"Content-Type": "text/plain"}, chunks=(b"held",), hold_before_ms=1000)
AT_ONCE = 4


@pytest.fixture
def held_scripts(oracle_scripts: Path, tmp_path: Path) -> Path:
    """The oracle scripts plus ``held``, which answers after one second."""
    scripts = json.loads(oracle_scripts.read_text())
    scripts["held"] = HELD.to_json()
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(scripts))
    return path


async def _four_at_once(runtime: OracleRuntime, invoke_mode: str) -> tuple[float, list[Observed]]:
    config = runtime.config(invoke_mode=invoke_mode, concurrency=AT_ONCE)
    async with running(config) as emulator:
        loop = asyncio.get_running_loop()
        started = loop.time()
        request = OracleRequest(target="/case/held")
        observed = await asyncio.gather(*(fetch(emulator.url, request) for _ in range(AT_ONCE)))
        return loop.time() - started, list(observed)


def _check(elapsed: float, observed: list[Observed]) -> None:
    assert [(answer.status, answer.body) for answer in observed] == [(200, b"held")] * AT_ONCE
    assert elapsed < 2.5, f"{AT_ONCE} held invocations took {elapsed:.2f} s: they ran one after another"


async def test_python_client_serves_four_invocations_at_once(
    python_ric_command: tuple[str, ...], held_scripts: Path
) -> None:
    runtime = OracleRuntime(python_ric_command, ORACLES / "python", (("ORACLE_CASES", str(held_scripts)),))
    _check(*await _four_at_once(runtime, "BUFFERED"))


async def test_node_client_serves_four_invocations_at_once(
    node_ric_command: tuple[str, ...], held_scripts: Path, gate_dir: Path
) -> None:
    env = (("ORACLE_CASES", str(held_scripts)), ("ORACLE_GATE_DIR", str(gate_dir)))
    runtime = OracleRuntime(node_ric_command, ORACLES / "node", env)
    _check(*await _four_at_once(runtime, "RESPONSE_STREAM"))


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_request_beyond_the_concurrency_waits_for_a_free_worker(
    node_ric_command: tuple[str, ...], oracle_scripts: Path, gate_dir: Path
) -> None:
    # Lambda would place it in another environment, or throttle it with 429 when Managed
    # Instances are saturated (lambda-managed-instances-scaling.html, -troubleshooting.html);
    # the emulator's fixed pool holds it until a worker is free, and never refuses it.
    env = (("ORACLE_CASES", str(oracle_scripts)), ("ORACLE_GATE_DIR", str(gate_dir)))
    runtime = OracleRuntime(node_ric_command, ORACLES / "node", env)
    async with running(runtime.config(invoke_mode="RESPONSE_STREAM", concurrency=2)) as emulator:
        (environment,) = emulator.environments
        assert isinstance(environment, ConcurrentEnvironment)
        request = OracleRequest(target="/case/gated")
        answers = [asyncio.create_task(fetch(emulator.url, request)) for _ in range(3)]
        await _until(lambda: len(environment.running) == 2 and environment.waiting == 1)
        assert not any(answer.done() for answer in answers)
        (gate_dir / "gated").touch()
        observed = await asyncio.gather(*answers)
    assert [(answer.status, answer.body) for answer in observed] == [(200, b"first,second")] * 3
