"""Several invocations at once, for Lambda Managed Instances.

On Managed Instances Lambda sets ``AWS_LAMBDA_MAX_CONCURRENCY`` and then accepts that many
concurrent ``/next`` and ``/response`` requests from one execution environment (Lambda docs,
"runtimes-api.html", "Lambda Managed Instances support concurrent requests"; the runtime
"spawns the configured number of runtime workers", "lambda-managed-instances-execution-
environment.html"). The environment is not frozen between invocations there, and each
invocation keeps its own timeout (same page, "Invoke phase").

Our runtime's workers are asyncio tasks on one event loop, sharing the app and so one S3
client and connection pool; each worker long-polls ``/next`` on its own connection and answers
on its own connections, so invocations share nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from service.settings import ConfigError

MAX_CONCURRENCY_VARIABLE = "AWS_LAMBDA_MAX_CONCURRENCY"


def max_concurrency(environ: Mapping[str, str]) -> int:
    """Invocations the environment may serve at once: ``AWS_LAMBDA_MAX_CONCURRENCY``, else 1.

    Raises:
        ConfigError: the variable is set but not a positive integer.
    """
    raw = environ.get(MAX_CONCURRENCY_VARIABLE, "").strip()
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{MAX_CONCURRENCY_VARIABLE}: expected a positive integer, got {raw!r}")
    return int(raw)


async def run_workers(count: int, worker: Callable[[], Awaitable[None]]) -> None:
    """Run ``count`` copies of ``worker`` until one raises, then stop the others and re-raise
    that exception (as it is, not in a group, so callers catch what a single worker raises).

    Cancelling this coroutine cancels every worker.
    """
    tasks = [asyncio.ensure_future(worker()) for _ in range(count)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # raises the first failure
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
