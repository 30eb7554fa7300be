"""Size-aware redirect: answers larger than S3_PROXY_REDIRECT_OVER_BYTES become a 307 to an S3
presigned GET that carries the proxy's content type, disposition and cache policy.

Through both doors, against moto and s3rver; the presigned URLs point at the relay (the
proxy's S3 endpoint) unless S3_PROXY_PRESIGN_ENDPOINT_URL names another, and following them
really downloads the object from the S3 server.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from service.settings import LAMBDA_BUFFERED_REDIRECT_OVER, LAMBDA_STREAM_REDIRECT_OVER, Settings
from tests.support.backends import Backend
from tests.support.relay import Relay, Throttle

MiB = 1024 * 1024
LIMIT = 2 * MiB


@pytest.fixture
def objects(s3: object, bucket: str) -> dict[str, bytes]:
    """A large video, a small one and a large HTML page, stored without a content type."""
    stored = {"large.mp4": os.urandom(3 * MiB), "small.mp4": os.urandom(MiB), "page.html": b"<p>hi</p>" * 300_000}
    for key, body in stored.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)  # type: ignore[attr-defined]
    return stored


@pytest.fixture
def url(start_target: object) -> str:
    return start_target(redirect_over_bytes=LIMIT)  # type: ignore[no-any-return, operator]


def query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def test_a_large_object_is_redirected_to_a_presigned_get(url: str, relay: Relay, objects: dict[str, bytes]) -> None:
    response = httpx.get(f"{url}/large.mp4")
    assert response.status_code == 307
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert location.startswith(f"{relay.url}/")
    signed = query(location)
    assert "X-Amz-Signature" in signed
    assert signed["response-content-type"] == "video/mp4"
    assert signed["response-cache-control"] == Settings.default_cache_control
    assert int(signed["X-Amz-Expires"]) == Settings.redirect_expires
    followed = httpx.get(location)
    assert followed.status_code == 200
    assert followed.content == objects["large.mp4"]
    assert followed.headers["content-type"] == "video/mp4"


def test_smaller_answers_stream_as_before(url: str, objects: dict[str, bytes]) -> None:
    small = httpx.get(f"{url}/small.mp4")
    assert (small.status_code, small.content) == (200, objects["small.mp4"])
    part = httpx.get(f"{url}/large.mp4", headers={"range": "bytes=100-1048675"})
    assert (part.status_code, part.content) == (206, objects["large.mp4"][100:1048676])


def test_a_large_range_is_redirected_and_s3_serves_it(url: str, objects: dict[str, bytes]) -> None:
    wanted = {"range": f"bytes=10-{LIMIT + 10}"}
    response = httpx.get(f"{url}/large.mp4", headers=wanted)
    assert response.status_code == 307
    followed = httpx.get(response.headers["location"], headers=wanted)
    assert followed.status_code == 206
    assert followed.content == objects["large.mp4"][10 : LIMIT + 11]


def test_head_is_never_redirected(url: str, transport: str, objects: dict[str, bytes]) -> None:
    response = httpx.head(f"{url}/large.mp4")
    assert response.status_code == 200
    assert "location" not in response.headers


def test_downloads_and_active_types_stay_attachments_at_s3(url: str, objects: dict[str, bytes]) -> None:
    download = query(httpx.get(f"{url}/large.mp4?download=clip.mp4").headers["location"])
    assert download["response-content-disposition"].startswith('attachment; filename="clip.mp4"')
    # S3 cannot send the sandboxing Content-Security-Policy, so the page becomes a download.
    page = httpx.get(f"{url}/page.html")
    assert page.status_code == 307
    signed = query(page.headers["location"])
    assert signed["response-content-type"].startswith("text/html")
    assert signed["response-content-disposition"].startswith('attachment; filename="page.html"')
    followed = httpx.get(page.headers["location"])
    assert followed.headers["content-disposition"] == signed["response-content-disposition"]


def test_after_a_head_first_no_get_object_is_sent(url: str, relay: Relay, objects: dict[str, bytes]) -> None:
    response = httpx.get(f"{url}/large.mp4", headers={"if-none-match": '"some-other-version"'})
    assert response.status_code == 307
    assert relay.requests_for("/large.mp4") == ["HEAD"]


def test_a_plain_get_costs_one_get_object_before_the_redirect(
    url: str, relay: Relay, objects: dict[str, bytes]
) -> None:
    # Throttled, so loopback's socket buffers cannot take the whole body before the proxy closes it.
    relay.fault = Throttle(bytes_per_second=2 * MiB)
    assert httpx.get(f"{url}/large.mp4").status_code == 307
    assert relay.requests_for("/large.mp4") == ["GET"]
    # The proxy closed that body after its headers; it did not read the object.
    assert relay.downstream_bytes < MiB


def test_urls_are_signed_for_the_public_endpoint_when_one_is_set(
    start_target: object, backend: Backend, relay: Relay, objects: dict[str, bytes]
) -> None:
    url = start_target(redirect_over_bytes=LIMIT, presign_endpoint_url=backend.endpoint_url)  # type: ignore[operator]
    location = httpx.get(f"{url}/large.mp4").headers["location"]
    assert location.startswith(f"{backend.endpoint_url}/")
    assert httpx.get(location).content == objects["large.mp4"]


def test_on_lambda_the_default_keeps_answers_under_the_response_limits() -> None:
    on_lambda = {"S3_PROXY_BUCKET": "media", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}
    assert Settings.from_env(on_lambda).redirect_over_bytes == LAMBDA_STREAM_REDIRECT_OVER < 200 * 10**6
    buffered = Settings.from_env({**on_lambda, "S3_PROXY_LAMBDA_INVOKE_MODE": "BUFFERED"})
    assert buffered.redirect_over_bytes == LAMBDA_BUFFERED_REDIRECT_OVER
    assert (LAMBDA_BUFFERED_REDIRECT_OVER + 2) // 3 * 4 < 6 * 10**6  # base64 in the JSON result
    assert Settings.from_env({**on_lambda, "S3_PROXY_REDIRECT_OVER_BYTES": "off"}).redirect_over_bytes is None
    assert Settings.from_env({"S3_PROXY_BUCKET": "media"}).redirect_over_bytes is None


@pytest.mark.parametrize("transport", ["function-url"])
def test_a_buffered_lambda_redirects_what_it_could_not_return(start_target: object, s3: object, bucket: str) -> None:
    """Without the default, a 5 MB object in BUFFERED mode is a 413; with it, a 307."""
    s3.put_object(Bucket=bucket, Key="five.bin", Body=os.urandom(5 * 10**6))  # type: ignore[attr-defined]
    url = start_target(lambda_invoke_mode="BUFFERED")  # type: ignore[operator]
    response = httpx.get(f"{url}/five.bin")
    assert response.status_code == 307
    assert len(httpx.get(response.headers["location"]).content) == 5 * 10**6


def test_in_a_versioned_bucket_the_url_names_the_version_that_was_answered(
    url: str, backend: Backend, s3: object, bucket: str, objects: dict[str, bytes]
) -> None:
    if backend.name == "s3rver":
        pytest.skip("s3rver has no bucket versioning")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})  # type: ignore[attr-defined]
    first = s3.put_object(Bucket=bucket, Key="large.mp4", Body=objects["large.mp4"])  # type: ignore[attr-defined]
    location = httpx.get(f"{url}/large.mp4").headers["location"]
    assert query(location)["versionId"] == first["VersionId"]
    s3.put_object(Bucket=bucket, Key="large.mp4", Body=os.urandom(3 * MiB))  # type: ignore[attr-defined]
    # The URL still serves the version the proxy saw, not the one written since.
    assert httpx.get(location).content == objects["large.mp4"]
