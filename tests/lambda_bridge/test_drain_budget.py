"""The streaming cycle stops posting body bytes that could not drain before the deadline.

:class:`DrainSchedule` on a fake clock, then the runtime against the fake Runtime API: an app
that streams without end, from its own task or from a body pump like
``service.streaming.ObjectStreamResponse``, gets its body cut where the documented bandwidth
(first 6 MB uncapped, then 2 MB/s) could no longer drain it before the deadline minus the
margin, and the stream ends with ``Function.DeadlineExceeded`` trailers, never cleanly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncGenerator

import pytest
from starlette.types import Receive, Scope, Send

from service.lambda_bridge.bandwidth import STREAM_BURST_BYTES, STREAM_RATE_BYTES_PER_SECOND, DrainSchedule
from service.lambda_bridge.errors import DeadlineExceeded
from service.streaming import ObjectStreamResponse
from tests.lambda_bridge.conftest import http_only, load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI, Recorded

CHUNK = b"\x5a" * (64 * 1024)
SECONDS = 2.0
"""The invocation's time to its deadline."""
MARGIN = 1.5
"""The runtime's safety margin: the body must drain within ``SECONDS - MARGIN``."""


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_burst_passes_at_once_and_the_rest_queues_at_the_rate() -> None:
    clock = FakeClock()
    schedule = DrainSchedule(burst_bytes=1000, rate_bytes_per_second=100, clock=clock)
    assert schedule.fitting(1000, by=clock.now + 0.001) == 1000
    schedule.post(1000)
    assert schedule.drained_at == clock.now
    assert schedule.fitting(500, by=clock.now + 2.0) == 200
    schedule.post(200)
    assert schedule.drained_at == pytest.approx(clock.now + 2.0)
    assert schedule.fitting(1, by=clock.now + 2.0) == 0
    clock.now += 1.0  # half the queue is out; the rest still drains by the same time
    assert schedule.fitting(100, by=clock.now + 1.0) == 0
    assert schedule.fitting(100, by=clock.now + 1.5) == 50
    assert schedule.posted == 1200


def test_nothing_fits_past_the_time_and_everything_without_one() -> None:
    clock = FakeClock()
    schedule = DrainSchedule(burst_bytes=1000, rate_bytes_per_second=100, clock=clock)
    assert schedule.fitting(10, by=clock.now) == 0
    assert schedule.fitting(10**12, by=float("inf")) == 10**12


def test_an_idle_queue_starts_again_from_now() -> None:
    clock = FakeClock()
    schedule = DrainSchedule(burst_bytes=0, rate_bytes_per_second=100, clock=clock)
    schedule.post(100)
    clock.now += 10.0
    assert schedule.drained_at == clock.now
    assert schedule.fitting(100, by=clock.now + 1.0) == 100


def _budget() -> int:
    """The most body bytes the documented bandwidth drains in ``SECONDS - MARGIN``."""
    return STREAM_BURST_BYTES + int(STREAM_RATE_BYTES_PER_SECOND * (SECONDS - MARGIN))


async def _serve_endless(app: object, api: FakeRuntimeAPI) -> tuple[Recorded, float]:
    api.keep_bodies = False
    async with serving(http_only(app), api, deadline_margin=MARGIN):  # type: ignore[arg-type]
        await api.wait_for(lambda: "next" in api.timeline)
        deadline = time.time() + SECONDS
        api.enqueue(load_event("function_url_get"), seconds=SECONDS)
        await api.wait_for(lambda: len(api.posts()) == 1, timeout=SECONDS + 5)
        ended = time.time()
    return api.posts()[0], deadline - ended


def _assert_cut_with_deadline_trailers(post: Recorded, early: float) -> None:
    trailers = dict(post.trailers)
    assert trailers[b"lambda-runtime-function-error-type"] == b"Function.DeadlineExceeded"
    details = json.loads(base64.b64decode(trailers[b"lambda-runtime-function-error-body"], validate=True))
    assert details["errorType"] == "DeadlineExceeded"
    # The fake reads at loopback speed, so the cut is the budget's, long before the margin.
    assert STREAM_BURST_BYTES < post.size <= _budget()
    assert early > MARGIN


pytestmark = pytest.mark.anyio


async def test_an_app_sending_from_its_own_task_is_cut_at_the_budget(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        while True:
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})

    post, early = await _serve_endless(app, runtime_api)
    _assert_cut_with_deadline_trailers(post, early)


async def test_a_body_pump_is_cut_at_the_budget_and_its_body_closed(runtime_api: FakeRuntimeAPI) -> None:
    closed = False

    async def chunks() -> AsyncGenerator[bytes, None]:
        nonlocal closed
        try:
            while True:
                yield CHUNK
        finally:
            closed = True

    post, early = await _serve_endless(ObjectStreamResponse(chunks(), 200, {}), runtime_api)
    _assert_cut_with_deadline_trailers(post, early)
    assert closed, "the pump's body generator was not closed as the cut unwound the app"


async def test_an_app_that_ignores_the_cut_cannot_end_the_body_cleanly(runtime_api: FakeRuntimeAPI) -> None:
    refused: list[str] = []

    async def stubborn(send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        try:
            while True:
                await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
        except DeadlineExceeded:
            refused.append("body")
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except DeadlineExceeded:
            refused.append("end")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.ensure_future(stubborn(send))

    post, early = await _serve_endless(app, runtime_api)
    _assert_cut_with_deadline_trailers(post, early)
    assert refused == ["body", "end"]
