"""The ``function-url`` command as a real subprocess: start, serve, stop on SIGINT, bad input."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.function_url.client import assert_matches, fetch
from tests.function_url.conftest import ORACLES, REPO
from tests.oracles.cases import CASES

pytestmark = pytest.mark.anyio

DEADLINE = 30.0
EMULATOR = (sys.executable, "-m", "s3proxy_dev.function_url")


async def _start(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *EMULATOR, *args, cwd=REPO, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def _wait_for_line(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"output ended before {pattern!r}: {seen}")
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match


async def test_command_serves_until_sigint(python_ric_command: tuple[str, ...], oracle_scripts: Path) -> None:
    env = {**os.environ, "ORACLE_CASES": str(oracle_scripts)}
    args = ("--port", "0", "--invoke-mode", "BUFFERED", "--task-root", str(ORACLES / "python"))
    process = await _start(*args, "--command", " ".join(python_ric_command), env=env)
    assert process.stderr is not None
    seen: list[str] = []
    case = next(case for case in CASES if case.name == "cookies")
    try:
        async with asyncio.timeout(DEADLINE):
            url = (await _wait_for_line(process.stderr, r"listening on (http://\S+)", seen))[1]
            await _wait_for_line(process.stderr, r"Runtime ready", seen)
            observed = await fetch(url, case.request)
            process.send_signal(signal.SIGINT)
            drain = asyncio.create_task(process.stderr.read())
            status = await process.wait()
            await drain
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert_matches(observed, case.expected)
    assert status == 0


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("--timeout", "0"), 2, "argument --timeout: must be more than 0"),
        (("--timeout", "soon"), 2, "expected seconds, got 'soon'"),
        (("--port", "70000"), 2, "expected a TCP port"),
        (("--command", ""), 2, "the command is empty"),
        (("--header-timeout", "0"), 2, "argument --header-timeout: expected a positive number of seconds"),
        (("--idle-timeout", "soon"), 2, "argument --idle-timeout: expected seconds, got 'soon'"),
        (("--max-connections", "0"), 2, "argument --max-connections: expected a positive integer"),
        (("--port", "0", "--command", "/nonexistent/runtime"), 1, "cannot start runtime '/nonexistent/runtime'"),
    ],
)
async def test_bad_input_is_a_readable_error(args: tuple[str, ...], status: int, message: str) -> None:
    process = await _start(*args)
    async with asyncio.timeout(DEADLINE):
        _, stderr = await process.communicate()
    assert process.returncode == status
    assert message in stderr.decode()
    assert "Traceback" not in stderr.decode()
