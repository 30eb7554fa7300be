"""Benchmark: stream a large object through the proxy and report its peak memory, throughput and TTFB.

Run:  .venv/bin/python benchmarks/stream_memory.py [--size-mib 256]

Everything runs on loopback: moto's S3 server in its own process, the proxy as
``s3-stream-proxy serve`` in another (so its resident memory is its own), and this
script as the client. The same object is also fetched straight from moto in the same
run, so the proxy's throughput and time to first byte are printed as ratios to S3's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import httpx

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"benchmark: {url} did not come up")


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"benchmark: no {field} for pid {pid}")


def seed(endpoint: str, size: int) -> str:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="bench")
    block = hashlib.sha256(b"seed").digest() * (MiB // 32)
    digest = hashlib.sha256()
    path = Path(f"/tmp/s3-stream-proxy-bench-{os.getpid()}.bin")
    with path.open("wb") as file:
        for index in range(size // MiB):
            chunk = index.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            file.write(chunk)
    s3.upload_file(str(path), "bench", "big.bin")
    path.unlink()
    return digest.hexdigest()


def fetch(url: str) -> tuple[float, float, str, int]:
    """GET ``url``; return (time to first byte s, total s, sha256, bytes)."""
    digest = hashlib.sha256()
    started = time.perf_counter()
    first = 0.0
    received = 0
    with httpx.stream("GET", url, timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1024 * 1024):
            if not received:
                first = time.perf_counter() - started
            received += len(chunk)
            digest.update(chunk)
    return first, time.perf_counter() - started, digest.hexdigest(), received


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    size = parser.parse_args().size_mib * MiB
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
    os.environ.update(env)
    moto_port, proxy_port = free_port(), free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{moto_port}"
    proxy = None
    try:
        wait_http(endpoint)
        expected = seed(endpoint, size)
        proxy_env = {**env, "S3_PROXY_BUCKET": "bench", "S3_PROXY_ENDPOINT_URL": endpoint}
        proxy = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(proxy_port)],
            env=proxy_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{proxy_port}"
        wait_http(f"{base}/_s3proxy/health")
        httpx.head(f"{base}/big.bin").raise_for_status()  # warm the S3 client and its connection pool
        idle = rss_kib(proxy.pid, "VmRSS")
        peak_sampled = idle
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_sampled
            while not done.is_set():
                peak_sampled = max(peak_sampled, rss_kib(proxy.pid, "VmRSS"))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        p_ttfb, p_total, p_sha, p_bytes = fetch(f"{base}/big.bin")
        done.set()
        sampler.join()
        hwm = rss_kib(proxy.pid, "VmHWM")
        d_ttfb, d_total, d_sha, _ = fetch(f"{endpoint}/bench/big.bin")
    finally:
        for process in (proxy, moto):
            if process:
                process.terminate()
                process.wait(timeout=10)
    ok = p_sha == expected == d_sha and p_bytes == size
    print(f"object: {size // MiB} MiB, sha256 {'matches' if ok else 'MISMATCH'}")
    print(
        f"proxy RSS: idle {idle / 1024:.1f} MiB, peak sampled {peak_sampled / 1024:.1f} MiB, "
        f"high-water mark (VmHWM) {hwm / 1024:.1f} MiB"
    )
    print(f"proxy: {p_bytes / MiB / p_total:.0f} MiB/s, TTFB {p_ttfb * 1000:.1f} ms")
    print(f"direct from S3: {size / MiB / d_total:.0f} MiB/s, TTFB {d_ttfb * 1000:.1f} ms")
    print(f"ratio proxy/direct: throughput {d_total / p_total:.2f}x, TTFB {p_ttfb / d_ttfb:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
