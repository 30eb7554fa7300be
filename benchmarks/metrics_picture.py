"""Draw docs/metrics.png: the Grafana dashboard's panels from real samples of a real run.

Run:  .venv/bin/python benchmarks/metrics_picture.py [--seconds 60] [--out docs/metrics.png] [--samples FILE]

Everything runs on loopback: moto's S3 server in this process, holding a few generated
objects; the proxy as ``python -m service serve`` in a process of its own; a few client
threads here that drive a changing mix of requests (whole GETs, ranges, revalidations
answered 304, missing keys answered 404, slow downloads, and downloads the client abandons);
and a scraper that reads ``/_s3proxy/metrics`` every second. The panels are computed from
those scrapes the way the dashboard's PromQL computes them (``docs/grafana-dashboard.json``):
rates over a 5-second window, quantiles interpolated inside histogram buckets as
``histogram_quantile`` does. ``--samples FILE`` also writes the raw scrapes, one JSON
object per line.

Phases (fractions of ``--seconds``): a light mix; then heavier, with slow downloads in
flight; then a burst of requests for missing keys; then light again.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
OBJECTS = {"docs/small.txt": 4096, "docs/report.pdf": 2 * MiB, "media/video.mp4": 48 * MiB}
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "picture", "AWS_SECRET_ACCESS_KEY": "picture"}
"""moto accepts any credentials; these keep the SDK from looking for real ones."""
WINDOW = 5.0
"""Seconds of the rate window (the dashboard's ``$__rate_interval`` at a 1 s scrape)."""


@dataclass
class Scrape:
    """One scrape: seconds since the start, and every sample as ``name{labels}`` -> value."""

    at: float
    samples: dict[str, float]


def key_of(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


def scrape(url: str, started: float) -> Scrape:
    text = httpx.get(f"{url}/_s3proxy/metrics", timeout=5).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                samples[key_of(sample.name, sample.labels)] = sample.value
    return Scrape(time.monotonic() - started, samples)


@contextmanager
def moto_s3() -> Iterator[tuple[str, str]]:
    """moto's S3 on loopback with :data:`OBJECTS` in a bucket; yields (endpoint, bucket)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="picture")
    for key, size in OBJECTS.items():
        client.put_object(Bucket="picture", Key=key, Body=os.urandom(size))
    try:
        yield endpoint, "picture"
    finally:
        server.stop()


@contextmanager
def proxy(endpoint: str, bucket: str) -> Iterator[str]:
    """``python -m service serve`` on a free loopback port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "S3_PROXY_BUCKET": bucket,
        "S3_PROXY_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "S3_PROXY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/_s3proxy/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


class Load:
    """Client threads that send a mix of requests, heavier or lighter by phase."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url = url
        self.seconds = seconds
        self.started = time.monotonic()
        self.stop = threading.Event()
        self.etag = httpx.head(f"{url}/docs/report.pdf").headers["etag"]

    def phase(self) -> str:
        part = (time.monotonic() - self.started) / self.seconds
        return "light" if part < 0.25 or part >= 0.8 else "heavy" if part < 0.55 else "missing"

    def worker(self, seed: int) -> None:
        chance = random.Random(seed)  # nosec B311: a load mix, not a secret
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                phase = self.phase()
                self.one(client, chance, phase)
                time.sleep(chance.uniform(0.05, 0.25) if phase == "light" else chance.uniform(0.0, 0.06))

    def one(self, client: httpx.Client, chance: random.Random, phase: str) -> None:
        roll = chance.random()
        if phase == "missing" and roll < 0.5:
            client.get(f"/no/such/{chance.randrange(1000)}.pdf")
        elif roll < 0.35:
            client.get("/docs/small.txt")
        elif roll < 0.6:
            start = chance.randrange(0, 2 * MiB - 65536)
            client.get("/docs/report.pdf", headers={"Range": f"bytes={start}-{start + 65535}"})
        elif roll < 0.8:
            client.get("/docs/report.pdf", headers={"If-None-Match": self.etag})
        elif roll < 0.93:
            client.get("/docs/report.pdf")
        else:
            self.abandon(client, chance)

    def abandon(self, client: httpx.Client, chance: random.Random) -> None:
        """Start the video and leave after a few MiB."""
        with client.stream("GET", "/media/video.mp4") as response:
            chunks, received, wanted = response.iter_raw(), 0, chance.randrange(1, 8) * MiB
            while received < wanted:
                received += len(next(chunks))

    def slow_download(self) -> None:
        """The video at about 8 MiB/s, again and again during the heavy phase: streams in flight."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self.stop.is_set():
                if self.phase() != "heavy":
                    time.sleep(0.2)
                    continue
                with client.stream("GET", "/media/video.mp4") as response:
                    for _ in response.iter_raw(MiB):
                        time.sleep(0.125)
                        if self.stop.is_set():
                            break


def run(seconds: float) -> list[Scrape]:
    """Drive the load for ``seconds`` and return a scrape per second."""
    with moto_s3() as (endpoint, bucket), proxy(endpoint, bucket) as url:
        load = Load(url, seconds)
        threads = [threading.Thread(target=load.worker, args=(seed,), daemon=True) for seed in range(4)]
        threads += [threading.Thread(target=load.slow_download, daemon=True) for _ in range(2)]
        scrapes = [scrape(url, load.started)]
        for thread in threads:
            thread.start()
        while scrapes[-1].at < seconds:
            time.sleep(max(0.0, scrapes[-1].at + 1.0 - (time.monotonic() - load.started)))
            scrapes.append(scrape(url, load.started))
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return scrapes


def rate(scrapes: list[Scrape], index: int, pattern: str) -> dict[str, float]:
    """Per-second increase over :data:`WINDOW` of every sample whose name matches ``pattern``,
    by the sample's key."""
    now = scrapes[index]
    then = next(s for s in reversed(scrapes[: index + 1]) if now.at - s.at >= WINDOW or s is scrapes[0])
    span = now.at - then.at
    regex = re.compile(pattern)
    return {
        key: (value - then.samples.get(key, 0.0)) / span
        for key, value in now.samples.items()
        if regex.fullmatch(key) and span > 0
    }


def label(key: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', key)
    return match[1] if match else ""


def quantile(q: float, bucket_rates: dict[str, float]) -> float | None:
    """``histogram_quantile(q, ...)`` over per-bucket rates (cumulative, keyed with ``le``)."""
    buckets = sorted((float(label(key, "le")), value) for key, value in bucket_rates.items())
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / max(count - lower_count, 1e-12)
        lower_bound, lower_count = bound, count
    return None


def draw(scrapes: list[Scrape], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    indices = range(1, len(scrapes))
    times = [scrapes[i].at for i in indices]
    figure, axes = plt.subplots(3, 2, figsize=(13, 10), sharex=True)
    figure.suptitle("s3-stream-proxy: /_s3proxy/metrics scraped every second from a real run on moto")

    def by_label(pattern: str, name: str) -> dict[str, list[float]]:
        series: dict[str, list[float]] = {}
        for position, i in enumerate(indices):
            totals: dict[str, float] = {}
            for key, value in rate(scrapes, i, pattern).items():
                totals[label(key, name)] = totals.get(label(key, name), 0.0) + value
            for name_value, value in totals.items():
                series.setdefault(name_value, [0.0] * len(times))[position] = value
        return series

    panel = axes[0][0]
    for outcome, values in sorted(by_label(r"s3proxy_requests_total\{.*\}", "outcome").items()):
        panel.plot(times, values, label=outcome)
    panel.set_title("Requests per second, by outcome")
    panel.legend(loc="upper left", fontsize="small")

    panel = axes[0][1]
    sent = [rate(scrapes, i, "s3proxy_sent_bytes_total").get("s3proxy_sent_bytes_total", 0.0) / MiB for i in indices]
    panel.plot(times, sent, color="tab:purple")
    panel.set_title("Bytes sent (MiB/s)")

    for panel, histogram, title in (
        (axes[1][0], "s3proxy_client_first_byte_seconds", "Client time to first byte (ms)"),
        (axes[1][1], "s3proxy_s3_first_byte_seconds", "S3 time to first byte (ms)"),
    ):
        for q, style in ((0.5, "-"), (0.95, "--")):
            values = [quantile(q, rate(scrapes, i, rf"{histogram}_bucket\{{.*\}}")) for i in indices]
            panel.plot(
                times, [float("nan") if v is None else v * 1000 for v in values], style, label=f"p{round(q * 100)}"
            )
        panel.set_title(title)
        panel.legend(loc="upper left", fontsize="small")

    panel = axes[2][0]
    panel.step(times, [scrapes[i].samples.get("s3proxy_streams_in_flight", 0.0) for i in indices], where="post")
    panel.set_title("Streams in flight")
    panel.set_xlabel("seconds")

    panel = axes[2][1]
    for kind, values in sorted(by_label(r"s3proxy_s3_errors_total\{.*\}", "kind").items()):
        if any(values):
            panel.plot(times, values, label=kind)
    panel.set_title("S3 errors per second, by kind")
    panel.legend(loc="upper left", fontsize="small")
    panel.set_xlabel("seconds")

    figure.tight_layout()
    figure.savefig(out, dpi=80)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "metrics.png")
    parser.add_argument("--samples", type=Path, default=None, help="write the raw scrapes here (JSON lines)")
    args = parser.parse_args()
    os.environ.update(FAKE_CREDENTIALS)
    scrapes = run(args.seconds)
    if args.samples is not None:
        with args.samples.open("w", encoding="utf-8") as samples:
            for one in scrapes:
                samples.write(json.dumps({"at": round(one.at, 3), "samples": one.samples}) + "\n")
    draw(scrapes, args.out)
    last = scrapes[-1].samples
    total = sum(v for k, v in last.items() if k.startswith("s3proxy_requests_total"))
    sent = last["s3proxy_sent_bytes_total"] / MiB
    print(f"{len(scrapes)} scrapes, {total:.0f} requests, {sent:.0f} MiB sent -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
