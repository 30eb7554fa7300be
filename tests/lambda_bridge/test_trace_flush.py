"""On Lambda the spans of an invocation are exported once its response is delivered, before the
runtime asks for the next one (Lambda may freeze the process then), not whenever the batch
processor's timer would have fired."""

from __future__ import annotations

import time

import anyio
import pytest

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from service.otel import OtelTracing
from service.tracing import TracingMiddleware
from tests.lambda_bridge.conftest import http_only, load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio

AN_HOUR_MS = 3_600_000


async def test_an_invocations_spans_are_exported_after_its_response(runtime_api: FakeRuntimeAPI) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    # Left to itself this processor would hold the spans for an hour.
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=AN_HOUR_MS))
    tracing = OtelTracing(provider)
    exported_at_answer: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        exported_at_answer.append(len(exporter.get_finished_spans()))
        await PlainTextResponse("ok")(scope, receive, send)

    for number in (1, 2):
        runtime_api.enqueue(load_event("function_url_get"), request_id=f"req-{number}")
    try:
        async with serving(http_only(TracingMiddleware(app, tracing)), runtime_api):
            await runtime_api.wait_for(lambda: len(runtime_api.posts()) == 2)
            deadline = time.monotonic() + 10
            while len(exporter.get_finished_spans()) < 2 and time.monotonic() < deadline:
                await anyio.sleep(0.01)
    finally:
        provider.shutdown()
    # The second invocation ran only after the first one's span had been exported.
    assert exported_at_answer == [0, 1]
    assert [span.name for span in exporter.get_finished_spans()] == ["GET", "GET"]
