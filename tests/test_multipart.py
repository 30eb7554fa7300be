"""Tests for the multipart/byteranges layout (RFC 9110 §14.6)."""

from __future__ import annotations

import email.parser
import email.policy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.http.multipart import Layout, new_boundary
from service.http.ranges import ByteRange, RangeOutcome, parse_range


def _assemble(layout: Layout, data: bytes) -> bytes:
    """The body an app streams: each part's header, then its bytes, then the closing."""
    body = bytearray()
    for byte_range, header in layout.parts():
        body += header + data[byte_range.first : byte_range.last + 1]
    return bytes(body + layout.closing)


def test_exact_body_for_two_parts() -> None:
    data = b"0123456789abcdefghij"
    layout = Layout.new("text/plain", 20, [ByteRange(0, 2), ByteRange(15, 19)], boundary="B0UND")
    expected = (
        b"--B0UND\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Range: bytes 0-2/20\r\n"
        b"\r\n"
        b"012"
        b"\r\n--B0UND\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Range: bytes 15-19/20\r\n"
        b"\r\n"
        b"fghij"
        b"\r\n--B0UND--\r\n"
    )
    assert _assemble(layout, data) == expected
    assert layout.content_length == len(expected)
    assert layout.content_type == "multipart/byteranges; boundary=B0UND"


def test_parts_without_content_type() -> None:
    layout = Layout.new(None, 10, [ByteRange(0, 0), ByteRange(9, 9)], boundary="b")
    headers = [header for _, header in layout.parts()]
    assert headers == [
        b"--b\r\nContent-Range: bytes 0-0/10\r\n\r\n",
        b"\r\n--b\r\nContent-Range: bytes 9-9/10\r\n\r\n",
    ]
    assert layout.content_length == sum(map(len, headers)) + 2 + len(b"\r\n--b--\r\n")


def test_parts_keep_the_given_order() -> None:
    layout = Layout.new(None, 100, [ByteRange(50, 59), ByteRange(0, 9)], boundary="b")
    assert [r for r, _ in layout.parts()] == [ByteRange(50, 59), ByteRange(0, 9)]


@pytest.mark.parametrize(
    ("boundary", "content_type"),
    [
        pytest.param("simple_boundary-1.2", "multipart/byteranges; boundary=simple_boundary-1.2", id="token"),
        pytest.param("with space", 'multipart/byteranges; boundary="with space"', id="space-quoted"),
        pytest.param("a:b=c?", 'multipart/byteranges; boundary="a:b=c?"', id="separators-quoted"),
        pytest.param("x" * 70, "multipart/byteranges; boundary=" + "x" * 70, id="70-characters"),
    ],
)
def test_content_type_quotes_the_boundary_only_when_needed(boundary: str, content_type: str) -> None:
    assert Layout.new(None, 10, [ByteRange(0, 1)], boundary=boundary).content_type == content_type


def test_new_boundary_is_random_and_valid() -> None:
    boundaries = {new_boundary() for _ in range(20)}
    assert len(boundaries) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", b) for b in boundaries)
    layout = Layout.new("text/plain", 10, [ByteRange(0, 1)])
    assert re.fullmatch(r"multipart/byteranges; boundary=[0-9a-f]{32}", layout.content_type)


@pytest.mark.parametrize(
    ("part_type", "size", "ranges", "boundary"),
    [
        pytest.param("text/plain", 10, [], "b", id="no-ranges"),
        pytest.param("text/plain", 10, [ByteRange(5, 10)], "b", id="range-past-end"),
        pytest.param("text/plain", 0, [ByteRange(0, 0)], "b", id="empty-representation"),
        pytest.param("text/plain\r\nX-Injected: 1", 10, [ByteRange(0, 1)], "b", id="crlf-in-type"),
        pytest.param("text/plain\x00", 10, [ByteRange(0, 1)], "b", id="nul-in-type"),
        pytest.param("text/\u20ac", 10, [ByteRange(0, 1)], "b", id="type-beyond-latin-1"),
        pytest.param(None, 10, [ByteRange(0, 1)], "", id="empty-boundary"),
        pytest.param(None, 10, [ByteRange(0, 1)], "x" * 71, id="boundary-too-long"),
        pytest.param(None, 10, [ByteRange(0, 1)], "trailing ", id="boundary-trailing-space"),
        pytest.param(None, 10, [ByteRange(0, 1)], 'quo"te', id="boundary-quote"),
        pytest.param(None, 10, [ByteRange(0, 1)], "line\r\nbreak", id="boundary-crlf"),
    ],
)
def test_new_rejects_bad_layouts(
    part_type: str | None, size: int, ranges: list[ByteRange], boundary: str | None
) -> None:
    with pytest.raises(ValueError):
        Layout.new(part_type, size, ranges, boundary=boundary)


def test_latin_1_content_type_is_allowed() -> None:
    layout = Layout.new("text/plain; title=caf\u00e9", 10, [ByteRange(0, 1)], boundary="b")
    _, header = next(layout.parts())
    assert b"Content-Type: text/plain; title=caf\xe9\r\n" in header


# Property tests: real ranges from parse_range over random data.

_data = st.binary(min_size=1, max_size=300)


@st.composite
def _layouts(draw: st.DrawFn) -> tuple[Layout, bytes]:
    data = draw(_data)
    size = len(data)
    count = draw(st.integers(min_value=1, max_value=8))
    starts = draw(st.lists(st.integers(min_value=0, max_value=size - 1), min_size=count, max_size=count))
    specs = ",".join(f"{s}-{draw(st.integers(min_value=s, max_value=size + 5))}" for s in starts)
    decision = parse_range(f"bytes={specs}", size)
    assert decision.outcome is RangeOutcome.SATISFIABLE
    part_type = draw(st.sampled_from([None, "application/octet-stream", "text/plain; charset=utf-8"]))
    return Layout.new(part_type, size, decision.ranges), data


@given(_layouts())
def test_content_length_equals_the_assembled_body(case: tuple[Layout, bytes]) -> None:
    layout, data = case
    assert layout.content_length == len(_assemble(layout, data))


@given(_layouts())
def test_body_splits_back_into_the_ranges(case: tuple[Layout, bytes]) -> None:
    layout, data = case
    body = _assemble(layout, data)
    delimiter = f"--{layout.boundary}".encode()
    assert body.startswith(delimiter + b"\r\n")
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n")
    inner = body[: -len(b"--\r\n")]
    chunks = inner.split(b"\r\n" + delimiter)
    chunks[0] = chunks[0].removeprefix(delimiter)
    assert len(chunks) == len(layout.ranges) + 1 and chunks[-1] == b""
    for chunk, byte_range in zip(chunks, layout.ranges, strict=False):
        head, _, payload = chunk.partition(b"\r\n\r\n")
        assert f"Content-Range: bytes {byte_range.first}-{byte_range.last}/{len(data)}".encode() in head
        assert payload == data[byte_range.first : byte_range.last + 1]


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz \r\n", min_size=1, max_size=200), st.data())
def test_standard_mime_parser_reads_the_body(text: str, draw: st.DataObject) -> None:
    data = text.encode()
    ranges = draw.draw(st.lists(st.integers(min_value=0, max_value=len(data) - 1), min_size=2, max_size=5))
    decision = parse_range("bytes=" + ",".join(f"{r}-{r + 3}" for r in ranges), len(data))
    layout = Layout.new("text/plain", len(data), decision.ranges)
    raw = f"Content-Type: {layout.content_type}\r\n\r\n".encode() + _assemble(layout, data)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts = list(message.iter_parts())
    assert message.get_content_type() == "multipart/byteranges"
    assert len(parts) == len(decision.ranges)
    for part, byte_range in zip(parts, decision.ranges, strict=True):
        assert part["Content-Range"] == f"bytes {byte_range.first}-{byte_range.last}/{len(data)}"
        assert part.get_content_type() == "text/plain"
        assert part.get_payload(decode=True) == data[byte_range.first : byte_range.last + 1]
