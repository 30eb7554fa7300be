"""Serve the demo through the Lambda path: our Lambda runtime behind the local Function URL emulator.

The runtime (``python -m service lambda``) is the emulator's child process and, as on AWS
Lambda, reads its configuration from environment variables: the bucket, the embedded S3's
endpoint URL, the region and the credentials the demo uses.  One runtime serves one
invocation at a time, as one Lambda execution environment does.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from s3proxy_dev.demo.embedded_s3 import DUMMY_CREDENTIALS
from s3proxy_dev.demo.errors import ServeError
from s3proxy_dev.demo.signals import stop_signals_set
from s3proxy_dev.function_url.config import EmulatorConfig, FunctionIdentity, PlatformLimits
from s3proxy_dev.function_url.emulator import FunctionUrlEmulator
from s3proxy_dev.function_url.process import RuntimeStartError
from service.settings import Settings


@dataclass(frozen=True)
class LambdaPath:
    """Serve through the Lambda path rather than uvicorn.

    ``limits`` are Lambda's platform limits as the emulator applies them to each response
    (by default: 6 MiB at full speed, then 2 MiB/s, at most 200 MiB streamed; see
    :class:`~s3proxy_dev.function_url.config.PlatformLimits`), or ``None`` to lift them.
    """

    limits: PlatformLimits | None = field(default_factory=PlatformLimits)
    concurrency: int = 1
    """Invocations the runtime serves at once (``AWS_LAMBDA_MAX_CONCURRENCY``, Managed Instances)."""


def serve_lambda_path(host: str, port: int, settings: Settings, banner: str, path: LambdaPath) -> None:
    """Serve ``settings``' bucket on ``host``:``port`` through the Lambda path until SIGINT or SIGTERM.

    Prints ``banner`` once the runtime is waiting for invocations.  On either signal the
    emulator stops listening and ends its runtime child (SIGTERM, then SIGKILL after 3 s)
    before this returns.  Must run in the main thread, which receives the signals.

    Raises:
        ServeError: the address cannot be bound, or the runtime cannot start or fails its init.
    """
    asyncio.run(_serve(emulator_config(host, port, settings, path), banner))


def emulator_config(host: str, port: int, settings: Settings, path: LambdaPath) -> EmulatorConfig:
    """The Function URL emulator's configuration: the runtime child configured from ``settings``."""
    # The emulator sets the child's AWS_REGION from the function's identity, as Lambda does.
    function = FunctionIdentity(region=settings.region) if settings.region else FunctionIdentity()
    return EmulatorConfig(
        host=host,
        port=port,
        limits=path.limits,
        concurrency=path.concurrency,
        function=function,
        extra_env=tuple(runtime_environment(settings).items()),
    )


def runtime_environment(settings: Settings) -> dict[str, str]:
    """The variables that configure the runtime: ``settings`` and the demo's S3 credentials."""
    credentials = {name: os.environ[name] for name in DUMMY_CREDENTIALS if name in os.environ}
    return settings.to_env() | credentials


async def _serve(config: EmulatorConfig, banner: str) -> None:
    stop = asyncio.Event()
    with stop_signals_set(stop):
        await _run_emulator(config, banner, stop)


async def _run_emulator(config: EmulatorConfig, banner: str, stop: asyncio.Event) -> None:
    emulator = FunctionUrlEmulator(config)
    try:
        await emulator.start()
    except (RuntimeStartError, OSError) as exc:
        raise ServeError(str(exc)) from None
    try:
        if await _runtime_ready(emulator, stop):
            print(banner, flush=True)
            await stop.wait()
    finally:
        await emulator.close()


async def _runtime_ready(emulator: FunctionUrlEmulator, stop: asyncio.Event) -> bool:
    """Wait until the runtime polls for invocations (True) or a stop signal comes (False).

    Raises:
        ServeError: the runtime failed its init (e.g. a malformed setting).
    """
    ready = asyncio.ensure_future(emulator.wait_ready())
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([ready, stopping], return_when=asyncio.FIRST_COMPLETED)
    for waiter in (ready, stopping):
        waiter.cancel()
    if ready not in done:
        return False
    failure = ready.result()
    if failure is not None:
        raise ServeError(f"the Lambda runtime failed to start: {failure.error_type}: {failure.message}")
    return True
