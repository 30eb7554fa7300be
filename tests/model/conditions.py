"""Conditional requests: evaluating preconditions in RFC 9110 §13.2.2 order, and ``If-Range``."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime

from tests.model.validators import (
    EntityTag,
    parse_entity_tag,
    parse_entity_tag_list,
    parse_http_date,
    strong_match,
    weak_match,
)

_Comparison = Callable[[EntityTag, EntityTag], bool]


class Verdict(enum.Enum):
    """Outcome of steps 1 to 4 of RFC 9110 §13.2.2."""

    PROCEED = 200
    NOT_MODIFIED = 304
    PRECONDITION_FAILED = 412


def evaluate_preconditions(
    method: str, headers: Mapping[str, str], etag: EntityTag, last_modified: datetime
) -> Verdict:
    """Evaluate If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in that order.

    ``headers`` has lower-case names. The representation exists (a missing one is a 404 before
    any precondition, RFC 9110 §13.2.1).

    Raises:
        Malformed: an ``If-Match`` or ``If-None-Match`` value that is not ``*`` or a list of
            entity-tags; RFC 9110 does not say how to treat one.
    """
    if "if-match" in headers:
        if not _any_matches(headers["if-match"], etag, strong_match):
            return Verdict.PRECONDITION_FAILED
    elif (since := _date(headers, "if-unmodified-since")) is not None and last_modified > since:
        return Verdict.PRECONDITION_FAILED
    safe = method in {"GET", "HEAD"}
    if "if-none-match" in headers:
        if _any_matches(headers["if-none-match"], etag, weak_match):
            return Verdict.NOT_MODIFIED if safe else Verdict.PRECONDITION_FAILED
    elif safe and (since := _date(headers, "if-modified-since")) is not None and last_modified <= since:
        return Verdict.NOT_MODIFIED
    return Verdict.PROCEED


def if_range_allows_range(headers: Mapping[str, str], etag: EntityTag, last_modified: datetime) -> bool:
    """Whether ``If-Range`` (if any) lets the ``Range`` field apply (RFC 9110 §13.1.5).

    An entity-tag must match strongly (a weak one never does); a date must equal Last-Modified
    exactly; anything else is false.
    """
    if "if-range" not in headers:
        return True
    value = headers["if-range"].strip(" \t")
    if (tag := parse_entity_tag(value)) is not None:
        return strong_match(tag, etag)
    return parse_http_date(value) == last_modified


def _any_matches(value: str, etag: EntityTag, compare: _Comparison) -> bool:
    """``*`` matches any current representation; a list matches if one member compares equal."""
    tags = parse_entity_tag_list(value)
    return tags is None or any(compare(tag, etag) for tag in tags)


def _date(headers: Mapping[str, str], name: str) -> datetime | None:
    """The field's date; ``None`` when absent or not a valid HTTP-date (then it is ignored)."""
    return parse_http_date(headers[name]) if name in headers else None
