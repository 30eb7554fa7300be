"""Fuzzing the parsers and the app with hostile input: no 500, no crash, no hang.

Each parser either returns or raises its one documented error for any text hypothesis
makes, including huge and binary-looking values; through real uvicorn (moto behind it),
random Range, conditional and download fields, paths and query strings only ever get a
4xx, or the 2xx/3xx the request is entitled to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import BadRequest
from service.http.dates import parse_http_date
from service.http.etags import parse_entity_tag, parse_entity_tag_list
from service.http.preconditions import Preconditions, decide
from service.http.ranges import RangeOutcome, parse_content_range, parse_range
from service.keys import object_key

FIELD_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet='bytes=0123456789-, \t;*"W/', max_size=80),
    st.sampled_from(["bytes=" + "9" * 5000 + "-", "bytes=" + "0-0," * 4000, '"' + "a" * 10_000 + '"', "W/", "*"]),
)
LAST_MODIFIED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@given(value=FIELD_TEXT, size=st.integers(0, 2**63))
def test_parse_range_always_decides(value: str, size: int) -> None:
    decision = parse_range(value, size)
    if decision.outcome is RangeOutcome.SATISFIABLE:
        assert decision.ranges and all(0 <= r.first <= r.last < size for r in decision.ranges)


@given(value=FIELD_TEXT)
def test_validator_and_date_parsers_return_or_none(value: str) -> None:
    parse_entity_tag(value)
    parse_entity_tag_list(value)
    parse_http_date(value)
    parse_content_range(value)


@given(
    headers=st.dictionaries(
        st.sampled_from(["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "range"]),
        FIELD_TEXT,
    ),
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_preconditions_always_decide(headers: dict[str, str], method: str) -> None:
    decide(method, Preconditions.from_headers(headers), '"0123456789abcdef"', LAST_MODIFIED)


@given(raw=st.binary(max_size=300))
def test_object_key_returns_or_raises_bad_request(raw: bytes) -> None:
    try:
        key = object_key({"type": "http", "raw_path": b"/" + raw, "path": "/"}, "")
    except BadRequest:
        return
    assert isinstance(key, str) and key


# Visible ASCII and inner spaces: what an HTTP client lets through (h11 refuses edge whitespace).
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120).map(str.strip)
HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "range",
            "if-match",
            "if-none-match",
            "if-modified-since",
            "if-unmodified-since",
            "if-range",
            "origin",
            "accept-encoding",
        ]
    ),
    HEADER_VALUE,
    max_size=4,
)
PATHS = st.one_of(
    st.just("/fuzz/object.bin"),
    st.binary(max_size=40).map(lambda raw: "/" + quote(raw, safe="/%")),
    st.text(alphabet="/.%2eEfF0aA", max_size=20).map(lambda text: "/" + text),
)
QUERIES = st.one_of(st.just(""), st.text(max_size=40).map(lambda text: quote(text, safe="=&")))
ALLOWED = {200, 204, 206, 304, 400, 403, 404, 405, 412, 416}


@pytest.fixture
def fuzz_proxy(proxy: str, s3: object, bucket: str, backend: object) -> str:
    if getattr(backend, "name", "") != "moto":
        pytest.skip("one S3 implementation is enough for hostile input; the semantics tests cover both")
    s3.put_object(Bucket=bucket, Key="fuzz/object.bin", Body=bytes(range(256)) * 40)  # type: ignore[attr-defined]
    return proxy


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "HEAD", "OPTIONS", "POST"]), path=PATHS, query=QUERIES, headers=HEADERS)
def test_hostile_requests_never_get_a_5xx(
    fuzz_proxy: str, method: str, path: str, query: str, headers: dict[str, str]
) -> None:
    url = fuzz_proxy + path + ("?" + query if query else "")
    response = httpx.request(method, url, headers=headers, timeout=30)
    assert response.status_code in ALLOWED, (method, path, query, headers, response.text)
    assert "Traceback" not in response.text
