"""The size a client can read, through uvicorn and through the local Function URL.

uvicorn sends ``Content-Length``.  A Function URL frames a streamed answer itself (chunked),
and the runtime's ``content-length`` reaches the client as ``x-amzn-Remapped-content-length``
(README, "What a client sees through a Function URL"): for HEAD, a 200, a single-range 206 and
a multipart 206 alike, with the value the body has (or, for HEAD, would have).
"""

from __future__ import annotations

import os

import httpx
import pytest

from tests.support.http import assert_declared_length

SIZE = 300_001


@pytest.fixture
def stored(s3: object, bucket: str) -> bytes:
    data = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="sized.bin", Body=data)  # type: ignore[attr-defined]
    return data


def test_head_carries_the_size_of_the_object(target: str, transport: str, stored: bytes) -> None:
    response = httpx.head(f"{target}/sized.bin")
    assert response.status_code == 200
    assert response.content == b""
    assert_declared_length(response, transport, SIZE)


def test_full_get_carries_its_size(target: str, transport: str, stored: bytes) -> None:
    response = httpx.get(f"{target}/sized.bin", timeout=30)
    assert response.status_code == 200
    assert response.content == stored
    assert_declared_length(response, transport, SIZE)


def test_single_range_carries_its_size_and_the_total(target: str, transport: str, stored: bytes) -> None:
    response = httpx.get(f"{target}/sized.bin", headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.content == stored[1000:2000]
    assert response.headers["content-range"] == f"bytes 1000-1999/{SIZE}"
    assert_declared_length(response, transport, 1000)


def test_head_with_a_range_carries_the_size_of_the_object(target: str, transport: str, stored: bytes) -> None:
    # Range is defined for GET only (RFC 9110 §14.2), so a HEAD answers as for the whole object.
    response = httpx.head(f"{target}/sized.bin", headers={"Range": "bytes=-10"})
    assert response.status_code == 200
    assert_declared_length(response, transport, SIZE)


def test_multipart_ranges_carry_the_size_of_the_whole_body(target: str, transport: str, stored: bytes) -> None:
    response = httpx.get(f"{target}/sized.bin", headers={"Range": "bytes=0-9, 500-599"})
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges")
    assert_declared_length(response, transport, len(response.content))


def test_not_modified_declares_no_size(target: str, transport: str, stored: bytes) -> None:
    etag = httpx.head(f"{target}/sized.bin").headers["etag"]
    response = httpx.get(f"{target}/sized.bin", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert "x-amzn-remapped-content-length" not in response.headers
