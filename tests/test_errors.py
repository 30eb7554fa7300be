"""Every error mapping, against the real fakes, with faults injected where a fake cannot produce them."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.support.relay import Canned, Relay, Stall


def assert_short_safe_body(response: httpx.Response, bucket: str) -> None:
    text = response.text
    assert response.headers["x-request-id"] in text
    assert f"request id: {response.headers['x-request-id']}" in text
    assert bucket not in text
    assert "Traceback" not in text
    assert "injected by the test relay" not in text
    assert len(text) < 200


def test_missing_key_is_404(target: str, bucket: str) -> None:
    response = httpx.get(f"{target}/no/such/key.txt")
    assert response.status_code == 404
    assert_short_safe_body(response, bucket)


def test_missing_key_on_head_is_404_without_body(target: str) -> None:
    response = httpx.head(f"{target}/no/such/key.txt")
    assert response.status_code == 404
    assert response.content == b""


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_access_denied_is_403(method: str, start_target: object, relay: Relay, bucket: str) -> None:
    relay.fault = Canned(403, "AccessDenied")
    response = httpx.request(method, f"{start_target()}/secret.pdf")  # type: ignore[operator]
    assert response.status_code == 403
    if method == "GET":
        assert_short_safe_body(response, bucket)


def test_access_denied_maps_to_404_when_configured(start_target: object, relay: Relay) -> None:
    relay.fault = Canned(403, "AccessDenied")
    url = start_target(forbidden_as_not_found=True)  # type: ignore[operator]
    assert httpx.get(f"{url}/secret.pdf").status_code == 404


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_throttling_is_503_with_retry_after(method: str, start_target: object, relay: Relay, bucket: str) -> None:
    relay.fault = Canned(503, "SlowDown")
    url = start_target(max_attempts=1, retry_after=7)  # type: ignore[operator]
    response = httpx.request(method, f"{url}/busy.bin")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"


def test_throttling_is_retried_before_giving_up(start_target: object, relay: Relay) -> None:
    relay.fault = Canned(503, "SlowDown")
    url = start_target(max_attempts=3)  # type: ignore[operator]
    assert httpx.get(f"{url}/busy.bin", timeout=30).status_code == 503
    assert relay.connections_made == 3


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (502, "BadGateway"), (501, "NotImplemented")])
def test_other_s3_5xx_is_502(status: int, code: str, start_target: object, relay: Relay, bucket: str) -> None:
    relay.fault = Canned(status, code)
    url = start_target(max_attempts=1)  # type: ignore[operator]
    response = httpx.get(f"{url}/broken.bin")
    assert response.status_code == 502
    assert_short_safe_body(response, bucket)


def test_unreachable_s3_is_502(start_target: object, bucket: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = start_target(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1)  # type: ignore[operator]
    response = httpx.get(f"{url}/anything.bin")
    assert response.status_code == 502
    assert_short_safe_body(response, bucket)


def test_s3_timeout_is_504(start_target: object, relay: Relay, bucket: str) -> None:
    relay.fault = Stall()
    url = start_target(read_timeout=0.5, max_attempts=1)  # type: ignore[operator]
    response = httpx.get(f"{url}/slow.bin", timeout=30)
    assert response.status_code == 504
    assert_short_safe_body(response, bucket)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(method: str, target: str, relay: Relay) -> None:
    response = httpx.request(method, f"{target}/doc.pdf")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
    assert relay.connections_made == 0


def test_options_answers_allow(target: str) -> None:
    response = httpx.options(f"{target}/doc.pdf")
    assert response.status_code == 204
    assert "GET" in response.headers["allow"]


def test_health_endpoint_does_not_touch_s3(target: str, relay: Relay) -> None:
    response = httpx.get(f"{target}/_s3proxy/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert relay.connections_made == 0


def test_health_prefix_does_not_shadow_similar_keys(target: str, s3: object, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="health", Body=b"an object named health")  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="_s3proxy", Body=b"an object named like the prefix")  # type: ignore[attr-defined]
    assert httpx.get(f"{target}/health").content == b"an object named health"
    assert httpx.get(f"{target}/_s3proxy").content == b"an object named like the prefix"


def test_unknown_reserved_path_is_404_without_s3(target: str, relay: Relay) -> None:
    assert httpx.get(f"{target}/_s3proxy/nothing-here").status_code == 404
    assert relay.connections_made == 0
