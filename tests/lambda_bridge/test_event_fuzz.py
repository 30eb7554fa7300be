"""Fuzzing the event mapper: any invocation payload maps to a request or to MalformedEventError.

Starting from the realistic fixtures, hypothesis replaces, removes or retypes fields at every
depth, adds huge or binary values and bad base64, and also feeds arbitrary bytes. Whatever it
makes, ``parse_event`` either returns a scope whose fields have the ASGI types or raises the
one error the runtime answers with 400; it never raises anything else. And the runtime
itself answers a run of hostile events (bad JSON, wrong types, bad base64, huge headers, a
completion-like event of unknown shape) each with a response, never a function error, then
serves the next real invocation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.responses import PlainTextResponse

from service.lambda_bridge.errors import MalformedEventError
from service.lambda_bridge.events import HTTPRequest, parse_event
from tests.lambda_bridge.conftest import load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

FIXTURES = ("alb", "function_url_get", "function_url_post_base64", "http_api_v2", "rest_v1")

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["", "2.0", "GET", "G E T", "/", "a\r\nb", "%ZZ", "==", "bytes=0-1", "x" * 70_000]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: dictionary keys and list positions, at every depth."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(event: dict[str, Any], path: tuple[Any, ...], replacement: Any, remove: bool) -> None:
    holder: Any = event
    for step in path[:-1]:
        holder = holder[step]
    if remove and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = replacement


def _check(payload: bytes) -> None:
    try:
        request = parse_event(payload)
    except MalformedEventError as exc:
        assert str(exc)
        return
    assert isinstance(request, HTTPRequest)
    scope = request.scope
    assert isinstance(scope["method"], str) and scope["method"]
    assert isinstance(scope["raw_path"], bytes) and isinstance(scope["path"], str)
    assert isinstance(scope["query_string"], bytes)
    assert all(isinstance(name, bytes) and isinstance(value, bytes) for name, value in scope["headers"])
    assert all(b"\r" not in value and b"\n" not in value for _, value in scope["headers"])
    assert isinstance(request.body, bytes)


@pytest.mark.parametrize("fixture", FIXTURES)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_events_map_or_raise_malformed_event_error(fixture: str, data: st.DataObject) -> None:
    event = load_event(fixture)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = _paths(event)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        _mutate(event, path, data.draw(JSON_VALUES, label="value"), data.draw(st.booleans(), label="remove"))
    _check(json.dumps(event).encode())


@given(payload=st.binary(max_size=200))
def test_arbitrary_bytes_map_or_raise_malformed_event_error(payload: bytes) -> None:
    _check(payload)


@given(value=JSON_VALUES)
def test_arbitrary_json_maps_or_raises_malformed_event_error(value: Any) -> None:
    _check(json.dumps(value).encode())


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"version": "2.0"}, id="v2-without-context"),
        pytest.param({"requestContext": {"requestId": "x"}, "status": "COMPLETED"}, id="completion-like"),
        pytest.param({"Records": [{"eventSource": "aws:s3"}]}, id="s3-notification"),
    ],
)
def test_events_of_unknown_shape_raise_malformed_event_error(event: dict[str, Any]) -> None:
    with pytest.raises(MalformedEventError):
        parse_event(json.dumps(event).encode())


def _hostile_events() -> list[object]:
    v2 = load_event("function_url_get")
    wrong_types = {**v2, "headers": ["not", "an", "object"]}
    bad_base64 = {**load_event("function_url_post_base64"), "body": "***not base64***"}
    huge_headers = {**v2, "headers": {f"x-filler-{index}": "v" * 1000 for index in range(200)}}
    missing = {key: value for key, value in v2.items() if key != "rawPath"}
    completion = {"requestContext": {"requestId": "c0ffee"}, "status": "COMPLETED"}
    return [b"\xff\xfe not json", b"[1, 2]", wrong_types, bad_base64, huge_headers, missing, completion]


@pytest.mark.anyio
async def test_the_runtime_answers_hostile_events_and_serves_the_next_invocation(
    runtime_api: FakeRuntimeAPI,
) -> None:
    hostile = _hostile_events()
    for number, event in enumerate(hostile):
        runtime_api.enqueue(event, request_id=f"hostile-{number}")
    runtime_api.enqueue(load_event("function_url_get"), request_id="valid")
    async with serving(PlainTextResponse("hello"), runtime_api):
        await runtime_api.wait_for(lambda: len(runtime_api.posts()) == len(hostile) + 1, timeout=30)
    posts = runtime_api.posts()
    assert [post.target.split("/")[-2] for post in posts] == [f"hostile-{n}" for n in range(len(hostile))] + ["valid"]
    assert all(post.target.endswith("/response") for post in posts), "no invocation may end as a function error"
    assert posts[-1].chunks[2:] == [b"hello"]
