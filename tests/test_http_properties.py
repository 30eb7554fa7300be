"""Property-based comparison of the proxy with the RFC 9110 reference model in ``tests.model``.

Hypothesis draws an object (sizes 0 to 150,000 bytes), a method, a ``Range`` field (valid,
invalid, inverted, overlapping, huge numbers, odd case and whitespace) and validator fields
(matching, non-matching, weak, ``*``, lists; dates before, equal to and after Last-Modified in all
three HTTP-date formats, and invalid ones). Each request goes to the real proxy over loopback, in
front of a real fake S3, and its status, fields and body must be what the model predicts.

Strategies are static: validators are drawn as symbols (:class:`Tags`, :class:`Date`) and
resolved against the seeded object's real ETag and Last-Modified inside the test, so the same
choices always give the same request when Hypothesis replays or shrinks an example.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from tests.model import OutOfScope, Representation, expected_response
from tests.model.compare import differences
from tests.model.harness import SAMPLES, TRANSPORTS, Site, Transport, fetch, http_client, seed
from tests.model.validators import format_asctime, format_imf_fixdate, format_rfc850, parse_http_date
from tests.support.backends import Backend

EXAMPLES = 2_000
"""Examples per backend and transport."""

MAX_RANGES = (16, 3)
"""Two proxies per site: the default limit, and a low one the generated range sets often exceed."""

SIZES = {sample.key: len(sample.data) for sample in SAMPLES}
HUGE = (2**63 - 1, 2**63, 2**64, 2**64 + 1, 10**30, int("9" * 100))
T = TypeVar("T")


@pytest.fixture(scope="module", params=["moto", "s3rver"])
def site(request: pytest.FixtureRequest, backends: dict[str, Backend]) -> Site:
    """Every sample, seeded once per backend."""
    return seed(backends[request.param], f"props-{uuid.uuid4().hex[:16]}", SAMPLES)


@pytest.fixture(scope="module", params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Transport:
    """How the proxy is served (adding a transport to ``TRANSPORTS`` runs everything on it too)."""
    return TRANSPORTS[request.param]


@pytest.fixture(scope="module")
def targets(site: Site, transport: Transport) -> Iterator[dict[int, str]]:
    """Base URL of a proxy on ``site`` for each ``max_ranges`` setting."""
    with ExitStack() as stack:
        yield {limit: stack.enter_context(transport(site.settings(max_ranges=limit))) for limit in MAX_RANGES}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with http_client() as shared:
        yield shared


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Draw from one of ``choices`` with probability proportional to its weight.

    ``st.one_of`` picks evenly among distinct strategies (repeating one does not weight it).
    Every choice is drawn and one kept, so the choice sequence has a fixed shape; shrinking
    goes towards the first choice.
    """
    slots = [index for index, (weight, _) in enumerate(choices) for _ in range(weight)]
    return st.tuples(st.sampled_from(slots), *(strategy for _, strategy in choices)).map(
        lambda drawn: drawn[1 + drawn[0]]
    )


# --- Range --------------------------------------------------------------------------------------


def positions(size: int) -> st.SearchStrategy[int]:
    """Byte positions around the object's edges, and far past 64 bits."""
    return st.one_of(st.integers(0, size + 2), st.sampled_from(HUGE))


def range_specs(size: int) -> st.SearchStrategy[str]:
    """One list element: int-range, suffix-range, an inverted int-range, or something else."""
    zeros = st.sampled_from(["", "", "", "00"])
    spans = weighted((2, st.none()), (5, st.integers(0, size + 2)), (1, st.sampled_from(HUGE)))
    int_range = st.builds(
        lambda pad, first, span: f"{pad}{first}-{'' if span is None else first + span}", zeros, positions(size), spans
    )
    inverted = st.builds(lambda last, back: f"{last + back}-{last}", positions(size), st.integers(1, 3))
    suffix = st.builds(lambda n: f"-{n}", positions(size))
    invalid = st.sampled_from(["abc", "1-2-3", "- 5", "5 -", "1.5-2", "0x10-", "+1-2", "-", "=", "-1-", "1--2"])
    return weighted((12, int_range), (6, suffix), (1, inverted), (1, invalid))


def range_fields(size: int) -> st.SearchStrategy[str]:
    """A whole ``Range`` field value for an object of ``size`` bytes."""
    units = weighted(
        (12, st.just("bytes")), (1, st.sampled_from(["Bytes", "BYTES", "bYtEs", "items", "byte", "bytes "]))
    )
    separators = st.sampled_from([",", ",", ", ", " ,", ",\t", ",,", " , "])
    edges = st.sampled_from(["", "", "", " ", "\t", ",", ", "])
    listed = st.builds(
        lambda unit, lead, specs, separator, tail: f"{unit}={lead}{separator.join(specs)}{tail}",
        units,
        edges,
        st.lists(range_specs(size), min_size=0, max_size=5),
        separators,
        edges,
    )
    # Many ranges that do not coalesce, around both max_ranges limits.
    many = st.builds(
        lambda unit, count: f"{unit}=" + ",".join(f"{2 * i}-{2 * i}" for i in range(count)),
        units,
        st.sampled_from([2, 3, 4, 15, 16, 17, 20]),
    )
    short = st.lists(st.tuples(st.integers(0, size + 2), st.integers(0, 3)), min_size=2, max_size=6).map(
        lambda pairs: "bytes=" + ", ".join(f"{first}-{first + span}" for first, span in pairs)
    )
    odd = st.sampled_from(["bytes 0-1", "0-1", "", "bytes", "bytes=", "bytes=,"])
    # A field value cannot end in whitespace on the wire (RFC 9110 §5.5): any parser trims it,
    # and the client refuses to send it.
    return weighted((6, listed), (2, short), (1, many), (1, odd)).map(lambda value: value.rstrip(" \t"))


# --- Validators, as symbols resolved against the real object --------------------------------------

Field = Callable[[Representation], str]
"""A field value that depends on the object's validators."""


@dataclass(frozen=True)
class Text:
    """A value that does not depend on the object."""

    text: str

    def __call__(self, rep: Representation) -> str:
        return self.text


@dataclass(frozen=True)
class Tags:
    """A list of entity-tags named by role: ``etag``, ``weak`` (``W/`` + ETag), ``near`` (one
    character more), ``other``, ``quoted-star`` (``"*"``, a tag, not the wildcard), ``empty``."""

    members: tuple[str, ...]
    separator: str

    def __call__(self, rep: Representation) -> str:
        spelled = {
            "etag": rep.etag,
            "weak": f"W/{rep.etag}",
            "near": f'"{rep.etag[1:-1]}x"',
            "other": '"0123456789abcdef"',
            "quoted-star": '"*"',
            "empty": '""',
        }
        return self.separator.join(spelled[member] for member in self.members)


@dataclass(frozen=True)
class Date:
    """Last-Modified moved by ``offset`` seconds, written in ``style`` (an HTTP-date format)."""

    offset: int
    style: str

    def __call__(self, rep: Representation) -> str:
        moment = parse_http_date(rep.last_modified)
        assert moment is not None
        write = {"imf": format_imf_fixdate, "rfc850": format_rfc850, "asctime": format_asctime}[self.style]
        return write(moment + timedelta(seconds=self.offset))


@dataclass(frozen=True)
class NotADate:
    """Last-Modified spoiled into something that is not an HTTP-date, or a fixed non-date."""

    how: str

    def __call__(self, rep: Representation) -> str:
        spoiled = {
            "utc": rep.last_modified.replace("GMT", "UTC"),
            "suffix": f"{rep.last_modified} x",
            "iso": str(parse_http_date(rep.last_modified)),
        }
        return spoiled.get(self.how, self.how)


def tag_lists() -> st.SearchStrategy[Field]:
    """``If-Match``/``If-None-Match`` values: ``*`` or lists of matching, weak and other tags."""
    roles = st.sampled_from(["etag", "weak", "near", "other", "quoted-star", "empty"])
    listed = st.builds(
        Tags, st.lists(roles, min_size=1, max_size=3).map(tuple), st.sampled_from([", ", ",", " , ", ",,"])
    )
    return weighted((1, st.just(Text("*"))), (4, listed))


def dates(styles: tuple[str, ...] = ("imf", "rfc850", "asctime")) -> st.SearchStrategy[Field]:
    """HTTP-dates before, equal to and after Last-Modified, and values that are not dates."""
    offsets = st.sampled_from([-400 * 86400, -86400, -1, 0, 0, 1, 86400])
    valid = st.builds(Date, offsets, st.sampled_from(styles))
    invalid = st.builds(NotADate, st.sampled_from(["utc", "suffix", "iso", "", "yesterday", "0"]))
    return weighted((3, valid), (1, invalid))


def if_range_values() -> st.SearchStrategy[Field]:
    """``If-Range``: the ETag, its weak form, another tag, an IMF-fixdate, or neither."""
    return weighted(
        (2, st.just(Tags(("etag",), ""))),
        (2, st.sampled_from([Tags(("weak",), ""), Tags(("other",), ""), Text("garbage")])),
        (2, dates(("imf",))),
    )


def sometimes(strategy: st.SearchStrategy[T], percent: int) -> st.SearchStrategy[T | None]:
    """A value from ``strategy`` in about ``percent`` % of draws, else ``None`` (which shrinks first)."""
    return st.tuples(st.integers(1, 100), strategy).map(lambda pair: pair[1] if pair[0] > 100 - percent else None)


@dataclass(frozen=True)
class Request:
    """A drawn request, before its validator symbols meet the real object."""

    key: str
    method: str
    max_ranges: int
    fields: dict[str, Field]

    def headers(self, rep: Representation) -> dict[str, str]:
        """The header fields to send for ``rep``."""
        return {name: value(rep) for name, value in self.fields.items()}


def requests_for(key: str) -> st.SearchStrategy[Request]:
    """Requests for the sample ``key``, each field present in some share of them."""
    candidates: dict[str, st.SearchStrategy[Field | None]] = {
        "Range": sometimes(range_fields(SIZES[key]).map(Text), 90),
        "If-Match": sometimes(tag_lists(), 10),
        "If-None-Match": sometimes(tag_lists(), 15),
        "If-Modified-Since": sometimes(dates(), 15),
        "If-Unmodified-Since": sometimes(dates(), 10),
        "If-Range": sometimes(if_range_values(), 20),
    }
    fields = st.fixed_dictionaries(candidates).map(
        lambda drawn: {name: value for name, value in drawn.items() if value is not None}
    )
    methods = weighted((5, st.just("GET")), (1, st.just("HEAD")))
    return st.builds(Request, st.just(key), methods, st.sampled_from(MAX_RANGES), fields)


REQUESTS = st.one_of([requests_for(key) for key in sorted(SIZES)])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(request=REQUESTS)
def test_proxy_agrees_with_the_model(
    request: Request, site: Site, transport: Transport, targets: dict[int, str], client: httpx.Client
) -> None:
    rep = site.objects[request.key]
    headers = request.headers(rep)
    note(f"{request.method} /{request.key} max_ranges={request.max_ranges} {headers}")
    try:
        expected = expected_response(rep, request.method, headers, request.max_ranges)
    except OutOfScope:
        reject()
    reply = fetch(client, request.method, f"{targets[request.max_ranges]}/{request.key}", headers)
    assert differences(expected, reply, declares_length=transport.declares_length) == []
