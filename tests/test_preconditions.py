"""Tests for HTTP-dates, entity tags and precondition evaluation (RFC 9110 §5.6.7, §8.8.3, §13)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from service.http.dates import parse_http_date
from service.http.etags import EntityTag, EntityTagList, parse_entity_tag, parse_entity_tag_list
from service.http.preconditions import (
    IfRange,
    Outcome,
    Preconditions,
    S3Conditions,
    Verdict,
    decide,
    s3_conditions,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
SUNDAY = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
IMF = "Sun, 06 Nov 1994 08:49:37 GMT"
EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT"
LATER = "Sun, 06 Nov 1994 08:49:38 GMT"
ETAG = '"abc123"'

PROCEED = Outcome(Verdict.PROCEED)
PROCEED_RANGE = Outcome(Verdict.PROCEED, range_applies=True)
NOT_MODIFIED = Outcome(Verdict.NOT_MODIFIED)
FAILED = Outcome(Verdict.PRECONDITION_FAILED)


# HTTP-date (RFC 9110 §5.6.7)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(IMF, SUNDAY, id="imf-fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", SUNDAY, id="rfc850"),
        pytest.param("Sun Nov  6 08:49:37 1994", SUNDAY, id="asctime-one-digit-day"),
        pytest.param("Wed Nov 16 08:49:37 1994", SUNDAY + timedelta(days=10), id="asctime-two-digit-day"),
        pytest.param(f"  {IMF}\t", SUNDAY, id="surrounding-whitespace"),
        pytest.param("Sun, 06 Nov 1994 08:49:60 GMT", SUNDAY.replace(second=59), id="leap-second"),
        pytest.param("Mon, 06 Nov 1994 08:49:37 GMT", SUNDAY, id="day-name-not-checked"),
        pytest.param("Thu, 29 Feb 2024 00:00:00 GMT", datetime(2024, 2, 29, tzinfo=UTC), id="leap-day"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 +0000", None, id="numeric-zone"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 UTC", None, id="utc-zone-name"),
        pytest.param("Sun, 06 Nov 1994 08:49:37", None, id="missing-zone"),
        pytest.param("sun, 06 Nov 1994 08:49:37 GMT", None, id="lower-case-day"),
        pytest.param("Sun, 06 nov 1994 08:49:37 GMT", None, id="lower-case-month"),
        pytest.param("Sun, 6 Nov 1994 08:49:37 GMT", None, id="one-digit-day"),
        pytest.param("Sun, 06 Nov 94 08:49:37 GMT", None, id="two-digit-year-imf"),
        pytest.param("Sun, 06 Nov 1994 8:49:37 GMT", None, id="one-digit-hour"),
        pytest.param("Sun, 06 Nov 1994 08:49 GMT", None, id="missing-seconds"),
        pytest.param("Sun, 31 Feb 1994 08:49:37 GMT", None, id="impossible-day"),
        pytest.param("Sun, 06 Nov 1994 25:49:37 GMT", None, id="impossible-hour"),
        pytest.param("Sun, 06 Nov 0000 08:49:37 GMT", None, id="year-zero"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", None, id="list"),
        pytest.param("Sun, \u0660\u0666 Nov 1994 08:49:37 GMT", None, id="arabic-indic-digits"),
        pytest.param("Sun,  06 Nov 1994 08:49:37 GMT", None, id="double-space"),
        pytest.param("784111777", None, id="epoch-seconds"),
        pytest.param("1994-11-06T08:49:37Z", None, id="iso-8601"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_http_date(value: str, expected: datetime | None) -> None:
    assert parse_http_date(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "now", "year"),
    [
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", NOW, 1994, id="last-century"),
        pytest.param("Friday, 06-Jun-25 08:49:37 GMT", NOW, 2025, id="this-year"),
        pytest.param("Saturday, 01-Jun-75 12:00:00 GMT", NOW, 2075, id="exactly-50-years-ahead"),
        pytest.param("Saturday, 01-Jun-75 12:00:01 GMT", NOW, 1975, id="just-over-50-years-ahead"),
        pytest.param("Monday, 06-Nov-76 08:49:37 GMT", NOW, 1976, id="over-50-years-ahead"),
        pytest.param("Friday, 06-Nov-99 08:49:37 GMT", datetime(2070, 1, 1, tzinfo=UTC), 2099, id="later-now"),
    ],
)
def test_rfc850_two_digit_year_follows_the_50_year_rule(value: str, now: datetime, year: int) -> None:
    parsed = parse_http_date(value, now=now)
    assert parsed is not None
    assert parsed.year == year


def test_rfc850_year_defaults_to_the_clock() -> None:
    two_digits = datetime.now(UTC).year % 100
    parsed = parse_http_date(f"Monday, 01-Jan-{two_digits:02d} 00:00:00 GMT")
    assert parsed is not None
    assert parsed.year == datetime.now(UTC).year


def _cpu_time(parse: Callable[[str], object], value: str) -> float:
    """Best of five CPU times of ``parse(value)``, in seconds, garbage collector paused.

    CPU time of this process leaves out other processes competing for the machine.
    """
    gc.disable()
    try:
        times = []
        for _ in range(5):
            started = time.process_time()
            parse(value)
            times.append(time.process_time() - started)
        return min(times)
    finally:
        gc.enable()


def test_long_garbage_date_is_rejected_quickly() -> None:
    value = "Sun, 06 Nov 1994 " + "9" * 65536
    assert parse_http_date(value) is None
    assert _cpu_time(parse_http_date, value) < 0.050


# Entity tags (RFC 9110 §8.8.3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param('"abc"', EntityTag('"abc"'), id="strong"),
        pytest.param('W/"abc"', EntityTag('"abc"', weak=True), id="weak"),
        pytest.param('""', EntityTag('""'), id="empty-opaque"),
        pytest.param(' "abc" ', EntityTag('"abc"'), id="surrounding-whitespace"),
        pytest.param('"a,b"', EntityTag('"a,b"'), id="comma-inside"),
        pytest.param(
            '"d41d8cd98f00b204e9800998ecf8427e-3"', EntityTag('"d41d8cd98f00b204e9800998ecf8427e-3"'), id="s3"
        ),
        pytest.param('"caf\u00e9"', EntityTag('"caf\u00e9"'), id="obs-text"),
        pytest.param("abc", None, id="unquoted"),
        pytest.param('w/"abc"', None, id="lower-case-weak"),
        pytest.param('W/ "abc"', None, id="space-after-weak"),
        pytest.param('"a b"', None, id="space-inside"),
        pytest.param('"a"b"', None, id="quote-inside"),
        pytest.param('"abc', None, id="unterminated"),
        pytest.param('"\u20ac"', None, id="beyond-latin-1"),
        pytest.param('"a\x7f"', None, id="delete-character"),
        pytest.param("*", None, id="wildcard"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_entity_tag(value: str, expected: EntityTag | None) -> None:
    assert parse_entity_tag(value) == expected


def test_entity_tag_keeps_quotes_when_formatted() -> None:
    assert str(EntityTag('"x"')) == '"x"'
    assert str(EntityTag('"x"', weak=True)) == 'W/"x"'


@pytest.mark.parametrize(
    ("one", "other", "strong", "weak"),
    [
        # The comparison table of RFC 9110 §8.8.3.2.
        pytest.param('W/"1"', 'W/"1"', False, True, id="weak-weak-same"),
        pytest.param('W/"1"', 'W/"2"', False, False, id="weak-weak-different"),
        pytest.param('W/"1"', '"1"', False, True, id="weak-strong-same"),
        pytest.param('"1"', '"1"', True, True, id="strong-strong-same"),
        pytest.param('"1"', '"2"', False, False, id="strong-strong-different"),
    ],
)
def test_entity_tag_comparison(one: str, other: str, strong: bool, weak: bool) -> None:
    a, b = parse_entity_tag(one), parse_entity_tag(other)
    assert a is not None
    assert b is not None
    assert (a.strong_match(b), b.strong_match(a)) == (strong, strong)
    assert (a.weak_match(b), b.weak_match(a)) == (weak, weak)


def _tags(*values: str) -> tuple[EntityTag, ...]:
    return tuple(EntityTag(v[2:], weak=True) if v.startswith("W/") else EntityTag(v) for v in values)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("*", EntityTagList(wildcard=True), id="wildcard"),
        pytest.param(" * ", EntityTagList(wildcard=True), id="wildcard-whitespace"),
        pytest.param('"a"', EntityTagList(tags=_tags('"a"')), id="one"),
        pytest.param('"a", W/"b"', EntityTagList(tags=_tags('"a"', 'W/"b"')), id="two"),
        pytest.param('"a",W/"b" ,\t"c"', EntityTagList(tags=_tags('"a"', 'W/"b"', '"c"')), id="whitespace"),
        pytest.param('"a,b", "c"', EntityTagList(tags=_tags('"a,b"', '"c"')), id="comma-inside"),
        pytest.param(', "a",, "b",', EntityTagList(tags=_tags('"a"', '"b"')), id="empty-elements"),
        pytest.param("", EntityTagList(), id="empty"),
        pytest.param("garbage", EntityTagList(malformed=True), id="garbage"),
        pytest.param('garbage, "x"', EntityTagList(tags=_tags('"x"'), malformed=True), id="garbage-first"),
        pytest.param('"a" junk, "c"', EntityTagList(tags=_tags('"c"'), malformed=True), id="junk-after-tag"),
        pytest.param('"a""b"', EntityTagList(malformed=True), id="missing-comma"),
        pytest.param('"unterminated, "x"', EntityTagList(tags=_tags('"x"'), malformed=True), id="unterminated"),
        pytest.param('*, "a"', EntityTagList(tags=_tags('"a"'), malformed=True), id="wildcard-in-list"),
        pytest.param('w/"a"', EntityTagList(malformed=True), id="lower-case-weak"),
    ],
)
def test_parse_entity_tag_list(value: str, expected: EntityTagList) -> None:
    assert parse_entity_tag_list(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('"' + "a," * 32000, id="unterminated-with-commas"),
        pytest.param('W/"a,"' * 10000, id="tags-without-commas"),
        pytest.param('"a",' * 16000, id="many-tags"),
        pytest.param("," * 65536, id="commas"),
    ],
)
def test_64_kib_tag_list_is_parsed_in_linear_time(value: str) -> None:
    # Thousands of tags take tens of milliseconds; a quadratic scan would take seconds.
    assert _cpu_time(parse_entity_tag_list, value[:65536]) < 0.200


# decide (RFC 9110 §13.2.2)


def decide_on(
    method: str,
    headers: Mapping[str, str],
    etag: str | None,
    last_modified: datetime | None,
    *,
    now: datetime | None = None,
) -> Outcome:
    """:func:`decide` on ``headers`` as the object endpoint reads them."""
    return decide(method, Preconditions.from_headers(headers, now=now), etag, last_modified)


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        pytest.param("GET", {}, PROCEED, id="unconditional"),
        pytest.param("GET", {"range": "bytes=0-1"}, PROCEED_RANGE, id="range"),
        pytest.param("HEAD", {"range": "bytes=0-1"}, PROCEED, id="range-ignored-for-head"),
        pytest.param("POST", {"range": "bytes=0-1"}, PROCEED, id="range-ignored-for-post"),
        # Step 1: If-Match, strong comparison.
        pytest.param("GET", {"if-match": ETAG}, PROCEED, id="if-match-same"),
        pytest.param("GET", {"if-match": '"other"'}, FAILED, id="if-match-different"),
        pytest.param("GET", {"if-match": f'"x", {ETAG}'}, PROCEED, id="if-match-in-list"),
        pytest.param("GET", {"if-match": f"W/{ETAG}"}, FAILED, id="if-match-weak-never-matches"),
        pytest.param("GET", {"if-match": "*"}, PROCEED, id="if-match-wildcard"),
        pytest.param("GET", {"if-match": "garbage"}, FAILED, id="if-match-malformed"),
        pytest.param("GET", {"if-match": ""}, FAILED, id="if-match-empty"),
        pytest.param("DELETE", {"if-match": '"other"'}, FAILED, id="if-match-other-method"),
        # Step 2: If-Unmodified-Since, only without If-Match.
        pytest.param("GET", {"if-unmodified-since": EARLIER}, FAILED, id="ius-modified-after"),
        pytest.param("GET", {"if-unmodified-since": IMF}, PROCEED, id="ius-same-second"),
        pytest.param("GET", {"if-unmodified-since": LATER}, PROCEED, id="ius-not-modified"),
        pytest.param("GET", {"if-unmodified-since": "yesterday"}, PROCEED, id="ius-invalid-ignored"),
        pytest.param("GET", {"if-match": ETAG, "if-unmodified-since": EARLIER}, PROCEED, id="ius-after-if-match"),
        # Step 3: If-None-Match, weak comparison.
        pytest.param("GET", {"if-none-match": ETAG}, NOT_MODIFIED, id="inm-same"),
        pytest.param("HEAD", {"if-none-match": ETAG}, NOT_MODIFIED, id="inm-same-head"),
        pytest.param("GET", {"if-none-match": f"W/{ETAG}"}, NOT_MODIFIED, id="inm-weak-matches"),
        pytest.param("GET", {"if-none-match": f'"x", {ETAG}'}, NOT_MODIFIED, id="inm-in-list"),
        pytest.param("GET", {"if-none-match": "*"}, NOT_MODIFIED, id="inm-wildcard"),
        pytest.param("GET", {"if-none-match": '"other"'}, PROCEED, id="inm-different"),
        pytest.param("GET", {"if-none-match": "garbage"}, PROCEED, id="inm-malformed"),
        pytest.param("PUT", {"if-none-match": ETAG}, FAILED, id="inm-same-other-method"),
        pytest.param("POST", {"if-none-match": "*"}, FAILED, id="inm-wildcard-other-method"),
        # Step 4: If-Modified-Since, GET and HEAD only, only without If-None-Match.
        pytest.param("GET", {"if-modified-since": IMF}, NOT_MODIFIED, id="ims-same-second"),
        pytest.param("HEAD", {"if-modified-since": LATER}, NOT_MODIFIED, id="ims-later"),
        pytest.param("GET", {"if-modified-since": EARLIER}, PROCEED, id="ims-modified"),
        pytest.param("GET", {"if-modified-since": "garbage"}, PROCEED, id="ims-invalid-ignored"),
        pytest.param("POST", {"if-modified-since": LATER}, PROCEED, id="ims-ignored-for-post"),
        pytest.param("GET", {"if-none-match": '"x"', "if-modified-since": LATER}, PROCEED, id="ims-after-inm"),
        pytest.param(
            "GET",
            {"if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT"},
            NOT_MODIFIED,
            id="ims-rfc850",
        ),
        pytest.param("GET", {"if-modified-since": "Sun Nov  6 08:49:37 1994"}, NOT_MODIFIED, id="ims-asctime"),
        # Order between steps.
        pytest.param("GET", {"if-match": '"x"', "if-none-match": ETAG}, FAILED, id="if-match-before-inm"),
        pytest.param("GET", {"if-unmodified-since": EARLIER, "if-none-match": ETAG}, FAILED, id="ius-before-inm"),
        pytest.param("GET", {"if-match": ETAG, "if-none-match": ETAG}, NOT_MODIFIED, id="if-match-then-inm"),
        pytest.param(
            "GET",
            {"if-none-match": ETAG, "range": "bytes=0-1"},
            NOT_MODIFIED,
            id="not-modified-has-no-range",
        ),
        # Step 5: If-Range.
        pytest.param("GET", {"range": "bytes=0-1", "if-range": ETAG}, PROCEED_RANGE, id="if-range-etag"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": '"x"'}, PROCEED, id="if-range-other-etag"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": f"W/{ETAG}"}, PROCEED, id="if-range-weak"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": IMF}, PROCEED_RANGE, id="if-range-date"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": LATER}, PROCEED, id="if-range-later-date"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": EARLIER}, PROCEED, id="if-range-earlier-date"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": "garbage"}, PROCEED, id="if-range-garbage"),
        pytest.param("GET", {"if-range": ETAG}, PROCEED, id="if-range-without-range"),
        pytest.param("HEAD", {"range": "bytes=0-1", "if-range": ETAG}, PROCEED, id="if-range-head"),
        pytest.param(
            "GET",
            {"range": "bytes=0-1", "if-range": ETAG, "if-match": ETAG},
            PROCEED_RANGE,
            id="if-range-after-if-match",
        ),
    ],
)
def test_decide(method: str, headers: dict[str, str], expected: Outcome) -> None:
    # Last-Modified carries sub-second precision from S3; comparisons use whole seconds.
    last_modified = SUNDAY + timedelta(microseconds=250_000)
    assert decide_on(method, headers, ETAG, last_modified, now=NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"if-match": "*"}, PROCEED, id="if-match-wildcard"),
        pytest.param({"if-match": ETAG}, FAILED, id="if-match-tag"),
        pytest.param({"if-none-match": ETAG}, PROCEED, id="inm-tag"),
        pytest.param({"if-none-match": "*"}, NOT_MODIFIED, id="inm-wildcard"),
        pytest.param({"if-modified-since": LATER}, PROCEED, id="ims-without-last-modified"),
        pytest.param({"if-unmodified-since": EARLIER}, PROCEED, id="ius-without-last-modified"),
        pytest.param({"range": "bytes=0-1", "if-range": IMF}, PROCEED, id="if-range-date"),
        pytest.param({"range": "bytes=0-1", "if-range": ETAG}, PROCEED, id="if-range-etag"),
    ],
)
def test_decide_without_validators(headers: dict[str, str], expected: Outcome) -> None:
    assert decide_on("GET", headers, None, None, now=NOW) == expected


def test_decide_with_weak_representation_etag() -> None:
    weak = f"W/{ETAG}"
    assert decide_on("GET", {"if-match": weak}, weak, None) == FAILED
    assert decide_on("GET", {"if-none-match": ETAG}, weak, None) == NOT_MODIFIED
    assert decide_on("GET", {"range": "bytes=0-1", "if-range": weak}, weak, None) == PROCEED


def test_decide_compares_dates_across_time_zones() -> None:
    plus_two = timezone(timedelta(hours=2))
    last_modified = SUNDAY.astimezone(plus_two)
    assert decide_on("GET", {"if-modified-since": IMF}, None, last_modified) == NOT_MODIFIED
    assert decide_on("GET", {"if-modified-since": EARLIER}, None, last_modified) == PROCEED


def test_decide_reads_starlette_headers_case_insensitively() -> None:
    headers = Headers({"If-None-Match": ETAG, "Range": "bytes=0-1"})
    assert decide_on("GET", headers, ETAG, SUNDAY) == NOT_MODIFIED
    headers = Headers({"RANGE": "bytes=0-1", "If-Range": ETAG})
    assert decide_on("GET", headers, ETAG, SUNDAY) == PROCEED_RANGE


@pytest.mark.parametrize(
    ("etag", "last_modified"),
    [
        pytest.param("abc", SUNDAY, id="unquoted-etag"),
        pytest.param(ETAG, datetime(1994, 11, 6, 8, 49, 37), id="naive-last-modified"),
    ],
)
def test_decide_rejects_bad_validators(etag: str, last_modified: datetime) -> None:
    with pytest.raises(ValueError):
        decide_on("GET", {}, etag, last_modified)
    with pytest.raises(ValueError):
        decide_on("GET", {"range": "bytes=0-1", "if-range": ETAG}, etag, last_modified)


def test_outcome_status() -> None:
    assert PROCEED.status is None
    assert NOT_MODIFIED.status == 304
    assert FAILED.status == 412


def test_from_headers_parses_each_field_once() -> None:
    headers = {"if-none-match": '"x"', "range": "bytes=0-1", "if-range": ETAG}
    conditions = Preconditions.from_headers(headers)
    assert conditions.has_range
    assert conditions.if_none_match == EntityTagList(tags=(EntityTag('"x"'),))
    assert conditions.if_range == IfRange(tag=EntityTag(ETAG))
    assert decide("GET", conditions, ETAG, SUNDAY) == PROCEED_RANGE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(ETAG, IfRange(tag=EntityTag(ETAG)), id="strong-tag"),
        pytest.param(f" W/{ETAG} ", IfRange(tag=EntityTag(ETAG, weak=True)), id="weak-tag"),
        pytest.param(IMF, IfRange(date=SUNDAY), id="imf-fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", IfRange(date=SUNDAY), id="rfc850"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 +0000", IfRange(), id="not-an-http-date"),
        pytest.param(f"{ETAG}, {ETAG}", IfRange(), id="list"),
        pytest.param("", IfRange(), id="empty"),
    ],
)
def test_if_range_parse(value: str, expected: IfRange) -> None:
    assert IfRange.parse(value, now=NOW) == expected


def test_if_range_holds() -> None:
    def holds(value: str, etag: str | None, last_modified: datetime | None) -> bool:
        return decide_on("GET", {"range": "bytes=0-1", "if-range": value}, etag, last_modified).range_applies

    assert holds(ETAG, ETAG, None)
    assert not holds(f"W/{ETAG}", ETAG, None)
    assert holds(IMF, None, SUNDAY + timedelta(microseconds=1))
    assert not holds(IMF, ETAG, None)
    assert not IfRange().holds(EntityTag(ETAG), SUNDAY)


@given(
    headers=st.dictionaries(
        st.sampled_from(["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "range"]),
        st.text(max_size=40),
    ),
    method=st.sampled_from(["GET", "HEAD", "POST", "get"]),
)
def test_any_header_text_gets_an_outcome(headers: dict[str, str], method: str) -> None:
    outcome = decide_on(method, headers, ETAG, SUNDAY, now=NOW)
    assert outcome.status in (None, 304, 412)
    assert not outcome.range_applies or (method == "GET" and "range" in headers)


# Delegation to S3's conditional parameters


def _s3(headers: dict[str, str], method: str = "GET") -> S3Conditions | None:
    return s3_conditions(method, Preconditions.from_headers(headers, now=NOW))


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        pytest.param("GET", {}, {}, id="unconditional"),
        pytest.param("GET", {"if-match": ETAG}, {"IfMatch": ETAG}, id="if-match"),
        pytest.param("HEAD", {"if-match": ETAG}, {"IfMatch": ETAG}, id="if-match-head"),
        pytest.param("GET", {"if-match": "*"}, {}, id="if-match-wildcard-dropped"),
        pytest.param("GET", {"if-match": "*", "if-unmodified-since": IMF}, {}, id="ius-dropped-with-wildcard"),
        pytest.param("GET", {"if-match": ETAG, "if-unmodified-since": IMF}, {"IfMatch": ETAG}, id="ius-dropped"),
        pytest.param("GET", {"if-unmodified-since": IMF}, {"IfUnmodifiedSince": SUNDAY}, id="ius"),
        pytest.param("GET", {"if-none-match": ETAG}, {"IfNoneMatch": ETAG}, id="inm"),
        pytest.param("GET", {"if-none-match": ETAG, "if-modified-since": IMF}, {"IfNoneMatch": ETAG}, id="ims-dropped"),
        pytest.param("GET", {"if-modified-since": IMF}, {"IfModifiedSince": SUNDAY}, id="ims"),
        pytest.param(
            "GET", {"if-modified-since": "Sun Nov  6 08:49:37 1994"}, {"IfModifiedSince": SUNDAY}, id="ims-asctime"
        ),
        pytest.param("GET", {"if-modified-since": "soon"}, {}, id="invalid-ims-dropped"),
        pytest.param("GET", {"range": "bytes=0-1", "if-range": ETAG}, {}, id="if-range-not-delegated"),
        pytest.param("GET", {"if-match": f"W/{ETAG}"}, None, id="if-match-weak"),
        pytest.param("GET", {"if-match": f'{ETAG}, "b"'}, None, id="if-match-list"),
        pytest.param("GET", {"if-match": "garbage"}, None, id="if-match-malformed"),
        pytest.param("GET", {"if-match": ""}, None, id="if-match-empty"),
        pytest.param("GET", {"if-none-match": f"W/{ETAG}"}, None, id="inm-weak"),
        pytest.param("GET", {"if-none-match": "*"}, None, id="inm-wildcard"),
        pytest.param("GET", {"if-none-match": f'{ETAG}, "b"'}, None, id="inm-list"),
        pytest.param("GET", {"if-none-match": f"{ETAG}, junk"}, None, id="inm-malformed"),
        pytest.param("GET", {"if-match": ETAG, "if-none-match": '"b"'}, None, id="412-and-304-tags"),
        pytest.param("GET", {"if-unmodified-since": IMF, "if-modified-since": IMF}, None, id="412-and-304-dates"),
        pytest.param("GET", {"if-match": ETAG, "if-modified-since": IMF}, None, id="if-match-and-ims"),
        pytest.param("GET", {"if-match": "*", "if-none-match": ETAG}, {"IfNoneMatch": ETAG}, id="wildcard-and-inm"),
        pytest.param("POST", {"if-match": ETAG}, None, id="other-method"),
    ],
)
def test_s3_conditions(method: str, headers: dict[str, str], expected: dict[str, object] | None) -> None:
    delegated = _s3(headers, method)
    assert (None if delegated is None else delegated.params()) == expected


_POOL_TAGS = ['"a"', '"b"', 'W/"a"', "*", '"a", "b"', "junk"]
_POOL_DATES = [EARLIER, IMF, LATER, "junk"]


def _s3_model(params: dict[str, str | datetime], etag: str, last_modified: datetime) -> Verdict:
    """S3's documented conditional reads: one condition of each kind, strong ETags."""
    if "IfMatch" in params and params["IfMatch"] != etag:
        return Verdict.PRECONDITION_FAILED
    since = params.get("IfUnmodifiedSince")
    if isinstance(since, datetime) and last_modified > since:
        return Verdict.PRECONDITION_FAILED
    if "IfNoneMatch" in params and params["IfNoneMatch"] == etag:
        return Verdict.NOT_MODIFIED
    since = params.get("IfModifiedSince")
    if isinstance(since, datetime) and last_modified <= since:
        return Verdict.NOT_MODIFIED
    return Verdict.PROCEED


@given(
    if_match=st.none() | st.sampled_from(_POOL_TAGS),
    if_none_match=st.none() | st.sampled_from(_POOL_TAGS),
    ims=st.none() | st.sampled_from(_POOL_DATES),
    ius=st.none() | st.sampled_from(_POOL_DATES),
    etag=st.sampled_from(['"a"', '"b"', '"c"']),
    seconds=st.integers(min_value=-2, max_value=2),
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_delegated_conditions_decide_as_decide_does(
    if_match: str | None,
    if_none_match: str | None,
    ims: str | None,
    ius: str | None,
    etag: str,
    seconds: int,
    method: str,
) -> None:
    named = {"if-match": if_match, "if-none-match": if_none_match}
    named |= {"if-modified-since": ims, "if-unmodified-since": ius}
    headers = {name: value for name, value in named.items() if value is not None}
    delegated = _s3(headers, method)
    if delegated is None:
        return
    last_modified = SUNDAY + timedelta(seconds=seconds)
    expected = decide_on(method, headers, etag, last_modified, now=NOW).verdict
    assert _s3_model(delegated.params(), etag, last_modified) is expected
