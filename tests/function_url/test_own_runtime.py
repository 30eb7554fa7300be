"""Our own runtime (``service.lambda_bridge``) against AWS's Node.js client, case by case.

Both play the same oracle script through the emulator; the client must see the same status,
header fields, cookies, body, framing and ending from both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.function_url.client import FirstChunkHook, Observed, assert_matches, fetch
from tests.function_url.conftest import ORACLES, OracleRuntime, running
from tests.oracles.cases import OracleCase, cases_for

pytestmark = pytest.mark.anyio

# Left out on purpose: "echo" reads Lambda event fields an ASGI app never sees as such, and
# "error-before-body" differs by design: our runtime answers an exception raised before the
# response starts with a 500 of its own (reference page §4.1) where Node's client reports an
# error that the Function URL turns into 502.
COMPARED = [case for case in cases_for("streaming") if case.name not in {"echo", "error-before-body"}]
PLATFORM_FIELDS = {"x-amzn-requestid", "x-amzn-trace-id"}


def _outcome(observed: Observed) -> tuple[object, ...]:
    fields = sorted((name, value) for name, value in observed.headers if name not in PLATFORM_FIELDS)
    return observed.status, fields, observed.body, observed.complete, observed.chunked


def _gate(gate_dir: Path, case: OracleCase) -> FirstChunkHook | None:
    async def open_gate(first: bytes) -> None:
        (gate_dir / case.name).touch()

    return open_gate if case.script.gate else None


@pytest.fixture
def own_runtime(node_runtime: OracleRuntime) -> OracleRuntime:
    """Our runtime serving ``tests/oracles/python/asgi_app.py``."""
    command = (sys.executable, str(ORACLES / "python" / "bridge_runtime.py"))
    return OracleRuntime(command, ORACLES / "python", node_runtime.env)


async def _observe_all(runtime: OracleRuntime, gate_dir: Path) -> dict[str, Observed]:
    # One emulator per runtime for all cases keeps the test fast; "crash" restarts the runtime.
    async with running(runtime.config()) as emulator:
        return {case.name: await fetch(emulator.url, case.request, _gate(gate_dir, case)) for case in COMPARED}


async def test_our_runtime_gives_the_client_what_the_node_client_does(
    node_runtime: OracleRuntime, own_runtime: OracleRuntime, gate_dir: Path
) -> None:
    node = await _observe_all(node_runtime, gate_dir)
    for gate in gate_dir.iterdir():
        gate.unlink()
    ours = await _observe_all(own_runtime, gate_dir)
    for case in COMPARED:
        assert_matches(ours[case.name], case.expected)
        assert _outcome(ours[case.name]) == _outcome(node[case.name]), case.name
