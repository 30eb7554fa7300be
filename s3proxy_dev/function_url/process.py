"""Start, watch and restart the runtime process of one execution environment.

The child gets the environment variables Lambda gives a custom runtime (docs
runtimes-custom.html and configuration-envvars.html "reserved environment variables"),
with ``AWS_LAMBDA_RUNTIME_API`` pointing at this environment's own Runtime API listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import time

from s3proxy_dev.function_url.config import EmulatorConfig
from s3proxy_dev.function_url.environment import ExecutionEnvironment, State
from s3proxy_dev.function_url.invocation import InvocationQueue
from s3proxy_dev.function_url.outcome import InvocationFailure

log = logging.getLogger("s3proxy_dev.function_url")

STOP_GRACE = 3.0
"""Seconds a runtime gets to exit after SIGTERM before it is killed."""


class RuntimeStartError(Exception):
    """The runtime command could not be started; the message says which and why."""


def runtime_environment(config: EmulatorConfig, api_address: str) -> dict[str, str]:
    """Return the child's environment: ours, ``extra_env``, then Lambda's reserved variables."""
    function = config.function
    stream_name = f"{time.strftime('%Y/%m/%d')}/[{function.version}]{secrets.token_hex(16)}"
    env = dict(os.environ)
    env.update(config.extra_env)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "_HANDLER": function.handler,
            "LAMBDA_TASK_ROOT": config.task_root,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream_name,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start" if config.snap_start else "on-demand",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "TZ": ":UTC",
        }
    )
    if config.concurrency > 1:
        # Set on Lambda Managed Instances only (docs runtimes-api.html).
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(config.concurrency)
    return env


def describe_exit(returncode: int) -> str:
    """Word an exit status as Lambda logs it (``exit status 1``, ``signal: killed``)."""
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else "?"
        return "signal: killed" if name == "SIGKILL" else f"signal: {name}"
    return f"exit status {returncode}"


class RuntimeSupervisor:
    """Runs the runtime command for one :class:`ExecutionEnvironment`, restarting it on exit.

    After a failed init it waits for the next queued invocation before trying again, and fails
    that invocation if init fails again, as Lambda fails the invoke that caused the init.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        environment: ExecutionEnvironment,
        queue: InvocationQueue,
        api_address: str,
    ) -> None:
        self._config = config
        self._env = environment
        self._queue = queue
        self._api_address = api_address
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self.first_init_failure: asyncio.Future[InvocationFailure] = asyncio.get_running_loop().create_future()

    async def spawn(self) -> None:
        """Start the runtime command; raises :class:`RuntimeStartError` if it cannot run."""
        command = self._config.command
        with contextlib.ExitStack() as files:
            output = None
            if self._config.runtime_output is not None:
                output = files.enter_context(open(self._config.runtime_output, "ab"))
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *command,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    env=runtime_environment(self._config, self._api_address),
                    cwd=self._config.task_root,
                    start_new_session=True,
                )
            except OSError as exc:
                raise RuntimeStartError(f"cannot start runtime {command[0]!r}: {exc.strerror or exc}") from exc
        log.info("Runtime started (pid %d): %s", self._process.pid, " ".join(command))

    async def run(self) -> None:
        """Keep the runtime running until :meth:`stop`; the first process must be spawned."""
        while not self._stopping:
            if self._process is None and not await self._respawn():
                continue
            assert self._process is not None
            returncode = await self._process.wait()
            self._process = None
            if not self._stopping:
                await self._exited(returncode)

    async def _respawn(self) -> bool:
        try:
            await self.spawn()
        except RuntimeStartError as exc:
            log.error("%s", exc)
            await self._queue.fail_oldest(InvocationFailure("Runtime.InvalidEntrypoint", str(exc)))
            await self._queue.wait_for_work()
            return False
        return True

    async def _exited(self, returncode: int) -> None:
        in_init = self._env.state in (State.STARTED, State.INIT_ERROR)
        reason = f"Runtime exited with error: {describe_exit(returncode)}"
        failure = self._env.init_error or InvocationFailure("Runtime.ExitError", reason)
        await self._env.process_exited(failure)
        if not in_init:
            log.warning("%s; starting a new runtime", reason)
            return
        log.error("Runtime failed to initialise (%s): %s: %s", reason, failure.error_type, failure.message)
        if not self.first_init_failure.done():
            self.first_init_failure.set_result(failure)
        await self._queue.fail_oldest(failure)
        await self._queue.wait_for_work()

    def kill(self) -> None:
        """Kill the runtime at once (SIGKILL), as Lambda ends a timed-out environment."""
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def stop(self) -> None:
        """Stop supervising; SIGTERM the runtime, then SIGKILL it after :data:`STOP_GRACE`."""
        self._stopping = True
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            self.kill()
            await process.wait()
