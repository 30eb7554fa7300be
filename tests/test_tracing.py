"""The X-Ray trace header reaches S3: every S3 request made for a request carries the request's
``X-Amzn-Trace-Id``, through uvicorn and through the Lambda runtime behind the local Function URL
(where it is the invocation's ``Lambda-Runtime-Trace-Id``); presigned URLs never require it.

Also the ``S3_PROXY_TRACING`` setting, and what ``otel`` does when the extra is missing.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from service.settings import ConfigError, Settings
from service.tracing import OTEL_EXTRA_MISSING, Tracing, from_settings, propagated_header
from tests.conftest import ProxyFactory
from tests.support.relay import CutAfter, Relay

ROOT = Path(__file__).resolve().parents[1]
CLIENT_HEADER = "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;Parent=53995c3f42cd8ad8;Sampled=1"
LAMBDA_HEADER = re.compile(r"^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=[0-9a-f]{16};Sampled=0$")
"""What the local Function URL gives each invocation (s3proxy_dev.function_url.invocation)."""
BODY = bytes(range(256)) * 1024  # 256 KiB


@pytest.mark.parametrize(
    ("header", "sent"),
    [
        pytest.param(CLIENT_HEADER, CLIENT_HEADER, id="root-parent-sampled"),
        pytest.param("Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1", "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1", id="root"),
        pytest.param(
            "Self=1-6750a3c1-aaaaaaaaaaaaaaaaaaaaaaaa;Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;Sampled=?",
            "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;Sampled=?",
            id="load-balancer-self-dropped",
        ),
        pytest.param(
            "Sampled=1; Parent=53995c3f42cd8ad8 ;Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1",
            "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;Parent=53995c3f42cd8ad8;Sampled=1",
            id="reordered",
        ),
        pytest.param(
            "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;Parent=xyz;Sampled=yes;Evil=a\\b",
            "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1",
            id="malformed-fields-dropped",
        ),
        pytest.param(
            "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;Root=1-00000000-000000000000000000000000",
            "Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1",
            id="first-root-wins",
        ),
        pytest.param("Parent=53995c3f42cd8ad8;Sampled=1", None, id="no-root"),
        pytest.param("Root=1-6750A3C1-0C4EA2E2B1F0D5A7C3E9B8F1", None, id="upper-case"),
        pytest.param("Root=2-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1", None, id="version-2"),
        pytest.param("Root=1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1;" + "x" * 300, None, id="too-long"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_only_a_well_formed_trace_header_is_passed_on(header: str | None, sent: str | None) -> None:
    assert propagated_header(header) == sent


def _trace_headers(relay: Relay, key: str) -> list[str | None]:
    return [headers.get("x-amzn-trace-id") for headers in relay.headers_for(key)]


def _expected_header(transport: str, response: httpx.Response) -> str:
    """What S3 must see: the client's header through uvicorn; through the Function URL the
    invocation's trace header, whose root the emulator also answers as ``X-Amzn-Trace-Id``."""
    if transport == "uvicorn":
        return CLIENT_HEADER
    root = response.headers["x-amzn-trace-id"].removeprefix("Root=")
    return f"Root={root}"


def _check(seen: list[str | None], transport: str, response: httpx.Response, calls: int) -> None:
    assert len(seen) == calls, seen
    expected = _expected_header(transport, response)
    for header in seen:
        assert header is not None
        if transport == "uvicorn":
            assert header == expected
        else:
            match = LAMBDA_HEADER.match(header)
            assert match is not None, header
            assert f"Root={match[1]}" == expected


def test_get_and_head_carry_the_request_trace_header_to_s3(
    s3: object, bucket: str, relay: Relay, target: str, transport: str
) -> None:
    s3.put_object(Bucket=bucket, Key="traced/a.bin", Body=BODY)  # type: ignore[attr-defined]
    headers = {"x-amzn-trace-id": CLIENT_HEADER}
    got = httpx.get(f"{target}/traced/a.bin", headers=headers, timeout=30)
    assert got.status_code == 200
    assert got.content == BODY
    _check(_trace_headers(relay, "traced/a.bin"), transport, got, calls=1)

    head = httpx.head(f"{target}/traced/a.bin", headers=headers, timeout=30)
    assert head.status_code == 200
    _check(_trace_headers(relay, "traced/a.bin")[1:], transport, head, calls=1)


def test_a_resumed_body_asks_s3_again_with_the_same_trace_header(
    s3: object, bucket: str, relay: Relay, start_target: ProxyFactory, transport: str
) -> None:
    """The resume is made by the body pump, a task of its own, after the endpoint returned."""
    s3.put_object(Bucket=bucket, Key="traced/cut.bin", Body=BODY)  # type: ignore[attr-defined]
    url = start_target(resume_attempts=1)
    relay.queued = [CutAfter(64 * 1024)]
    got = httpx.get(f"{url}/traced/cut.bin", headers={"x-amzn-trace-id": CLIENT_HEADER}, timeout=30)
    assert got.content == BODY
    assert relay.requests_for("traced/cut.bin") == ["GET", "GET"]
    _check(_trace_headers(relay, "traced/cut.bin"), transport, got, calls=2)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="none"),
        pytest.param("Root=not-a-trace-id;Parent=53995c3f42cd8ad8", id="malformed"),
    ],
)
def test_without_a_well_formed_trace_header_s3_gets_none(
    s3: object, bucket: str, relay: Relay, proxy: str, header: str | None
) -> None:
    s3.put_object(Bucket=bucket, Key="traced/plain.txt", Body=b"plain")  # type: ignore[attr-defined]
    got = httpx.get(f"{proxy}/traced/plain.txt", headers={"x-amzn-trace-id": header} if header else {}, timeout=30)
    assert got.status_code == 200
    assert _trace_headers(relay, "traced/plain.txt") == [None]


def test_concurrent_requests_each_send_their_own_trace_header(
    s3: object, bucket: str, relay: Relay, proxy: str
) -> None:
    """The header travels in each request's context, never through shared state."""
    s3.put_object(Bucket=bucket, Key="traced/shared.bin", Body=BODY)  # type: ignore[attr-defined]
    roots = [f"1-6750a3c1-{index:024x}" for index in range(8)]

    async def fetch_all() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            answers = await asyncio.gather(
                *(
                    client.get(f"{proxy}/traced/shared.bin", headers={"x-amzn-trace-id": f"Root={root}"})
                    for root in roots
                )
            )
        return [answer.status_code for answer in answers]

    assert anyio.run(fetch_all) == [200] * len(roots)
    seen = sorted(header or "" for header in _trace_headers(relay, "traced/shared.bin"))
    assert seen == sorted(f"Root={root}" for root in roots)


def test_a_presigned_redirect_never_requires_the_trace_header(
    s3: object, bucket: str, start_proxy: ProxyFactory
) -> None:
    """The header is added to requests the proxy sends, not to URLs it signs for clients."""
    s3.put_object(Bucket=bucket, Key="traced/big.bin", Body=BODY)  # type: ignore[attr-defined]
    url = start_proxy(redirect_over_bytes=1024)
    got = httpx.get(f"{url}/traced/big.bin", headers={"x-amzn-trace-id": CLIENT_HEADER}, timeout=30)
    assert got.status_code == 307
    query = parse_qs(urlsplit(got.headers["location"]).query)
    assert query["X-Amz-SignedHeaders"] == ["host"]
    followed = httpx.get(got.headers["location"], timeout=30)
    assert followed.status_code == 200
    assert followed.content == BODY


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        pytest.param(None, "off", id="default"),
        pytest.param("off", "off", id="off"),
        pytest.param("OTel", "otel", id="otel"),
    ],
)
def test_tracing_setting(raw: str | None, mode: str) -> None:
    environ = {"S3_PROXY_BUCKET": "media", **({"S3_PROXY_TRACING": raw} if raw else {})}
    settings = Settings.from_env(environ)
    assert settings.tracing == mode
    assert Settings.from_env(settings.to_env()) == settings


def test_a_bad_tracing_setting_is_one_line_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^S3_PROXY_TRACING: expected off or otel, got 'xray'$"):
        Settings.from_env({"S3_PROXY_BUCKET": "media", "S3_PROXY_TRACING": "xray"})


def test_tracing_off_is_the_x_ray_header_alone() -> None:
    assert type(from_settings(Settings(bucket="media"))) is Tracing


_HIDE_OPENTELEMETRY = """
import importlib.abc, sys
class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Absent())
sys.argv = ["s3-stream-proxy", "serve", "--port", "0"]
from service.cli import main
raise SystemExit(main())
"""


def test_otel_without_the_extra_is_one_line_and_exit_2() -> None:
    """As if installed without ``[otel]``: an import hook hides the packages from the child."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_PROXY_", "OTEL_"))}
    env.update({"S3_PROXY_BUCKET": "media", "S3_PROXY_TRACING": "otel"})
    result = subprocess.run(
        [sys.executable, "-c", _HIDE_OPENTELEMETRY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    expected = OTEL_EXTRA_MISSING.format(module="opentelemetry")
    assert result.stderr.splitlines() == [f"s3-stream-proxy: error: {expected}"]
