"""A client that leaves a Lambda stream early: the platform tells the runtime nothing, so the
download is read from S3, streamed and billed to its end (README, "When a client goes away").

Through the local Function URL, which models this: the emulator keeps taking the runtime's body
after the client has gone, as a Function URL does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from service.settings import Settings
from tests.support.relay import Relay, Throttle
from tests.support.servers import serve_function_url

MiB = 1024 * 1024
SIZE = 8 * MiB


def _access_records(log: Path) -> list[dict[str, object]]:
    records = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("logger") == "s3_stream_proxy.access":
                records.append(record)
    return records


def _wait_for_record(log: Path, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = _access_records(log)
        if records:
            return records[0]
        time.sleep(0.05)
    raise AssertionError(f"no access record in {log} within {timeout} s")


def test_an_abandoned_download_streams_to_its_end(s3: object, bucket: str, relay: Relay, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"\x5a" * SIZE)  # type: ignore[attr-defined]
    relay.fault = Throttle(bytes_per_second=8 * MiB)  # S3 needs about a second for the body
    log = tmp_path / "runtime.log"
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1")
    with serve_function_url(settings, runtime_output=log) as url:
        with httpx.stream("GET", f"{url}/big.bin", timeout=30) as response:
            assert response.status_code == 200
            next(response.iter_raw())
        left_at = relay.downstream_bytes
        # The client is gone after its first chunk; the runtime reads S3 to the end all the same.
        relay.wait_until(lambda r: r.downstream_bytes >= SIZE, timeout=20.0)
        record = _wait_for_record(log, timeout=20.0)
        assert left_at < SIZE
        assert record["outcome"] == "complete"
        assert record["bytesSent"] == SIZE
        # Only then is the one runtime free for the next request.
        assert httpx.get(f"{url}/_s3proxy/health", timeout=10).status_code == 200
