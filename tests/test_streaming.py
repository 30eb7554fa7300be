"""Streaming through a real uvicorn: integrity, time to first byte, HEAD, disconnects, mid-stream failure."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from tests.support.http import assert_declared_length
from tests.support.relay import CutAfter, Relay, Throttle

MiB = 1024 * 1024


def put_random(s3: object, bucket: str, key: str, size: int) -> bytes:
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key=key, Body=data)  # type: ignore[attr-defined]
    return data


def test_64_mib_object_arrives_byte_identical(target: str, transport: str, s3: object, bucket: str) -> None:
    data = put_random(s3, bucket, "big.bin", 64 * MiB)
    digest = hashlib.sha256()
    received = 0
    with httpx.stream("GET", f"{target}/big.bin", timeout=60) as response:
        assert response.status_code == 200
        assert_declared_length(response, transport, len(data))
        for chunk in response.iter_raw():
            digest.update(chunk)
            received += len(chunk)
    assert received == len(data)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_first_byte_arrives_before_s3_body_is_read(target: str, s3: object, bucket: str, relay: Relay) -> None:
    size = 16 * MiB
    put_random(s3, bucket, "big.bin", size)
    relay.fault = Throttle(bytes_per_second=8 * MiB)  # S3 needs about 2 s to send the body
    with httpx.stream("GET", f"{target}/big.bin", timeout=60) as response:
        chunks = response.iter_raw()
        assert next(chunks)
        assert relay.downstream_bytes < size // 2


def test_head_makes_no_get_object_call(target: str, transport: str, s3: object, bucket: str, relay: Relay) -> None:
    put_random(s3, bucket, "four.bin", 4 * MiB)
    response = httpx.head(f"{target}/four.bin")
    assert response.status_code == 200
    if transport == "uvicorn":
        assert response.headers["content-length"] == str(4 * MiB)
    assert response.content == b""
    assert relay.requests_for("/four.bin") == ["HEAD"]
    # A GetObject would have pushed body bytes through the relay; HeadObject sends headers only.
    assert relay.downstream_bytes < 64 * 1024


# Through a Function URL there is no disconnect signal (the platform streams on and bills
# to the end), so this is a uvicorn-only behaviour; see the README's limits table.
def test_client_disconnect_closes_the_s3_body_and_its_connection(
    proxy: str, s3: object, bucket: str, relay: Relay
) -> None:
    size = 32 * MiB
    put_random(s3, bucket, "big.bin", size)
    relay.fault = Throttle(bytes_per_second=8 * MiB)  # S3 needs about 4 s to send the body
    with httpx.stream("GET", f"{proxy}/big.bin", timeout=60) as response:
        chunks = response.iter_raw()  # held, so the connection stays open until the block ends
        next(chunks)
        assert relay.open_connections == 1
    # The client is gone: the proxy must close the S3 body, which drops its connection. A
    # proxy that read on into the void would hold it for seconds, then pool it (still open).
    relay.wait_until(lambda r: r.open_connections == 0, timeout=2.0)
    assert relay.downstream_bytes < size // 2


def test_mid_stream_s3_failure_aborts_the_client_connection(
    start_target: object, transport: str, s3: object, bucket: str, relay: Relay
) -> None:
    put_random(s3, bucket, "eight.bin", 8 * MiB)
    relay.fault = CutAfter(limit=2 * MiB)
    url = start_target(max_attempts=1)  # type: ignore[operator]
    received = 0
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", f"{url}/eight.bin", timeout=30) as response,
    ):
        assert response.status_code == 200
        assert_declared_length(response, transport, 8 * MiB)
        for chunk in response.iter_raw():
            received += len(chunk)
    assert 0 < received < 8 * MiB
