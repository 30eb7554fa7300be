"""Conditional requests: evaluating preconditions (RFC 9110 §13).

:meth:`Preconditions.from_headers` parses a request's conditional fields once;
:func:`decide` then answers, for a representation that exists, whether to proceed (and
whether a ``Range`` header still applies), answer 304 Not Modified, or answer 412
Precondition Failed, following the order of RFC 9110 §13.2.2.

:func:`s3_conditions` says when the same decision can be left to S3 by passing the
GetObject / HeadObject conditional parameters verbatim, and gives their values.

Preconditions are only evaluated when the request without them would succeed
(RFC 9110 §13.2.1): a missing object is a 404 whatever its preconditions say, so the
caller evaluates only once it knows the representation's validators.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from service.http.dates import parse_http_date
from service.http.etags import EntityTag, EntityTagList, parse_entity_tag, parse_entity_tag_list

if TYPE_CHECKING:
    from service.s3 import ReadParams

_SAFE_METHODS = frozenset({"GET", "HEAD"})


class Verdict(enum.Enum):
    """What the preconditions decide (RFC 9110 §13.2.2)."""

    PROCEED = "proceed"
    """Perform the method as if there were no preconditions."""

    NOT_MODIFIED = "not-modified"
    """Answer 304 Not Modified (RFC 9110 §15.4.5)."""

    PRECONDITION_FAILED = "precondition-failed"
    """Answer 412 Precondition Failed (RFC 9110 §15.5.13)."""


_STATUS = {Verdict.NOT_MODIFIED: 304, Verdict.PRECONDITION_FAILED: 412}


@dataclass(frozen=True)
class Outcome:
    """The result of :func:`decide`.

    Attributes:
        verdict: proceed, 304 or 412.
        range_applies: when proceeding, whether the ``Range`` header is to be honoured:
            the method is GET, a ``Range`` header was sent, and ``If-Range`` is absent
            or holds (RFC 9110 §13.2.2 step 5, §14.2). Always False for 304 and 412.
    """

    verdict: Verdict
    range_applies: bool = False

    @property
    def status(self) -> int | None:
        """304 or 412 when the preconditions decide the answer, else None."""
        return _STATUS.get(self.verdict)


@dataclass(frozen=True)
class IfRange:
    """An ``If-Range`` field value, parsed (RFC 9110 §13.1.5).

    At most one attribute is set. Neither means the value is neither an entity-tag nor
    an HTTP-date: such an ``If-Range`` never holds, and the whole representation is sent.

    Attributes:
        tag: the entity-tag; a weak one never holds (§13.1.5 compares strongly).
        date: the HTTP-date, an aware UTC datetime with whole seconds.
    """

    tag: EntityTag | None = None
    date: datetime | None = None

    @classmethod
    def parse(cls, value: str, *, now: datetime | None = None) -> IfRange:
        """Read an ``If-Range`` value: an entity-tag, else an HTTP-date, else unusable.

        ``now`` is passed to :func:`~service.http.dates.parse_http_date`.
        """
        tag = parse_entity_tag(value)
        if tag is not None:
            return cls(tag=tag)
        return cls(date=parse_http_date(value, now=now))

    def holds(self, etag: EntityTag | None, last_modified: datetime | None) -> bool:
        """Whether the ``Range`` header applies to a representation with these validators.

        An entity-tag must strongly match ``etag``; a date must equal ``last_modified``
        (whole seconds) exactly (RFC 9110 §13.1.5).
        """
        if self.tag is not None:
            return etag is not None and self.tag.strong_match(etag)
        return self.date is not None and self.date == last_modified


@dataclass(frozen=True)
class Preconditions:
    """The conditional header fields of a request, parsed (RFC 9110 §13.1).

    Attributes:
        if_match: ``If-Match``, or None when absent.
        if_none_match: ``If-None-Match``, or None when absent.
        if_modified_since: ``If-Modified-Since``, or None when absent or not a valid
            HTTP-date (RFC 9110 §13.1.3 says to ignore it then).
        if_unmodified_since: ``If-Unmodified-Since``, likewise (RFC 9110 §13.1.4).
        if_range: ``If-Range``, or None when absent.
        has_range: whether a ``Range`` header was sent.
    """

    if_match: EntityTagList | None = None
    if_none_match: EntityTagList | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None
    if_range: IfRange | None = None
    has_range: bool = False

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], *, now: datetime | None = None) -> Preconditions:
        """Read the fields from a mapping with lower-case names (e.g. Starlette's ``Headers``).

        A list field sent on several lines must be joined with ``", "`` first (RFC 9110
        §5.3). ``now`` is passed to :func:`~service.http.dates.parse_http_date`.
        """
        if_match = headers.get("if-match")
        if_none_match = headers.get("if-none-match")
        if_range = headers.get("if-range")
        return cls(
            if_match=None if if_match is None else parse_entity_tag_list(if_match),
            if_none_match=None if if_none_match is None else parse_entity_tag_list(if_none_match),
            if_modified_since=_date(headers.get("if-modified-since"), now),
            if_unmodified_since=_date(headers.get("if-unmodified-since"), now),
            if_range=None if if_range is None else IfRange.parse(if_range, now=now),
            has_range="range" in headers,
        )


def decide(method: str, conditions: Preconditions, etag: str | None, last_modified: datetime | None) -> Outcome:
    """Decide on parsed preconditions, following RFC 9110 §13.2.2 in order.

    1. ``If-Match`` present: false (strong comparison) gives 412.
    2. Else ``If-Unmodified-Since`` valid: modified after the date gives 412.
    3. ``If-None-Match`` present: true (weak comparison) gives 304 for GET and HEAD,
       412 for other methods.
    4. Else, for GET and HEAD, ``If-Modified-Since`` valid: not modified after the
       date gives 304.
    5. For GET with ``Range``, ``If-Range`` decides whether the range applies.

    Dates compare at one-second granularity (Last-Modified has no finer resolution).
    A date condition is skipped when the representation has no Last-Modified. The
    "state-changing request has already succeeded" exception of steps 1 and 2 needs
    knowledge only the method's own handler has, and does not arise for GET and HEAD.

    Args:
        method: the request method, case-sensitive (RFC 9110 §9.1).
        conditions: the request's fields, from :meth:`Preconditions.from_headers`.
        etag: the representation's ``ETag`` field value (e.g. S3's ``"abc..."``),
            or None when it has none.
        last_modified: the representation's modification time, timezone-aware, or None.

    Raises:
        ValueError: when ``etag`` is not an entity-tag or ``last_modified`` is naive.
    """
    tag, seconds = _validator(etag), _seconds(last_modified)
    verdict = _verdict(method, conditions, tag, seconds)
    if verdict is not Verdict.PROCEED:
        return Outcome(verdict)
    range_applies = method == "GET" and conditions.has_range
    if range_applies and conditions.if_range is not None:
        range_applies = conditions.if_range.holds(tag, seconds)
    return Outcome(Verdict.PROCEED, range_applies)


def _verdict(method: str, conditions: Preconditions, etag: EntityTag | None, last_modified: datetime | None) -> Verdict:
    """Steps 1 to 4 of RFC 9110 §13.2.2."""
    if conditions.if_match is not None:
        if not conditions.if_match.strong_match(etag):
            return Verdict.PRECONDITION_FAILED
    elif _modified_after(last_modified, conditions.if_unmodified_since):
        return Verdict.PRECONDITION_FAILED
    safe = method in _SAFE_METHODS
    if conditions.if_none_match is not None:
        if conditions.if_none_match.weak_match(etag):
            return Verdict.NOT_MODIFIED if safe else Verdict.PRECONDITION_FAILED
    elif safe and _not_modified_since(last_modified, conditions.if_modified_since):
        return Verdict.NOT_MODIFIED
    return Verdict.PROCEED


def _modified_after(last_modified: datetime | None, date: datetime | None) -> bool:
    return last_modified is not None and date is not None and last_modified > date


def _not_modified_since(last_modified: datetime | None, date: datetime | None) -> bool:
    return last_modified is not None and date is not None and last_modified <= date


def _date(value: str | None, now: datetime | None) -> datetime | None:
    return None if value is None else parse_http_date(value, now=now)


def _validator(etag: str | None) -> EntityTag | None:
    """Parse the representation's own ETag; a malformed one is a caller error."""
    if etag is None:
        return None
    tag = parse_entity_tag(etag)
    if tag is None:
        raise ValueError(f"not an entity-tag: {etag!r}")
    return tag


def _seconds(last_modified: datetime | None) -> datetime | None:
    """Drop sub-second precision: HTTP-dates, hence the comparisons, have whole seconds."""
    if last_modified is None:
        return None
    if last_modified.utcoffset() is None:
        raise ValueError("last_modified must be timezone-aware")
    return last_modified.replace(microsecond=0)


@dataclass(frozen=True)
class S3Conditions:
    """GetObject / HeadObject conditional parameters equivalent to a request's preconditions.

    Attributes:
        if_match: ``IfMatch``, one strong entity-tag with its quotes.
        if_none_match: ``IfNoneMatch``, one strong entity-tag with its quotes.
        if_modified_since: ``IfModifiedSince``, aware UTC datetime.
        if_unmodified_since: ``IfUnmodifiedSince``, aware UTC datetime.
    """

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    def params(self) -> ReadParams:
        """The set parameters as boto3 keyword arguments, e.g. ``{"IfMatch": '"abc"'}``."""
        params: ReadParams = {}
        if self.if_match is not None:
            params["IfMatch"] = self.if_match
        if self.if_none_match is not None:
            params["IfNoneMatch"] = self.if_none_match
        if self.if_modified_since is not None:
            params["IfModifiedSince"] = self.if_modified_since
        if self.if_unmodified_since is not None:
            params["IfUnmodifiedSince"] = self.if_unmodified_since
        return params


def s3_conditions(method: str, conditions: Preconditions) -> S3Conditions | None:
    """The S3 parameters that decide exactly as :func:`decide` would, or None.

    S3 documents its conditional reads only for one tag per field and only for the pairs
    If-Match + If-Unmodified-Since and If-None-Match + If-Modified-Since (S3 GetObject
    API reference). So delegation happens only when it is certainly equivalent:

    * the method is GET or HEAD, the reads S3 answers with 304 where RFC 9110 does;
    * ``If-Match`` is ``*`` (always true for an existing object, so it is dropped) or a
      single strong tag; a weak tag never matches strongly, a list has no documented S3
      meaning, and a malformed value is not passed through;
    * ``If-None-Match`` is a single strong tag: S3 ETags are strong, so S3's comparison
      equals the weak comparison RFC 9110 asks for, which it would not for a weak tag;
      ``*`` depends on the representation existing, which S3 is not told;
    * ``If-Unmodified-Since`` is dropped when ``If-Match`` is present, and
      ``If-Modified-Since`` when ``If-None-Match`` is present, as RFC 9110 ignores them;
    * at most one of the 412 conditions (If-Match, If-Unmodified-Since) and the 304
      conditions (If-None-Match, If-Modified-Since) remain, because S3 does not document
      which of 412 and 304 wins when both fail.

    Invalid dates are already absent from ``conditions``, as RFC 9110 ignores them.
    ``If-Range`` is never delegated here: :func:`decide` applies it once the object's
    ETag and Last-Modified are known.
    """
    if method not in _SAFE_METHODS:
        return None
    if_match, if_none_match = conditions.if_match, conditions.if_none_match
    if not _delegable(if_match, wildcard_ok=True) or not _delegable(if_none_match, wildcard_ok=False):
        return None
    delegated = S3Conditions(
        if_match=_only_tag(if_match),
        if_none_match=_only_tag(if_none_match),
        if_modified_since=conditions.if_modified_since if if_none_match is None else None,
        if_unmodified_since=conditions.if_unmodified_since if if_match is None else None,
    )
    may_412 = delegated.if_match is not None or delegated.if_unmodified_since is not None
    may_304 = delegated.if_none_match is not None or delegated.if_modified_since is not None
    return None if may_412 and may_304 else delegated


def _delegable(tags: EntityTagList | None, *, wildcard_ok: bool) -> bool:
    """Whether S3 can evaluate the field: absent, an allowed ``*``, or one strong tag."""
    if tags is None:
        return True
    if tags.wildcard:
        return wildcard_ok
    return not tags.malformed and len(tags.tags) == 1 and not tags.tags[0].weak


def _only_tag(tags: EntityTagList | None) -> str | None:
    """The single listed tag as sent in a field; None when absent or ``*``."""
    return str(tags.tags[0]) if tags is not None and tags.tags else None
