"""SnapStart's restore phase through the local Function URL (``snap_start``): the runtime, started
with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, finishes its init, waits at
``/runtime/restore/next``, then starts the app again (a fresh S3 client and pool) before its
first ``/next``; the emulator times both phases as Lambda reports them (Init and Restore Duration).
A restore that fails is reported to ``/runtime/restore/error`` and fails the invocation that
caused it, as Lambda answers such an invoke with ``SnapStartException`` ("The afterRestore()
runtime hook encountered an error": the Lambda API's exception, botocore reference
services/lambda/client/exceptions/SnapStartException.html).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

from s3proxy_dev.function_url.config import EmulatorConfig
from s3proxy_dev.function_url.emulator import FunctionUrlEmulator
from s3proxy_dev.function_url.outcome import InvocationFailure
from service.lambda_bridge.snapstart import AFTER_RESTORE_ERROR
from service.settings import Settings
from tests.support.failing_restore import RESTORE_FAILURE
from tests.support.relay import Relay


async def _serve_once(config: EmulatorConfig) -> tuple[float | None, float | None, int, bytes]:
    async with FunctionUrlEmulator(config) as emulator:
        async with asyncio.timeout(30):
            assert await emulator.wait_ready() is None
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.get(f"{emulator.url}/hello.txt")
        environment = emulator.environments[0]
        return environment.init_seconds, environment.restore_seconds, answer.status_code, answer.content


def _bridge_messages(log: Path) -> list[str]:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    return [str(record["message"]) for record in records if record.get("logger") == "service.lambda_bridge"]


def test_the_runtime_restarts_its_app_after_a_restore(s3: object, bucket: str, relay: Relay, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello after restore")  # type: ignore[attr-defined]
    log = tmp_path / "runtime.log"
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1")
    config = EmulatorConfig(
        port=0, limits=None, snap_start=True, extra_env=tuple(settings.to_env().items()), runtime_output=str(log)
    )
    init, restore, status, body = asyncio.run(_serve_once(config))
    assert (status, body) == (200, b"hello after restore")
    assert init is not None and restore is not None
    assert restore < init  # the restart rebuilds the S3 client only; the init imported everything
    assert any(message.startswith("restored from a SnapStart snapshot") for message in _bridge_messages(log))


def test_without_snapstart_there_is_no_restore_phase(s3: object, bucket: str, relay: Relay, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"plain")  # type: ignore[attr-defined]
    log = tmp_path / "runtime.log"
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1")
    config = EmulatorConfig(port=0, limits=None, extra_env=tuple(settings.to_env().items()), runtime_output=str(log))
    init, restore, status, body = asyncio.run(_serve_once(config))
    assert (init, restore, status, body) == (None, None, 200, b"plain")
    assert not any("SnapStart" in message for message in _bridge_messages(log))


async def _fail_restores(config: EmulatorConfig) -> tuple[InvocationFailure | None, list[int]]:
    async with FunctionUrlEmulator(config) as emulator:
        async with asyncio.timeout(30):
            failure = await emulator.wait_ready()
        async with httpx.AsyncClient(timeout=30) as client:
            statuses = [(await client.get(f"{emulator.url}/hello.txt")).status_code for _ in range(2)]
        return failure, statuses


def test_a_failed_restore_is_reported_and_fails_the_invocation_that_caused_it(tmp_path: Path) -> None:
    log = tmp_path / "runtime.log"
    command = (sys.executable, "-m", "tests.support.failing_restore")
    config = EmulatorConfig(port=0, limits=None, snap_start=True, command=command, runtime_output=str(log))
    failure, statuses = asyncio.run(_fail_restores(config))
    assert failure is not None
    assert failure.error_type == AFTER_RESTORE_ERROR
    assert RESTORE_FAILURE in failure.message
    # Each request starts a new environment, whose restore fails again: the client gets 502.
    assert statuses == [502, 502]
    restarts = [message for message in _bridge_messages(log) if message.startswith("the start after a SnapStart")]
    assert len(restarts) == 3  # the environment started with the emulator, then one per request
