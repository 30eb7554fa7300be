"""``s3-stream-proxy function-url``: run the Lambda path locally behind an emulated Function URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import signal
import sys
from collections.abc import Sequence

from s3proxy_dev.function_url.config import (
    MAX_FUNCTION_TIMEOUT,
    EmulatorConfig,
    FunctionIdentity,
    PlatformLimits,
    default_command,
)
from s3proxy_dev.function_url.emulator import FunctionUrlEmulator
from s3proxy_dev.function_url.heap import keep_freed_memory
from s3proxy_dev.function_url.process import RuntimeStartError

log = logging.getLogger("s3proxy_dev.function_url")

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value <= MAX_FUNCTION_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_FUNCTION_TIMEOUT:g} s")
    return value


def _command(text: str) -> tuple[str, ...]:
    try:
        words = tuple(shlex.split(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"cannot split command: {exc}") from None
    if not words:
        raise argparse.ArgumentTypeError("the command is empty")
    return words


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0-65535, got {text!r}")
    return int(text)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``function-url`` options to ``parser`` (use with :func:`run`)."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address of the emulated Function URL (default: %(default)s)")
    add("--port", type=_port, default=9000, help="its TCP port, 0 for any free one (default: %(default)s)")
    add(
        "--timeout",
        type=_timeout,
        default=60.0,
        help="function timeout in seconds, sets the invocation deadline (default: %(default)s)",
    )
    add(
        "--limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="emulate Lambda's limits: 6 MiB burst then 2 MiB/s, 200 MiB streamed, 6 MiB "
        "buffered and request, timeout cuts the response (default: on)",
    )
    add(
        "--command",
        type=_command,
        default=default_command(),
        help="runtime command line, split like a shell does (default: this project's runtime, "
        "'python -m service lambda')",
    )
    add(
        "--invoke-mode",
        choices=("RESPONSE_STREAM", "BUFFERED"),
        default="RESPONSE_STREAM",
        help="the Function URL's InvokeMode (default: %(default)s)",
    )
    add(
        "--event-format",
        choices=("function-url", "rest"),
        default="function-url",
        help="the event each request becomes: a Function URL's (payload 2.0) or, with 'rest', an API "
        "Gateway REST API's proxy event (payload 1.0), as a REST API in streaming mode sends it "
        "(default: %(default)s)",
    )
    add(
        "--pool-size",
        type=_positive,
        default=1,
        help="runtime processes, each serving one invocation at a time (default: %(default)s)",
    )
    add(
        "--concurrency",
        type=_positive,
        default=1,
        help="invocations each runtime process serves at once, as on Lambda Managed Instances "
        "(sets AWS_LAMBDA_MAX_CONCURRENCY above 1; default: %(default)s)",
    )
    add(
        "--snapstart",
        action="store_true",
        help="start the runtime as SnapStart does (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start) and "
        "answer its /runtime/restore/next once its init is done; logs the init and restore times",
    )
    add(
        "--header-timeout",
        type=_seconds,
        default=EmulatorConfig.header_timeout,
        help="seconds a client has to send a complete request head, else 408 (default: %(default)s)",
    )
    add(
        "--idle-timeout",
        type=_seconds,
        default=EmulatorConfig.idle_timeout,
        help="seconds a kept-alive client connection may wait for its next request (default: %(default)s)",
    )
    add(
        "--max-connections",
        type=_positive,
        default=EmulatorConfig.max_connections,
        help="client connections served at once; past that a request gets 503 (default: %(default)s)",
    )
    add("--handler", default=FunctionIdentity.handler, help="_HANDLER value (default: %(default)s)")
    add("--function-name", default=FunctionIdentity.name, help="AWS_LAMBDA_FUNCTION_NAME (default: %(default)s)")
    add(
        "--memory-size",
        type=_positive,
        default=FunctionIdentity.memory_mb,
        help="AWS_LAMBDA_FUNCTION_MEMORY_SIZE in MB (default: %(default)s)",
    )
    add(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or FunctionIdentity.region,
        help="AWS_REGION of the function, as Lambda sets it (default: $AWS_REGION, $AWS_DEFAULT_REGION or %(default)s)",
    )
    add("--task-root", default=None, help="LAMBDA_TASK_ROOT and the runtime's cwd (default: cwd)")


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build an :class:`EmulatorConfig` from parsed ``function-url`` options."""
    function = FunctionIdentity(
        name=args.function_name, memory_mb=args.memory_size, region=args.region, handler=args.handler
    )
    extra = {} if args.task_root is None else {"task_root": args.task_root}
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        timeout=args.timeout,
        limits=PlatformLimits() if args.limits else None,
        command=args.command,
        pool_size=args.pool_size,
        concurrency=args.concurrency,
        snap_start=args.snapstart,
        invoke_mode=args.invoke_mode,
        event_format=args.event_format,
        function=function,
        header_timeout=args.header_timeout,
        idle_timeout=args.idle_timeout,
        max_connections=args.max_connections,
        **extra,
    )


def run(args: argparse.Namespace) -> int:
    """Run the emulator until SIGINT/SIGTERM; return the exit status (0, or 1 on start failure)."""
    keep_freed_memory()  # the process is the emulator's alone
    return asyncio.run(_serve(config_from_args(args)))


async def _serve(config: EmulatorConfig) -> int:
    emulator = FunctionUrlEmulator(config)
    try:
        await emulator.start()
    except (RuntimeStartError, OSError) as exc:
        print(f"function-url: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        print(f"Function URL emulator listening on {emulator.url}", file=sys.stderr, flush=True)
        await _until_signal(emulator)
    finally:
        await emulator.close()
    return 0


async def _until_signal(emulator: FunctionUrlEmulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    ready = asyncio.ensure_future(emulator.wait_ready())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([ready, stopping], return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        failure = ready.result()
        if failure is None:
            print("Runtime ready", file=sys.stderr, flush=True)
        else:
            print(
                f"Runtime init failed: {failure.error_type}: {failure.message} (each request retries the init)",
                file=sys.stderr,
                flush=True,
            )
    else:
        ready.cancel()
    await stopping
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (without the program name) and run; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="s3-stream-proxy function-url",
        description="Serve the Lambda runtime behind a local emulated Lambda Function URL.",
    )
    configure_parser(parser)
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)
