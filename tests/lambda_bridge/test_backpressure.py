"""Backpressure: a 64 MiB stream to a slow reader never piles up in memory.

The app and the reading Runtime API share one event loop.  Without ``drain()`` the app would
never yield while sending, so all 64 MiB would sit in the transport buffer before the first
read; with it, the app can only run ahead of the reader by the socket buffers.
"""

from __future__ import annotations

import os

import pytest
from starlette.types import Receive, Scope, Send

from service.lambda_bridge.framing import PRELUDE_DELIMITER, ResponseHead, encode_prelude
from tests.lambda_bridge.conftest import http_only, load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio

CHUNK = b"\xab" * (64 * 1024)
TOTAL = 64 * 1024 * 1024
MAX_LEAD = 16 * 1024 * 1024
"""How far the app may run ahead of the reader: socket buffers on loopback take a few MiB."""
MAX_RSS_GROWTH = 32 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_64_mib_through_a_slow_reader_keeps_memory_bounded(runtime_api: FakeRuntimeAPI) -> None:
    produced = consumed = max_lead = 0
    baseline = peak = _rss()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal produced
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"video/mp4")]})
        for _ in range(TOTAL // len(CHUNK)):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            produced += len(CHUNK)
        await send({"type": "http.response.body", "body": b""})

    def observe(size: int) -> None:
        nonlocal consumed, max_lead, peak
        consumed += size
        max_lead = max(max_lead, produced - consumed)
        if consumed % (1024 * 1024) < size:
            peak = max(peak, _rss())

    runtime_api.keep_bodies = False
    runtime_api.read_size = 16 * 1024
    runtime_api.on_read = observe
    runtime_api.enqueue(load_event("function_url_get"))
    async with serving(http_only(app), runtime_api):
        await runtime_api.wait_for(lambda: len(runtime_api.posts()) == 1, timeout=60)
    (post,) = runtime_api.posts()
    prelude = encode_prelude(ResponseHead(200, {"content-type": ["video/mp4"]}))
    assert post.size == len(prelude) + len(PRELUDE_DELIMITER) + TOTAL
    assert produced == TOTAL
    assert max_lead < MAX_LEAD, f"the app ran {max_lead} bytes ahead of the reader"
    assert peak - baseline < MAX_RSS_GROWTH, f"RSS grew by {peak - baseline} bytes"
