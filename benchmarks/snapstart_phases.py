"""The runtime's SnapStart phases through the local Function URL: init time against restore time.

Each run starts the emulator with ``--snapstart`` semantics (``snap_start=True``): a fresh
runtime process (``python -m service lambda``) imports and builds the app, starts its lifespan
and calls ``/runtime/restore/next``; the emulator answers at once, and the runtime restarts the
lifespan (a fresh S3 client and pool) before its first ``/next``. The emulator times both, as
Lambda reports them (Init Duration, Restore Duration: docs snapstart-monitoring.html):

* init: seconds from the process start to its ``/restore/next``,
* restore: seconds from the answer to ``/restore/next`` to the first ``/next``.

No snapshot is taken locally, so the restore here is only the runtime's own after-restore work;
Lambda's own time to resume a snapshot cannot be measured without an account. Neither phase
reaches S3 (creating the client opens no connection), so no S3 server runs.

    .venv/bin/python benchmarks/snapstart_phases.py --runs 9
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from s3proxy_dev.function_url.config import EmulatorConfig
from s3proxy_dev.function_url.emulator import FunctionUrlEmulator

ENVIRONMENT = (("S3_PROXY_BUCKET", "snapstart-phases"), ("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x"))


async def one_run() -> tuple[float, float]:
    """Start one runtime with SnapStart; return its (init, restore) seconds.

    Raises RuntimeError if the runtime failed its init or restore.
    """
    config = EmulatorConfig(port=0, limits=None, snap_start=True, extra_env=ENVIRONMENT, runtime_output="/dev/null")
    async with FunctionUrlEmulator(config) as emulator:
        failure = await asyncio.wait_for(emulator.wait_ready(), 60)
        if failure is not None:
            raise RuntimeError(f"the runtime failed: {failure.error_type}: {failure.message}")
        environment = emulator.environments[0]
        assert environment.init_seconds is not None and environment.restore_seconds is not None
        return environment.init_seconds, environment.restore_seconds


def _milliseconds(values: list[float]) -> str:
    shown = ", ".join(f"{value * 1000:.1f}" for value in values)
    return f"median {statistics.median(values) * 1000:.1f} ms (runs: {shown})"


def main(argv: list[str] | None = None) -> None:
    """Run ``--runs`` times (5 or more) and print the median and every run of each phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runtimes started one after another (default 7)")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs: at least 5, for a median worth printing")
    results = [asyncio.run(one_run()) for _ in range(args.runs)]
    print(f"init    (start to /restore/next): {_milliseconds([init for init, _ in results])}")
    print(f"restore (/restore/next to /next): {_milliseconds([restore for _, restore in results])}")


if __name__ == "__main__":
    main()
