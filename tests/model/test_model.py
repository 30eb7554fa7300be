"""The model checked against the examples RFC 9110, RFC 6266 and RFC 8187 give, before it judges the proxy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.model import Expected, OutOfScope, Part, Representation, expected_response
from tests.model.disposition import BadDisposition, parse_disposition
from tests.model.multipart import BadMultipart, boundary_of, parse_parts
from tests.model.ranges import ByteRange, Decision, RangeAnswer, answer_range
from tests.model.validators import format_asctime, format_imf_fixdate, format_rfc850, parse_http_date

REP = Representation(
    data=bytes(range(256)) * 40,
    etag='"abc"',
    last_modified="Sun, 06 Nov 1994 08:49:37 GMT",
    content_type="application/pdf",
    metadata={"cache-control": "max-age=60"},
)


def partial(*pairs: tuple[int, int]) -> RangeAnswer:
    return RangeAnswer(Decision.PARTIAL, tuple(ByteRange(a, b) for a, b in pairs))


@pytest.mark.parametrize(
    ("value", "answer"),
    [
        pytest.param("bytes=0-499", partial((0, 499)), id="rfc-first-500"),
        pytest.param("bytes=500-999", partial((500, 999)), id="rfc-second-500"),
        pytest.param("bytes=-500", partial((9500, 9999)), id="rfc-final-500-suffix"),
        pytest.param("bytes=9500-", partial((9500, 9999)), id="rfc-final-500-open"),
        pytest.param("bytes=0-0,-1", partial((0, 0), (9999, 9999)), id="rfc-first-and-last"),
        pytest.param("bytes=500-600,601-999", partial((500, 999)), id="rfc-adjacent-coalesced"),
        pytest.param("bytes=500-700,601-999", partial((500, 999)), id="rfc-overlap-coalesced"),
        pytest.param("bytes=900-999,0-99", partial((900, 999), (0, 99)), id="request-order-kept"),
        pytest.param("bytes=900-999,0-99,50-950", partial((0, 999)), id="chain-coalesced"),
        pytest.param("BYTES = 0-1", RangeAnswer(Decision.IGNORE), id="space-in-unit-invalid"),
        pytest.param("bytes=0-9,x", RangeAnswer(Decision.IGNORE), id="one-bad-element-spoils-all"),
        pytest.param("bytes=5-1", RangeAnswer(Decision.IGNORE), id="inverted"),
        pytest.param("bytes=10000-", RangeAnswer(Decision.UNSATISFIABLE), id="first-at-size"),
        pytest.param("bytes=-0", RangeAnswer(Decision.UNSATISFIABLE), id="empty-suffix"),
        pytest.param("bytes=99999-,0-0", partial((0, 0)), id="unsatisfiable-member-dropped"),
        pytest.param("bytes=" + "9" * 5000 + "-", RangeAnswer(Decision.UNSATISFIABLE), id="5000-digit-first"),
        pytest.param("bytes=" + "1" * 5000 + "-" + "1" * 4999, RangeAnswer(Decision.IGNORE), id="huge-inverted"),
        pytest.param("bytes=0-1,3-4,6-7", RangeAnswer(Decision.IGNORE), id="over-max-ranges"),
    ],
)
def test_range_answers(value: str, answer: RangeAnswer) -> None:
    assert answer_range(value, 10_000, max_ranges=2) == answer


def test_empty_representation_satisfies_no_range() -> None:
    assert answer_range("bytes=0-", 0, 16).decision is Decision.UNSATISFIABLE
    assert answer_range("bytes=-5", 0, 16).decision is Decision.UNSATISFIABLE
    assert answer_range("bytes=a", 0, 16).decision is Decision.IGNORE


def test_rfc_date_formats_mean_the_same_moment() -> None:
    moment = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    examples = ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994")
    assert [parse_http_date(text) for text in examples] == [moment] * 3
    assert (format_imf_fixdate(moment), format_rfc850(moment), format_asctime(moment)) == examples


@pytest.mark.parametrize("text", ["", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT", "784111777"])
def test_invalid_dates(text: str) -> None:
    assert parse_http_date(text) is None


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"If-Match": '"x", "abc"'}, 200, id="if-match-list"),
        pytest.param({"If-Match": 'W/"abc"'}, 412, id="if-match-weak-is-not-strong"),
        pytest.param({"If-Match": '"x"', "If-None-Match": '"abc"'}, 412, id="if-match-before-if-none-match"),
        pytest.param({"If-Match": "*", "If-Unmodified-Since": "Sat, 05 Nov 1994 00:00:00 GMT"}, 200, id="ius-ignored"),
        pytest.param({"If-Unmodified-Since": "Sat, 05 Nov 1994 00:00:00 GMT"}, 412, id="modified-since-ius"),
        pytest.param({"If-None-Match": 'W/"abc"'}, 304, id="if-none-match-weak"),
        pytest.param({"If-None-Match": "*"}, 304, id="if-none-match-star"),
        pytest.param({"If-None-Match": '"x"', "If-Modified-Since": REP.last_modified}, 200, id="ims-ignored"),
        pytest.param({"If-Modified-Since": "Sunday, 06-Nov-94 08:49:37 GMT"}, 304, id="ims-equal-rfc850"),
        pytest.param({"If-Modified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"}, 200, id="ims-one-second-before"),
        pytest.param({"If-Modified-Since": "yesterday"}, 200, id="ims-invalid-ignored"),
        pytest.param({"Range": "bytes=0-0", "If-Range": '"abc"'}, 206, id="if-range-etag"),
        pytest.param({"Range": "bytes=0-0", "If-Range": 'W/"abc"'}, 200, id="if-range-weak"),
        pytest.param({"Range": "bytes=0-0", "If-Range": REP.last_modified}, 206, id="if-range-date"),
        pytest.param({"Range": "bytes=0-0", "If-Range": "Sun, 06 Nov 1994 08:49:38 GMT"}, 200, id="if-range-later"),
        pytest.param({"Range": "bytes=99999-", "If-None-Match": '"abc"'}, 304, id="preconditions-before-range"),
    ],
)
def test_precondition_order(headers: dict[str, str], status: int) -> None:
    assert expected_response(REP, "GET", headers).status == status


def test_expected_shapes() -> None:
    assert expected_response(REP, "HEAD", {"Range": "bytes=0-0"}) == Expected(
        200,
        {
            "etag": '"abc"',
            "last-modified": REP.last_modified,
            "content-type": "application/pdf",
            "cache-control": "max-age=60",
            "content-length": "10240",
            "accept-ranges": "bytes",
        },
        frozenset({"content-range"}),
        b"",
    )
    not_modified = expected_response(REP, "GET", {"If-None-Match": '"abc"'})
    assert not_modified.headers == {"etag": '"abc"', "last-modified": REP.last_modified, "cache-control": "max-age=60"}
    assert expected_response(REP, "GET", {"Range": "bytes=-1"}).body == REP.data[-1:]
    assert expected_response(REP, "GET", {"Range": "bytes=20000-"}).headers == {"content-range": "bytes */10240"}


def test_out_of_scope_inputs_are_refused() -> None:
    with pytest.raises(OutOfScope):
        expected_response(REP, "GET", {"If-Match": "abc"})
    gzip = Representation(b"x" * 10, '"g"', REP.last_modified, "text/plain", {"content-encoding": "gzip"})
    with pytest.raises(OutOfScope):
        expected_response(gzip, "GET", {"Range": "bytes=0-0,5-5"})


RFC_MULTIPART = (
    b"--THIS_STRING_SEPARATES\r\n"
    b"Content-Type: application/pdf\r\n"
    b"Content-Range: bytes 500-999/8000\r\n"
    b"\r\n"
    b"...the first range...\r\n"
    b"--THIS_STRING_SEPARATES\r\n"
    b"Content-Type: application/pdf\r\n"
    b"Content-Range: bytes 7000-7999/8000\r\n"
    b"\r\n"
    b"...the second range\r\n"
    b"--THIS_STRING_SEPARATES--\r\n"
)


def test_rfc_multipart_example() -> None:
    boundary = boundary_of("multipart/byteranges; boundary=THIS_STRING_SEPARATES")
    assert parse_parts(boundary, RFC_MULTIPART) == (
        Part("application/pdf", "bytes 500-999/8000", b"...the first range..."),
        Part("application/pdf", "bytes 7000-7999/8000", b"...the second range"),
    )


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        pytest.param("multipart/mixed; boundary=X", b"--X\r\n\r\n--X--", id="wrong-type"),
        pytest.param("multipart/byteranges", b"", id="no-boundary"),
        pytest.param("multipart/byteranges; boundary=THIS_STRING_SEPARATES", RFC_MULTIPART[:-28], id="unclosed"),
        pytest.param("multipart/byteranges; boundary=B", b"--B\nContent-Range: x\n\nab\r\n--B--", id="lf-only"),
    ],
)
def test_broken_multipart_is_rejected(content_type: str, payload: bytes) -> None:
    with pytest.raises(BadMultipart):
        parse_parts(boundary_of(content_type), payload)


@pytest.mark.parametrize(
    ("value", "kind", "parameters"),
    [
        pytest.param("Attachment; filename=example.html", "attachment", {"filename": "example.html"}, id="rfc6266-1"),
        pytest.param(
            "attachment; filename*= UTF-8''%e2%82%ac%20rates", "attachment", {"filename*": "€ rates"}, id="rfc6266-3"
        ),
        pytest.param(
            "attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates",
            "attachment",
            {"filename": "EURO rates", "filename*": "€ rates"},
            id="rfc6266-4",
        ),
        pytest.param('attachment; filename="a\\"b.pdf"', "attachment", {"filename": 'a"b.pdf'}, id="quoted-pair"),
    ],
)
def test_disposition_examples(value: str, kind: str, parameters: dict[str, str]) -> None:
    parsed = parse_disposition(value)
    assert (parsed.kind, parsed.parameters) == (kind, parameters)


@pytest.mark.parametrize(
    "value",
    [
        'attachment; filename="a"b.pdf"',
        "attachment; filename=a b.pdf",
        "attachment; filename*=UTF-8''a b",
        "attachment; filename*=UTF-8''%ff",
        'attachment; filename="a"; filename="b"',
    ],
)
def test_broken_disposition_is_rejected(value: str) -> None:
    with pytest.raises(BadDisposition):
        parse_disposition(value)
