"""What each answer costs in S3 requests, and that follow-up requests are pinned to one version."""

from __future__ import annotations

import httpx
import pytest

from service.http.ranges import s3_single_range
from tests.support.backends import Backend
from tests.support.relay import Relay

SIZE = 100_000


@pytest.fixture
def obj(s3: object, bucket: str) -> dict[str, str]:
    s3.put_object(Bucket=bucket, Key="obj.bin", Body=bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256))  # type: ignore[attr-defined]
    headers: dict[str, str] = s3.head_object(Bucket=bucket, Key="obj.bin")["ResponseMetadata"]["HTTPHeaders"]  # type: ignore[attr-defined]
    return headers


@pytest.mark.parametrize(
    ("headers", "status", "s3_requests"),
    [
        pytest.param({}, 200, ["GET"], id="plain-get"),
        pytest.param({"range": "bytes=0-99"}, 206, ["GET"], id="single-range"),
        # s3rver serves "bytes=-10" as bytes 0-10; the proxy sees Content-Range disagree and asks again.
        pytest.param({"range": "bytes=-10"}, 206, {"moto": ["GET"], "s3rver": ["GET", "GET"]}, id="suffix-range"),
        pytest.param({"range": "bytes=99990-"}, 206, ["GET"], id="open-range"),
        pytest.param({"range": "bytes=0-1,10-11"}, 206, ["HEAD", "GET", "GET"], id="two-ranges"),
        pytest.param({"if-match": "ETAG"}, 200, ["GET"], id="if-match-delegated"),
        pytest.param({"if-match": '"nope"'}, 412, ["GET"], id="if-match-fails-at-s3"),
        pytest.param({"if-match": ['"nope"', "ETAG"]}, 200, ["GET"], id="if-match-on-two-lines"),
        pytest.param({"range": "bytes=0-9", "if-range": "ETAG"}, 206, ["GET"], id="if-range-etag"),
        pytest.param({"range": "bytes=0-9", "if-range": '"old"'}, 200, ["GET", "GET"], id="if-range-stale"),
        pytest.param({"if-none-match": "ETAG"}, 304, ["HEAD"], id="revalidation-304"),
        pytest.param({"if-none-match": '"old"'}, 200, ["HEAD", "GET"], id="revalidation-200"),
        pytest.param({"range": "bytes=200000-"}, 416, ["GET", "HEAD"], id="unsatisfiable"),
    ],
)
def test_s3_requests_per_answer(
    headers: dict[str, str | list[str]],
    status: int,
    s3_requests: list[str] | dict[str, list[str]],
    backend: Backend,
    obj: dict[str, str],
    proxy: str,
    relay: Relay,
) -> None:
    sent = [
        (name, value.replace("ETAG", obj["etag"]))
        for name, values in headers.items()
        for value in ([values] if isinstance(values, str) else values)
    ]
    response = httpx.get(f"{proxy}/obj.bin", headers=sent)
    assert response.status_code == status
    expected = s3_requests[backend.name] if isinstance(s3_requests, dict) else s3_requests
    assert relay.requests_for("/obj.bin") == expected


def test_only_the_range_leaves_s3(s3: object, bucket: str, proxy: str, relay: Relay) -> None:
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"z" * (8 * 1024 * 1024))  # type: ignore[attr-defined]
    response = httpx.get(f"{proxy}/big.bin", headers={"range": "bytes=4000000-4000099"})
    assert response.status_code == 206
    assert len(response.content) == 100
    assert relay.downstream_bytes < 64 * 1024


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        pytest.param("bytes=0-99", "bytes=0-99", id="closed"),
        pytest.param("Bytes= 10-19,", "bytes=10-19", id="case-whitespace-trailing-comma"),
        pytest.param("bytes=-500", "bytes=-500", id="suffix"),
        pytest.param("bytes=7-", "bytes=7-", id="open"),
        pytest.param(" bytes=0-1,0-1 ", "bytes=0-1", id="duplicate-and-surrounding-whitespace"),
        pytest.param("bytes=0-1,5-6", None, id="two"),
        pytest.param("bytes=5-3", None, id="inverted"),
        pytest.param("bytes=-0", None, id="empty-suffix"),
        pytest.param("items=0-1", None, id="other-unit"),
        pytest.param("bytes =0-1", None, id="space-before-equals"),
        pytest.param("bytes=a-b", None, id="not-digits"),
        pytest.param("bytes=-", None, id="no-positions"),
        pytest.param("bytes=" + "9" * 40 + "-", None, id="huge"),
        pytest.param("bytes=" + "0" * 18 + "1-", None, id="nineteen-digits"),
        pytest.param("bytes=\u0661-\u0662", None, id="non-ascii-digits"),
    ],
)
def test_s3_single_range(value: str, spec: str | None) -> None:
    assert s3_single_range(value) == spec
