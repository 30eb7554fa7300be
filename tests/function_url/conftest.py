"""Fixtures: the oracle scripts on disk, AWS's runtime clients as child commands, and a
helper that runs the emulator for one test."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from s3proxy_dev.function_url import EmulatorConfig, FunctionIdentity, FunctionUrlEmulator, PlatformLimits
from tests.oracles.cases import write_scripts

REPO = Path(__file__).resolve().parents[2]
ORACLES = REPO / "tests" / "oracles"
NODE_RIC = REPO / "node_modules" / "aws-lambda-ric" / "index.mjs"
START_DEADLINE = 20.0
"""Seconds a runtime may take to reach ``/next``."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def oracle_scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JSON file of all oracle scripts (``ORACLE_CASES`` for the handlers)."""
    return write_scripts(tmp_path_factory.mktemp("oracles"))


@pytest.fixture
def gate_dir(tmp_path: Path) -> Path:
    """Where a test opens the gates of gated cases (``ORACLE_GATE_DIR``)."""
    gates = tmp_path / "gates"
    gates.mkdir()
    return gates


@pytest.fixture(scope="session")
def node_ric_command() -> tuple[str, ...]:
    """``node node_modules/aws-lambda-ric/index.mjs handler.handler``; fails if not installed."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; the Node.js runtime client conformance tests need Node.js 20+")
    if not NODE_RIC.is_file():
        pytest.fail(f"{NODE_RIC} is missing: run `npm ci` in {REPO} to install aws-lambda-ric")
    return (node, str(NODE_RIC), "handler.handler")


@pytest.fixture(scope="session")
def python_ric_command() -> tuple[str, ...]:
    """``python -m awslambdaric handler.handler``; fails if awslambdaric is not installed."""
    try:
        import awslambdaric  # noqa: F401
    except ImportError:
        pytest.fail("awslambdaric is missing: install the dev extra (pip install -e '.[dev]')")
    return (sys.executable, "-m", "awslambdaric", "handler.handler")


@dataclasses.dataclass(frozen=True)
class OracleRuntime:
    """How to start one of AWS's runtime clients on the oracle handlers."""

    command: tuple[str, ...]
    task_root: Path
    env: tuple[tuple[str, str], ...]

    def config(self, **overrides: object) -> EmulatorConfig:
        """An emulator config on a free port running this client; ``overrides`` replace fields."""
        fields: dict[str, object] = {
            "port": 0,
            "timeout": 30.0,
            "limits": None,
            "command": self.command,
            "task_root": str(self.task_root),
            "function": FunctionIdentity(handler="handler.handler"),
            "extra_env": self.env,
        }
        fields.update(overrides)
        return EmulatorConfig(**fields)  # type: ignore[arg-type]


@pytest.fixture
def node_runtime(node_ric_command: tuple[str, ...], oracle_scripts: Path, gate_dir: Path) -> OracleRuntime:
    """AWS's Node.js runtime client playing ``tests/oracles/node/handler.mjs``."""
    env = (("ORACLE_CASES", str(oracle_scripts)), ("ORACLE_GATE_DIR", str(gate_dir)))
    return OracleRuntime(node_ric_command, ORACLES / "node", env)


@pytest.fixture
def python_runtime(python_ric_command: tuple[str, ...], oracle_scripts: Path) -> OracleRuntime:
    """AWS's Python runtime interface client playing ``tests/oracles/python/handler.py``."""
    return OracleRuntime(python_ric_command, ORACLES / "python", (("ORACLE_CASES", str(oracle_scripts)),))


@contextlib.asynccontextmanager
async def running(config: EmulatorConfig) -> AsyncIterator[FunctionUrlEmulator]:
    """Run the emulator for the duration of the block; fail if the runtime cannot init."""
    async with FunctionUrlEmulator(config) as emulator:
        async with asyncio.timeout(START_DEADLINE):
            failure = await emulator.wait_ready()
        assert failure is None, f"runtime init failed: {failure}"
        yield emulator


def small_limits(**overrides: int) -> PlatformLimits:
    """Platform limits scaled down so tests feel them in well under a second."""
    return dataclasses.replace(PlatformLimits(), **overrides)  # type: ignore[arg-type]
