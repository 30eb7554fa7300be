"""Fixtures for the browser tests: Chromium, a static site on its own origin, and the proxy.

The demo's PDF and WAV are built once and uploaded once per module and S3 implementation;
each test gets its own proxy and relay, so the relay's byte count belongs to that test.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from s3proxy_dev.demo.samples import Sample, demo_samples
from service.settings import Settings
from service.signing import Grant, signed_url
from tests.browser.chromium import launch_chromium
from tests.browser.static import serve_static
from tests.support.backends import Backend
from tests.support.relay import Relay, relay_to
from tests.support.servers import serve_proxy

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).parent / "pages"
PDFJS = ROOT / "node_modules" / "pdfjs-dist"
ARTIFACTS = ROOT / "test-artifacts"
SEEDED_KEYS = ("docs/handbook.pdf", "media/tone.wav")
VIEWPORT = ViewportSize(width=900, height=620)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for this package's tests.

    Not for the session: while Playwright's sync API is running it leaves its asyncio loop
    marked as running in this thread, and the anyio tests elsewhere could not start theirs.
    """
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium: Browser, proxy_run: ProxyRun) -> Iterator[Page]:
    """A page in a fresh browser context: empty cache, no cookies, nothing left from another test.

    It depends on ``proxy_run`` so that its context closes first, ending every request a
    media element still holds open, before the proxy is stopped.
    """
    context = chromium.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="package")
def static_origin() -> Iterator[str]:
    """Origin of the static site: ``/pages`` (the test pages) and ``/pdfjs`` (npm ``pdfjs-dist``)."""
    if not (PDFJS / "legacy" / "build" / "pdf.mjs").exists():
        raise RuntimeError(f"{PDFJS} is missing: run `npm ci` in {ROOT}")
    with serve_static({"/pages": PAGES, "/pdfjs": PDFJS}) as origin:
        yield origin


@pytest.fixture(scope="package")
def samples() -> dict[str, Sample]:
    """The demo's PDF and WAV by key, built once (building the PDF takes about a second)."""
    built = {sample.key: sample for sample in demo_samples(binary_size=0) if sample.key in SEEDED_KEYS}
    assert set(built) == set(SEEDED_KEYS), "the demo no longer has the PDF and WAV these tests use"
    return built


@pytest.fixture(scope="module", params=["moto", "s3rver"])
def seeded(request: pytest.FixtureRequest, backends: dict[str, Backend], samples: dict[str, Sample]) -> SeededBucket:
    """A fresh bucket on each S3 implementation holding the demo's PDF and WAV."""
    backend = backends[request.param]
    client = boto3.client("s3", endpoint_url=backend.endpoint_url, region_name="us-east-1")
    name = f"browser-{uuid.uuid4().hex[:20]}"
    client.create_bucket(Bucket=name)
    for sample in samples.values():
        with sample.open_stream() as stream:
            client.put_object(Bucket=name, Key=sample.key, Body=stream.read(), ContentType=sample.content_type)
    return SeededBucket(backend, name, samples)


@dataclass(frozen=True)
class SeededBucket:
    """A bucket on ``backend`` and the samples uploaded to it, by key."""

    backend: Backend
    name: str
    samples: dict[str, Sample]


@dataclass
class ProxyRun:
    """The proxy under uvicorn, reaching S3 through a counting :class:`Relay`."""

    url: str
    relay: Relay
    _stack: ExitStack = field(repr=False)
    signing_secrets: tuple[str, ...] = ()

    def link(self, key: str) -> str:
        """The URL of ``key``: signed for an hour when the proxy requires signed links."""
        if not self.signing_secrets:
            return f"{self.url}/{quote(key)}"
        return signed_url(self.url, Grant(key, int(time.time()) + 3600), self.signing_secrets[0])

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the proxy, wait until its S3 connections are closed; return the bytes S3 sent.

        Only then is the count final: an aborted download may still be draining when a
        page is done. The count is every byte S3 sent through the relay, headers included.

        Raises:
            AssertionError: connections are still open after ``timeout`` seconds.
        """
        self._stack.close()
        self.relay.wait_until(lambda relay: relay.open_connections == 0, timeout=timeout)
        return self.relay.downstream_bytes


@pytest.fixture
def proxy_run(request: pytest.FixtureRequest, seeded: SeededBucket, static_origin: str) -> Iterator[ProxyRun]:
    """The proxy for the seeded bucket, allowing CORS requests from the static site's origin.

    Parametrize it indirectly with a tuple of signing secrets to require signed links.
    """
    secrets: tuple[str, ...] = getattr(request, "param", ())
    with relay_to(seeded.backend.endpoint_url) as relay, ExitStack() as stack:
        settings = Settings(
            bucket=seeded.name,
            endpoint_url=relay.url,
            region="us-east-1",
            cors_allow_origins=(static_origin,),
            signing_secrets=secrets,
        )
        url = stack.enter_context(serve_proxy(settings))
        yield ProxyRun(url, relay, stack, secrets)


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` at the repository root (git ignores it), created if missing."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
