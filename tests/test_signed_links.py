"""Signed links through both doors: with S3_PROXY_SIGNING_SECRET set, only valid links read objects.

Every refusal is the same 403 (missing, expired, tampered, another key, a method or client
the link does not allow), health checks and CORS preflights need no link, and a valid link
serves GET, HEAD, ranges and conditional requests exactly as an open proxy would.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from urllib.parse import quote

import httpx
import pytest

from service.signing import SIGNATURE, Grant, signed_url

SECRET = "current-signing-secret-0123456789abcdef"
PREVIOUS = "previous-signing-secret-0123456789abcdef"
KEY = "docs/signed report.pdf"
BODY = bytes(range(256)) * 64


@pytest.fixture
def url(start_target: object, s3: object, bucket: str) -> str:
    s3.put_object(Bucket=bucket, Key=KEY, Body=BODY, ContentType="application/pdf")  # type: ignore[attr-defined]
    return start_target(signing_secrets=(SECRET, PREVIOUS))  # type: ignore[operator, no-any-return]


def _link(base: str, key: str = KEY, ttl: int = 300, secret: str = SECRET, **constraints: object) -> str:
    return signed_url(base, Grant(key, int(time.time()) + ttl, **constraints), secret)  # type: ignore[arg-type]


def _refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, re.sub(r"request id: \S+", "request id: -", response.text)


def test_a_valid_link_serves_get_head_range_and_304(url: str) -> None:
    link = _link(url)
    whole = httpx.get(link)
    assert whole.status_code == 200 and whole.content == BODY
    head = httpx.head(link)
    assert head.status_code == 200 and head.content == b""
    part = httpx.get(link, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == BODY[100:200]
    cached = httpx.get(link, headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304


def test_a_link_signed_with_the_previous_secret_still_works(url: str) -> None:
    assert httpx.get(_link(url, secret=PREVIOUS)).content == BODY


def test_every_refusal_is_the_same_403(url: str) -> None:
    link = _link(url)
    tampered = re.sub(f"{SIGNATURE}=.", f"{SIGNATURE}=A", link) if f"{SIGNATURE}=A" not in link else link[:-1] + "B"
    refused = [
        httpx.get(f"{url}/{quote(KEY)}"),
        httpx.get(_link(url, ttl=-1)),
        httpx.get(tampered),
        httpx.get(link.replace(quote(KEY), quote("docs/other.pdf"))),
        httpx.get(_link(url, secret="some-other-secret-0123456789abcdefgh")),
        httpx.get(_link(url, methods=("HEAD",))),
        httpx.get(_link(url, client_network=ipaddress.ip_network("192.0.2.0/24"))),
    ]
    assert {_refusal(response) for response in refused} == {
        (403, "403 Forbidden: a valid signed link is required\nrequest id: -\n")
    }
    assert all(response.headers["cache-control"] == "no-store" for response in refused)
    head = httpx.head(f"{url}/{quote(KEY)}")
    assert (head.status_code, head.content) == (403, b"")


def test_a_missing_key_with_a_valid_link_is_404(url: str) -> None:
    assert httpx.get(_link(url, key="docs/missing.pdf")).status_code == 404


def test_constraints_that_hold_let_the_request_through(url: str) -> None:
    loopback = ipaddress.ip_network("127.0.0.0/8")
    assert httpx.head(_link(url, methods=("HEAD",))).status_code == 200
    assert httpx.get(_link(url, client_network=loopback)).content == BODY


def test_health_and_preflight_need_no_link(url: str) -> None:
    assert httpx.get(f"{url}/_s3proxy/health").status_code == 200
    assert httpx.options(f"{url}/{quote(KEY)}").status_code == 204


def test_the_signature_never_reaches_the_access_log(url: str, transport: str, caplog: pytest.LogCaptureFixture) -> None:
    if transport != "uvicorn":
        pytest.skip("the runtime logs in its own process; its access log is the same middleware")
    link = _link(url)
    signature = link.rsplit("=", 1)[1]
    with caplog.at_level(logging.INFO, logger="s3_stream_proxy.access"):
        assert httpx.get(link).status_code == 200
        assert httpx.get(link[:-2] + "xx").status_code == 403
    assert caplog.records
    assert signature not in caplog.text and SIGNATURE not in caplog.text
