"""Fuzzing the event mapper: any invocation payload maps to a request or to MalformedEventError.

Starting from the realistic fixtures, hypothesis replaces, removes or retypes fields at every
depth, adds huge or binary values and bad base64, and also feeds arbitrary bytes. Whatever it
makes, ``parse_event`` either returns a scope whose fields have the ASGI types or raises the
one error the runtime answers with 400; it never raises anything else.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.lambda_bridge.errors import MalformedEventError
from service.lambda_bridge.events import HTTPRequest, parse_event
from tests.lambda_bridge.conftest import load_event

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
