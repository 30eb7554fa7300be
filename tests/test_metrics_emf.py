"""EMF records through the local Function URL: our Lambda runtime writes one CloudWatch
Embedded Metric Format record per request on stdout, with exactly the access record's facts.

The runtime is the emulator's child process (``python -m service lambda``) with
``S3_PROXY_METRICS=on``; its stdout and stderr go to one file the test reads. S3 is moto
behind a fault-injecting relay. Each record must be the whole expected document: the
``_aws`` directive, the outcome dimension, and metric values equal to the access record's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from s3proxy_dev.function_url.config import PlatformLimits
from service.settings import LogFormat, Settings
from tests.function_url.client import Observed, fetch
from tests.oracles.cases import OracleRequest
from tests.support.backends import Backend, seed_bucket
from tests.support.relay import CutAfter, Relay
from tests.support.servers import serve_function_url

pytestmark = pytest.mark.lambda_door

MiB = 1024 * 1024
SMALL = os.urandom(200_000)
EIGHT = os.urandom(8 * MiB)
LARGE_SIZE = 32 * MiB
LARGE = os.urandom(MiB) * (LARGE_SIZE // MiB)
TIMEOUT = 3.0
"""The function timeout of the deadline test, seconds."""
METRICS = "s3_stream_proxy.metrics"
ACCESS = "s3_stream_proxy.access"
UNITS = {
    "Requests": "Count",
    "BytesSent": "Bytes",
    "ClientFirstByte": "Milliseconds",
    "S3FirstByte": "Milliseconds",
    "Duration": "Milliseconds",
    "Resumes": "Count",
    "S3Errors": "Count",
}
"""Every metric a record may carry, in the order it names them, with its unit."""


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "emf", {"docs/a.bin": SMALL, "eight.bin": EIGHT, "large.bin": LARGE})


@dataclasses.dataclass
class Function:
    """The runtime behind the emulator: its URL and the file its stdout and stderr go to."""

    url: str
    output: Path
    offset: int = 0

    def next_lines(self, loggers: int = 2, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The JSON lines written since the last call, once the next metrics record is among them."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.output.read_text(encoding="utf-8") if self.output.exists() else ""
            complete = text[: text.rfind("\n") + 1]
            lines = [json.loads(line) for line in complete[self.offset :].splitlines() if line.startswith("{")]
            if any(line.get("logger") == METRICS for line in lines):
                self.offset = len(complete)
                return lines
            assert time.monotonic() < deadline, complete[self.offset :]
            time.sleep(0.02)

    def skip(self) -> None:
        self.offset = len(self.output.read_text(encoding="utf-8")) if self.output.exists() else 0


def start(settings: Settings, output: Path, **options: Any) -> Any:
    return serve_function_url(dataclasses.replace(settings, metrics=True), runtime_output=output, **options)


@pytest.fixture(scope="module")
def function(bucket: str, moto_relay: Relay, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Function]:
    output = tmp_path_factory.mktemp("emf") / "runtime.log"
    settings = Settings(
        bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", max_attempts=1, resume_attempts=0
    )
    with start(settings, output) as url:
        yield Function(url, output)


def get(url: str, target: str, *headers: tuple[str, str]) -> Observed:
    return asyncio.run(fetch(url, OracleRequest(target=target, headers=headers)))


def expected(access: dict[str, Any], *, s3_errors: tuple[str, ...] = ()) -> dict[str, Any]:
    """The EMF record of the request whose access record is ``access`` (both as JSON)."""
    values = {
        "Requests": 1,
        "BytesSent": access["bytesSent"],
        "ClientFirstByte": access["clientFirstByteMs"],
        "S3FirstByte": access["s3FirstByteMs"],
        "Duration": access["durationMs"],
        "Resumes": access["resumes"],
        "S3Errors": len(s3_errors),
    }
    present = {name: value for name, value in values.items() if value is not None}
    return {
        "level": "INFO",
        "message": f"metrics of {access['method']} {access['status']} {access['outcome']}",
        "logger": METRICS,
        "requestId": access["requestId"],
        "_aws": {
            "CloudWatchMetrics": [
                {
                    "Namespace": "s3-stream-proxy",
                    "Dimensions": [["outcome"]],
                    "Metrics": [{"Name": name, "Unit": UNITS[name]} for name in present],
                }
            ]
        },
        "outcome": access["outcome"],
        "status": access["status"],
        "s3ErrorKinds": list(s3_errors),
        **present,
    }


def one_pair(lines: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one access record and the one metrics record among ``lines``, of the same request;
    the metrics record without its timestamps, which are checked to agree."""
    (access,) = [line for line in lines if line["logger"] == ACCESS]
    (metrics,) = [line for line in lines if line["logger"] == METRICS]
    stamp = metrics.pop("timestamp")
    emf_ms = metrics["_aws"].pop("Timestamp")
    assert isinstance(emf_ms, int)
    assert datetime.fromisoformat(stamp).timestamp() * 1000 == pytest.approx(emf_ms, abs=1)
    assert abs(emf_ms / 1000 - time.time()) < 60
    return access, metrics


def test_a_complete_stream(function: Function) -> None:
    function.skip()
    observed = get(function.url, "/docs/a.bin")
    assert (observed.status, observed.body == SMALL) == (200, True)
    access, metrics = one_pair(function.next_lines())
    assert (access["outcome"], access["bytesSent"], access["requestId"]) == (
        "complete",
        len(SMALL),
        observed.value("x-amzn-requestid"),
    )
    assert metrics == expected(access)
    assert set(metrics) >= set(UNITS)  # every metric applies


def test_a_ranged_answer(function: Function) -> None:
    function.skip()
    observed = get(function.url, "/docs/a.bin", ("Range", "bytes=100-1099"))
    assert (observed.status, observed.body) == (206, SMALL[100:1100])
    access, metrics = one_pair(function.next_lines())
    assert (access["status"], access["bytesSent"]) == (206, 1000)
    assert metrics == expected(access)


def test_a_revalidation_answered_304(function: Function) -> None:
    etag = get(function.url, "/docs/a.bin", ("Range", "bytes=0-0")).value("etag")
    assert etag is not None
    function.next_lines()
    observed = get(function.url, "/docs/a.bin", ("If-None-Match", etag))
    assert observed.status == 304
    access, metrics = one_pair(function.next_lines())
    assert (access["status"], access["outcome"], access["bytesSent"]) == (304, "complete", 0)
    assert metrics == expected(access)  # S3's 304 is no S3 error


def test_a_bad_key_has_no_s3_time(function: Function) -> None:
    function.skip()
    assert get(function.url, "/a/../b").status == 400
    access, metrics = one_pair(function.next_lines())
    assert access["s3FirstByteMs"] is None
    assert metrics == expected(access)
    assert "S3FirstByte" not in metrics  # EMF values are numbers: a time that does not apply is left out


def test_a_missing_key(function: Function) -> None:
    function.skip()
    assert get(function.url, "/no/such/key").status == 404
    access, metrics = one_pair(function.next_lines())
    assert access["outcome"] == "rejected"
    assert metrics == expected(access, s3_errors=("not_found",))


def test_an_s3_body_that_breaks_mid_stream(function: Function, moto_relay: Relay) -> None:
    function.skip()
    moto_relay.fault = CutAfter(limit=2 * MiB)
    observed = get(function.url, "/eight.bin")
    assert (observed.status, observed.complete) == (200, False)
    access, metrics = one_pair(function.next_lines())
    assert (access["outcome"], access["bytesSent"]) == ("upstream_failed", len(observed.body))
    assert metrics == expected(access, s3_errors=("body_broken",))


def test_a_stream_cut_at_the_lambda_deadline(bucket: str, moto_relay: Relay, tmp_path: Path) -> None:
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1")
    with start(settings, tmp_path / "runtime.log", timeout=TIMEOUT, limits=PlatformLimits()) as url:
        function = Function(url, tmp_path / "runtime.log")
        observed = get(url, "/large.bin")
        assert (observed.status, observed.complete) == (200, False)
        access, metrics = one_pair(function.next_lines())
    assert (access["outcome"], access["status"]) == ("deadline_cut", 200)
    assert 0 < access["bytesSent"] < LARGE_SIZE
    assert metrics == expected(access)


@pytest.mark.parametrize("log_format", ["text"])
def test_the_record_is_json_whatever_the_log_format(
    bucket: str, moto_relay: Relay, tmp_path: Path, log_format: LogFormat
) -> None:
    """With text logs (and a level above INFO) the metrics record is still one EMF JSON line."""
    settings = Settings(
        bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", log_format=log_format, log_level="WARNING"
    )
    with start(settings, tmp_path / "runtime.log") as url:
        function = Function(url, tmp_path / "runtime.log")
        observed = get(url, "/docs/a.bin")
        lines = function.next_lines()
    assert observed.status == 200
    (metrics,) = lines
    assert (metrics["logger"], metrics["outcome"], metrics["BytesSent"]) == (METRICS, "complete", len(SMALL))
    assert metrics["requestId"] == observed.value("x-amzn-requestid")


def test_no_records_unless_switched_on(bucket: str, moto_relay: Relay, tmp_path: Path) -> None:
    output = tmp_path / "runtime.log"
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1")
    with serve_function_url(settings, runtime_output=output) as url:
        assert get(url, "/docs/a.bin").status == 200
        deadline = time.monotonic() + 15
        while ACCESS not in output.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)
    assert METRICS not in output.read_text(encoding="utf-8")
