"""The runtime propagates each invocation's X-Ray header, as AWS's custom runtime guide asks
("Propagate the tracing header": ``Lambda-Runtime-Trace-Id`` into ``_X_AMZN_TRACE_ID``), and the
app sees it in the scope, where the proxy's S3 requests take it from."""

from __future__ import annotations

import os

import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from service.lambda_bridge.runtime import TRACE_ID_VARIABLE
from service.requestfacts import TRACE_SCOPE_KEY
from service.tracing import Tracing, TracingMiddleware, current_header
from tests.lambda_bridge.conftest import http_only, load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio

FIRST = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=53995c3f42cd8ad8;Sampled=1"
THIRD = "Root=1-5bef4de8-00112233445566778899aabb;Parent=0123456789abcdef;Sampled=0;Lineage=a1b2c3d4:1"


async def test_each_invocation_has_its_own_trace_header_and_none_inherits_one(
    runtime_api: FakeRuntimeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRACE_ID_VARIABLE, raising=False)
    seen: list[tuple[str | None, object, str | None]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((os.environ.get(TRACE_ID_VARIABLE), scope.get(TRACE_SCOPE_KEY), current_header()))
        await PlainTextResponse("ok")(scope, receive, send)

    event = load_event("function_url_get")
    runtime_api.enqueue(event, request_id="req-1", trace_id=FIRST)
    runtime_api.enqueue(event, request_id="req-2")
    runtime_api.enqueue(event, request_id="req-3", trace_id=THIRD)
    async with serving(http_only(TracingMiddleware(app, Tracing())), runtime_api):
        await runtime_api.wait_for(lambda: len(runtime_api.posts()) == 3)
    # Without Lambda's header, the request's own: the Function URL's event has one too.
    in_event = event["headers"]["x-amzn-trace-id"]
    assert seen == [
        (FIRST, FIRST, FIRST),
        (None, None, in_event),
        # The variable holds Lambda's header as given; S3 gets the fields it understands.
        (THIRD, THIRD, "Root=1-5bef4de8-00112233445566778899aabb;Parent=0123456789abcdef;Sampled=0"),
    ]
