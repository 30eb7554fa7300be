"""Several invocations at once in one runtime process, as on Lambda Managed Instances
(``AWS_LAMBDA_MAX_CONCURRENCY``), through the local Function URL with ``concurrency``.

Each invocation keeps its own request id, deadline, trailers and records; they share the
process's event loop and its one S3 client.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from s3proxy_dev.function_url.config import PlatformLimits
from service.lambda_bridge.concurrency import max_concurrency
from service.settings import ConfigError, Settings
from tests.support.relay import Relay
from tests.support.servers import serve_function_url

KiB = 1024
MiB = 1024 * KiB
# Lambda's limits scaled down: 256 KiB at once, then 1 MiB/s, so a 1.25 MiB answer takes 1 s.
LIMITS = PlatformLimits(burst_bytes=256 * KiB, rate_bytes_per_second=MiB)
SIZE = 256 * KiB + MiB


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)


def _records(log: Path, logger: str) -> list[dict[str, object]]:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    return [record for record in map(json.loads, lines) if record.get("logger") == logger]


@pytest.mark.parametrize(
    ("value", "expected"),
    [pytest.param(None, 1, id="unset"), pytest.param("", 1, id="empty"), pytest.param("4", 4, id="four")],
)
def test_max_concurrency_reads_the_platform_variable(value: str | None, expected: int) -> None:
    environ = {} if value is None else {"AWS_LAMBDA_MAX_CONCURRENCY": value}
    assert max_concurrency(environ) == expected


@pytest.mark.parametrize("value", ["0", "-2", "four", "1.5", "٣"])
def test_a_bad_max_concurrency_is_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^AWS_LAMBDA_MAX_CONCURRENCY: expected a positive integer, got "):
        max_concurrency({"AWS_LAMBDA_MAX_CONCURRENCY": value})


def test_four_downloads_at_concurrency_four_take_about_as_long_as_one(
    s3: object, bucket: str, relay: Relay, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="doc.pdf", Body=b"%PDF" + b"x" * (SIZE - 4))  # type: ignore[attr-defined]
    log = tmp_path / "runtime.log"
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1")
    with serve_function_url(settings, limits=LIMITS, runtime_output=log, concurrency=4) as url:
        started = time.monotonic()
        single = _get(f"{url}/doc.pdf")
        one = time.monotonic() - started
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(_get, [f"{url}/doc.pdf"] * 4))
        four = time.monotonic() - started
    assert single.status_code == 200
    assert len(single.content) == SIZE
    assert [(a.status_code, len(a.content)) for a in answers] == [(200, SIZE)] * 4
    assert one >= 0.9  # the limits hold: 1 MiB past the burst at 1 MiB/s
    assert four < 1.6 * one, f"4 at once took {four:.2f} s, one took {one:.2f} s"
    # Each answer is its own invocation, and its records name it.
    ids = [answer.headers["x-amzn-requestid"] for answer in answers]
    assert len(set(ids)) == 4
    assert all(answer.headers["x-request-id"] == answer.headers["x-amzn-requestid"] for answer in answers)
    access = {record["requestId"]: record for record in _records(log, "s3_stream_proxy.access")}
    assert all(access[rid]["bytesSent"] == SIZE and access[rid]["outcome"] == "complete" for rid in ids)
    bridge = _records(log, "service.lambda_bridge")
    assert any("serving up to 4 invocations at once" in str(record["message"]) for record in bridge)


def test_one_invocation_cut_at_its_deadline_leaves_the_others_whole(
    s3: object, bucket: str, relay: Relay, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="small.bin", Body=b"s" * (64 * KiB))  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"b" * (8 * MiB))  # type: ignore[attr-defined]
    log = tmp_path / "runtime.log"
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1", lambda_deadline_margin=0.5)

    def fetch(key: str) -> tuple[tuple[int, int, bool], float]:
        """The status, bytes received and whether the body was whole; and when it ended."""
        received, complete = 0, True
        try:
            with httpx.stream("GET", f"{url}/{key}", timeout=30) as response:
                for chunk in response.iter_raw():
                    received += len(chunk)
                status = response.status_code
        except httpx.RemoteProtocolError:
            status, complete = 200, False
        return (status, received, complete), time.monotonic()

    # 8 MiB at 1 MiB/s past the burst cannot finish in a 3 s function: it ends with error trailers.
    with (
        serve_function_url(settings, timeout=3.0, limits=LIMITS, runtime_output=log, concurrency=4) as url,
        ThreadPoolExecutor(4) as pool,
    ):
        big = pool.submit(fetch, "big.bin")
        time.sleep(0.2)
        smalls = [pool.submit(fetch, "small.bin") for _ in range(3)]
        small_results, small_ends = zip(*(future.result() for future in smalls), strict=True)
        big_result, big_end = big.result()
    assert list(small_results) == [(200, 64 * KiB, True)] * 3
    # The big answer streams until its deadline cut, about 2.5 s in; one after another, the small
    # answers would end after it. (An order, not a time bound: it holds on a loaded machine.)
    assert max(small_ends) < big_end, "the small answers waited behind the big one"
    status, received, complete = big_result
    assert status == 200
    assert not complete
    assert 256 * KiB < received < 8 * MiB
    outcomes = sorted(str(record["outcome"]) for record in _records(log, "s3_stream_proxy.access"))
    assert outcomes == ["complete", "complete", "complete", "deadline_cut"]
