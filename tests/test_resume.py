"""Transparent resume: an S3 body that breaks or stalls mid-stream is re-read from the next
unsent byte, pinned to the same ETag, and the client gets every byte exactly once.

Each test runs through both doors and against moto and s3rver, with faults injected by the
relay between the proxy and S3 (cut, reset, stall, 503 SlowDown, refused connections).
"""

from __future__ import annotations

import hashlib
import os
import time

import httpx
import pytest

from tests.support.http import assert_declared_length
from tests.support.relay import Canned, CutAfter, Refuse, Relay, ResetAfter, StallAfter

MiB = 1024 * 1024
SIZE = 8 * MiB


@pytest.fixture
def data(s3: object, bucket: str) -> bytes:
    """An 8 MiB object of random bytes at ``eight.bin``."""
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="eight.bin", Body=body)  # type: ignore[attr-defined]
    return body


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, bytes]:
    """GET ``url`` to the end; the response and every body byte received."""
    with httpx.stream("GET", url, headers=headers, timeout=60) as response:
        return response, b"".join(response.iter_raw())


def resumed_ranges(relay: Relay, etag: str) -> list[str]:
    """The ``Range`` of each GetObject after the first, asserting each is pinned to ``etag``."""
    gets = relay.headers_for("/eight.bin")[1:]
    assert all(headers.get("if-match") == etag for headers in gets)
    return [headers.get("range", "") for headers in gets]


@pytest.mark.parametrize("fault", [CutAfter(2 * MiB), ResetAfter(2 * MiB)], ids=["cut", "reset"])
def test_a_broken_body_is_resumed_and_every_byte_arrives_once(
    start_target: object, transport: str, relay: Relay, data: bytes, fault: CutAfter | ResetAfter
) -> None:
    relay.queued = [fault]
    response, body = fetch(f"{start_target()}/eight.bin")  # type: ignore[operator]
    assert response.status_code == 200
    assert_declared_length(response, transport, SIZE)
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert relay.requests_for("/eight.bin") == ["GET", "GET"]
    (resumed,) = resumed_ranges(relay, response.headers["etag"])
    first, _, last = resumed.removeprefix("bytes=").partition("-")
    # The re-read starts at the next byte not yet sent, which is at most what crossed the cut (a
    # reset can discard bytes that had arrived but were not yet read).
    assert int(first) < 2 * MiB
    assert last == str(SIZE - 1)


def test_a_stalled_body_is_resumed_after_the_read_timeout(start_target: object, relay: Relay, data: bytes) -> None:
    relay.queued = [StallAfter(2 * MiB)]
    url = start_target(read_timeout=1.0)  # type: ignore[operator]
    started = time.monotonic()
    response, body = fetch(f"{url}/eight.bin")
    assert response.status_code == 200
    assert body == data
    assert 1.0 <= time.monotonic() - started < 10.0
    assert relay.requests_for("/eight.bin") == ["GET", "GET"]


def test_a_range_is_resumed_within_its_bounds(start_target: object, relay: Relay, data: bytes) -> None:
    relay.queued = [CutAfter(2 * MiB)]
    first, last = MiB + 17, 6 * MiB + 3
    response, body = fetch(f"{start_target()}/eight.bin", {"range": f"bytes={first}-{last}"})  # type: ignore[operator]
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert body == data[first : last + 1]
    (resumed,) = resumed_ranges(relay, response.headers["etag"])
    assert resumed.endswith(f"-{last}")
    assert first < int(resumed.removeprefix("bytes=").split("-")[0]) < first + 2 * MiB


def test_each_part_of_a_multipart_answer_is_resumed(start_target: object, relay: Relay, data: bytes) -> None:
    relay.queued = [CutAfter(2 * MiB)]  # HeadObject and the parts share one pooled connection
    response, body = fetch(f"{start_target()}/eight.bin", {"range": "bytes=0-99,4194304-8388607"})  # type: ignore[operator]
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges")
    assert body.count(data[:100]) == 1
    assert body.count(data[4 * MiB :]) == 1


def test_a_throttled_resume_is_retried_and_completes(start_target: object, relay: Relay, data: bytes) -> None:
    relay.queued = [CutAfter(2 * MiB), Canned(503, "SlowDown")]
    response, body = fetch(f"{start_target()}/eight.bin")  # type: ignore[operator]
    assert response.status_code == 200
    assert body == data
    # The 503 is the relay's own answer on the second connection; only the others reach S3.
    assert relay.connections_made == 3
    assert relay.requests_for("/eight.bin") == ["GET", "GET"]


def test_the_stream_aborts_once_the_attempts_are_used_up(
    start_target: object, transport: str, relay: Relay, data: bytes
) -> None:
    relay.fault = CutAfter(MiB)
    url = start_target(resume_attempts=2)  # type: ignore[operator]
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{url}/eight.bin", timeout=30) as response:
        assert response.status_code == 200
        assert_declared_length(response, transport, SIZE)
        for chunk in response.iter_raw():
            received += chunk
    assert relay.requests_for("/eight.bin") == ["GET", "GET", "GET"]
    # How much of each cut connection's 1 MiB reaches the client depends on timing: the S3 client
    # drops what it had buffered but not yet handed over when the connection fails, and each
    # re-read starts again from the next unsent byte. What cannot vary: the client got a prefix of
    # the object, no byte twice, less than three cuts' worth, and each re-read started further on.
    assert 0 < len(received) < 3 * MiB
    assert received == data[: len(received)]
    starts = [int(r.removeprefix("bytes=").split("-")[0]) for r in resumed_ranges(relay, response.headers["etag"])]
    assert 0 < starts[0] < starts[1] <= len(received)


def test_no_resume_when_it_is_turned_off(start_target: object, relay: Relay, data: bytes) -> None:
    relay.queued = [CutAfter(2 * MiB)]
    url = start_target(resume_attempts=0)  # type: ignore[operator]
    with pytest.raises(httpx.RemoteProtocolError):
        fetch(f"{url}/eight.bin")
    assert relay.requests_for("/eight.bin") == ["GET"]


def test_the_stream_aborts_when_s3_cannot_be_reached_to_resume(start_target: object, relay: Relay, data: bytes) -> None:
    relay.queued = [CutAfter(2 * MiB)]
    relay.fault = Refuse()
    url = start_target(max_attempts=2)  # type: ignore[operator]
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        fetch(f"{url}/eight.bin")
    assert time.monotonic() - started < 10.0


def test_an_object_overwritten_before_the_resume_is_never_spliced(
    start_target: object, relay: Relay, s3: object, bucket: str, data: bytes
) -> None:
    relay.queued = [StallAfter(2 * MiB)]
    # Long enough for the overwrite below to finish before the proxy gives up on the stall.
    url = start_target(read_timeout=5.0)  # type: ignore[operator]
    received = b""
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{url}/eight.bin", timeout=30) as response:
        chunks = response.iter_raw()
        received += next(chunks)
        # While the body stalls, a new version replaces the object (straight to S3, not via the relay).
        s3.put_object(Bucket=bucket, Key="eight.bin", Body=os.urandom(SIZE))  # type: ignore[attr-defined]
        for chunk in chunks:
            received += chunk
    assert data.startswith(received)
    assert len(received) < SIZE
    assert relay.requests_for("/eight.bin") == ["GET", "GET"]
