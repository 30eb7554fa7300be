"""Benchmark: what an EMF metrics library would add to the Lambda runtime's cold start.

Run:  .venv/bin/python benchmarks/metrics_library_cost.py [--runs 9] [--powertools-site DIR]

aws-lambda-powertools is not a dependency of the project; install it anywhere (e.g.
``python3 -m venv /tmp/pt && /tmp/pt/bin/pip install aws-lambda-powertools``) and pass that
environment's ``site-packages`` as ``--powertools-site``: it is appended to ``sys.path``, so
the project's own packages still come first. Each variant is a fresh interpreter, timed
from spawn to exit, ``--runs`` times; the table shows the median and the spread:

* ``python -c pass``: the interpreter alone;
* ``INIT``: what our runtime does in Lambda's INIT phase before its first ``/next``:
  import the entry and the app, build the app from settings and run the ASGI lifespan's
  start-up (the aioboto3 S3 client), with ``S3_PROXY_METRICS=on``;
* ``INIT + powertools``: the same, then ``from aws_lambda_powertools import Metrics``;
* ``powertools alone``: only that import.

Then ``-X importtime``'s cumulative microseconds for ``aws_lambda_powertools`` imported
after the runtime's modules (what it adds) and alone, medians of the same runs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INIT = """
import asyncio
from service.lambda_bridge.entry import load_service_app
app, options = load_service_app()
async def start_and_stop():
    async with app.router.lifespan_context(app):
        pass
asyncio.run(start_and_stop())
"""
"""What the runtime's INIT does (:func:`service.lambda_bridge.entry.serve`), minus the Runtime API."""

POWERTOOLS = "from aws_lambda_powertools import Metrics\n"


def wall(code: str, env: dict[str, str], runs: int) -> list[float]:
    """Seconds each of ``runs`` fresh interpreters took to run ``code``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        times.append(time.perf_counter() - started)
    return times


def import_time(code: str, env: dict[str, str], runs: int) -> float:
    """Median cumulative microseconds ``-X importtime`` reports for ``aws_lambda_powertools``."""
    values = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"^import time:\s+\d+ \|\s+(\d+) \| aws_lambda_powertools$", result.stderr, re.M)
        assert match is not None, result.stderr[-2000:]
        values.append(float(match[1]))
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--powertools-site", default="", help="site-packages holding aws_lambda_powertools")
    args = parser.parse_args()
    path = f"import sys; sys.path.append({args.powertools_site!r})\n" if args.powertools_site else ""
    env = {
        "PATH": os.environ["PATH"],
        "S3_PROXY_BUCKET": "cold-start",
        "S3_PROXY_METRICS": "on",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9",
    }
    variants = {
        "python -c pass": "pass",
        "INIT": path + INIT,
        "INIT + powertools": path + INIT + POWERTOOLS,
        "powertools alone": path + POWERTOOLS,
    }
    print(
        f"{'variant':<20} {'median ms':>10} {'min ms':>8} {'max ms':>8}"
        f"   ({args.runs} runs, Python {sys.version.split()[0]})"
    )
    medians = {}
    for name, code in variants.items():
        times = wall(code, env, args.runs)
        medians[name] = statistics.median(times)
        print(f"{name:<20} {medians[name] * 1000:>10.1f} {min(times) * 1000:>8.1f} {max(times) * 1000:>8.1f}")
    added = medians["INIT + powertools"] - medians["INIT"]
    print(f"powertools adds {added * 1000:.1f} ms to INIT ({added / medians['INIT']:.1%})")
    after = import_time(path + INIT + POWERTOOLS, env, args.runs)
    alone = import_time(path + POWERTOOLS, env, args.runs)
    print(
        f"-X importtime, aws_lambda_powertools: {after / 1000:.1f} ms after the runtime's modules,"
        f" {alone / 1000:.1f} ms alone"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
