"""Soak: many clients for minutes against ``s3-stream-proxy serve``; nothing unexpected, nothing cut, no growth.

Run:  .venv/bin/python benchmarks/soak.py [--clients 64] [--duration 120] [--warm-up 20]

moto's S3 server and the proxy run as processes of their own (so the proxy's memory is its
own and the clients here do not share an interpreter with either), all on loopback. Each client loops over a mix of
requests and checks every answer against what was seeded:

* full GET: 200 and the exact bytes (SHA-256);
* one byte range: 206 and the exact slice;
* HEAD: 200, the right Content-Length, no body;
* revalidation with the ETag: 304;
* a missing key: 404.

The proxy's resident memory (VmRSS from /proc) is sampled every second; growth is the last
sample over the first sample after the warm-up. Exit status 0 when every answer was as
expected and growth stayed under ``--max-growth`` (default 10 %), else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "soak"
KiB = 1024
OBJECT_SIZES = {"small.bin": 4 * KiB, "medium.bin": 512 * KiB, "large.bin": 8 * 1024 * KiB}
KINDS = ("get", "range", "head", "not-modified", "missing")


Samples = list[tuple[float, int]]
"""(seconds since the start, VmRSS in KiB) pairs."""


@dataclass
class Tally:
    """What the clients saw: answers per kind, failures with their first examples, latencies (s)."""

    answers: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _objects() -> dict[str, bytes]:
    return {key: hashlib.shake_256(key.encode()).digest(size) for key, size in OBJECT_SIZES.items()}


CREDENTIALS = {"AWS_ACCESS_KEY_ID": "soak", "AWS_SECRET_ACCESS_KEY": "soak", "AWS_REGION": "us-east-1"}
"""moto accepts any credentials; these keep the machine's own out of the run."""


def _seed(endpoint: str, objects: dict[str, bytes]) -> dict[str, str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=BUCKET)
    etags = {}
    for key, body in objects.items():
        etags[key] = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"]
    return etags


def _start_proxy(endpoint: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "S3_PROXY_BUCKET": BUCKET, "S3_PROXY_ENDPOINT_URL": endpoint, **CREDENTIALS}
    return _start([sys.executable, "-m", "service", "serve", "--port", str(port)], env)


def _vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"soak: no VmRSS for pid {pid}")


class Workload:
    """One request of a random kind, checked against the seeded objects."""

    def __init__(self, objects: dict[str, bytes], etags: dict[str, str]) -> None:
        self.objects = objects
        self.etags = etags

    async def one(self, client: httpx.AsyncClient, rng: random.Random, tally: Tally) -> None:
        kind = rng.choice(KINDS)
        key = rng.choice(list(self.objects))
        started = time.perf_counter()
        try:
            problem = await getattr(self, "_" + kind.replace("-", "_"))(client, key, rng)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        tally.latencies.append(time.perf_counter() - started)
        tally.answers[kind] += 1
        if problem:
            tally.failures.append(f"{kind} {key}: {problem}")

    async def _get(self, client: httpx.AsyncClient, key: str, rng: random.Random) -> str | None:
        response = await client.get(f"/{key}")
        if response.status_code != 200:
            return f"status {response.status_code}"
        return None if response.content == self.objects[key] else f"body of {len(response.content)} bytes differs"

    async def _range(self, client: httpx.AsyncClient, key: str, rng: random.Random) -> str | None:
        body = self.objects[key]
        first = rng.randrange(len(body))
        last = rng.randrange(first, min(len(body), first + 256 * KiB))
        response = await client.get(f"/{key}", headers={"Range": f"bytes={first}-{last}"})
        if response.status_code != 206:
            return f"status {response.status_code}"
        return None if response.content == body[first : last + 1] else "range body differs"

    async def _head(self, client: httpx.AsyncClient, key: str, rng: random.Random) -> str | None:
        response = await client.head(f"/{key}")
        if response.status_code != 200 or response.content:
            return f"status {response.status_code}, {len(response.content)} body bytes"
        length = response.headers.get("content-length")
        return None if length == str(len(self.objects[key])) else f"Content-Length {length}"

    async def _not_modified(self, client: httpx.AsyncClient, key: str, rng: random.Random) -> str | None:
        response = await client.get(f"/{key}", headers={"If-None-Match": self.etags[key]})
        return None if response.status_code == 304 and not response.content else f"status {response.status_code}"

    async def _missing(self, client: httpx.AsyncClient, key: str, rng: random.Random) -> str | None:
        response = await client.get(f"/missing/{rng.randrange(10**6)}")
        return None if response.status_code == 404 else f"status {response.status_code}"


async def _client_loop(base: str, workload: Workload, seed: int, stop_at: float, tally: Tally) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < stop_at:
            await workload.one(client, rng, tally)


async def _sample_rss(pid: int, stop_at: float, samples: Samples) -> None:
    started = time.monotonic()
    while time.monotonic() < stop_at:
        samples.append((time.monotonic() - started, _vm_rss_kib(pid)))
        await asyncio.sleep(1.0)


async def soak(
    args: argparse.Namespace, base: str, workload: Workload, pid: int
) -> tuple[Tally, list[tuple[float, int]]]:
    """Run ``args.clients`` client loops for ``args.duration`` seconds while sampling the proxy's RSS."""
    tally = Tally()
    samples: Samples = []
    stop_at = time.monotonic() + args.duration
    loops = [_client_loop(base, workload, seed, stop_at, tally) for seed in range(args.clients)]
    await asyncio.gather(_sample_rss(pid, stop_at, samples), *loops)
    return tally, samples


def _report(args: argparse.Namespace, tally: Tally, samples: Samples) -> int:
    after_warm_up = [rss for at, rss in samples if at >= args.warm_up] or [samples[-1][1]]
    growth = after_warm_up[-1] / after_warm_up[0] - 1
    total = sum(tally.answers.values())
    latencies = sorted(tally.latencies)
    print(f"soak: {args.clients} clients, {args.duration:g} s, {total} requests ({total / args.duration:.0f}/s)")
    print("soak: answers by kind: " + ", ".join(f"{kind} {tally.answers[kind]}" for kind in KINDS))
    print(
        f"soak: latency median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )
    peak = max(rss for _, rss in samples)
    print(
        f"soak: proxy RSS {after_warm_up[0] / 1024:.1f} MiB after {args.warm_up:g} s warm-up, "
        f"{after_warm_up[-1] / 1024:.1f} MiB at the end ({growth:+.1%}), peak {peak / 1024:.1f} MiB"
    )
    print(f"soak: unexpected answers or truncated bodies: {len(tally.failures)}")
    for failure in tally.failures[:10]:
        print(f"soak:   {failure}")
    ok = not tally.failures and growth < args.max_growth and total > 0
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load (default: %(default)s)")
    parser.add_argument(
        "--warm-up", type=float, default=20.0, help="seconds before the RSS baseline (default: %(default)s)"
    )
    parser.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or not 0 <= args.warm_up < args.duration:
        parser.error("need --clients >= 1 and 0 <= --warm-up < --duration")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the soak; return the exit status (see the module docstring)."""
    args = _arguments(argv)
    moto_port, port = _free_port(), _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    s3 = _start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], os.environ)
    proxy = None
    try:
        asyncio.run(_up(endpoint + "/moto-api/", s3))
        objects = _objects()
        etags = _seed(endpoint, objects)
        proxy = _start_proxy(endpoint, port)
        base = f"http://127.0.0.1:{port}"
        asyncio.run(_up(base + "/_s3proxy/health", proxy))
        tally, samples = asyncio.run(soak(args, base, Workload(objects, etags), proxy.pid))
    finally:
        for process in (proxy, s3):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    return _report(args, tally, samples)


def _start(command: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until ``url`` answers 200, for at most 30 s."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"soak: {process.args!r} exited with status {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit(f"soak: {url} did not answer in 30 s")


if __name__ == "__main__":
    sys.exit(main())
