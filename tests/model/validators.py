"""Validators: entity tags (RFC 9110 §8.8.3) and HTTP dates (RFC 9110 §5.6.7)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_ENTITY_TAG = re.compile(r'(W/)?("[\x21\x23-\x7e\x80-\xff]*")')
_OWS = " \t"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_DAY_NAME = "|".join(_DAYS)
_MONTH = "|".join(_MONTHS)
_IMF_FIXDATE = re.compile(rf"(?:{_DAY_NAME}), ([0-9]{{2}}) ({_MONTH}) ([0-9]{{4}}) {_TIME} GMT")
_RFC850_DATE = re.compile(rf"(?:{'|'.join(_LONG_DAYS)}), ([0-9]{{2}})-({_MONTH})-([0-9]{{2}}) {_TIME} GMT")
_ASCTIME_DATE = re.compile(rf"(?:{_DAY_NAME}) ({_MONTH}) ([0-9]{{2}}| [0-9]) {_TIME} ([0-9]{{4}})")


@dataclass(frozen=True)
class EntityTag:
    """An entity tag; ``opaque`` keeps its double quotes, as on the wire."""

    opaque: str
    weak: bool = False


class Malformed(ValueError):
    """A field value that does not follow its grammar."""


def parse_entity_tag(value: str) -> EntityTag | None:
    """One entity-tag (``W/"x"`` or ``"x"``), or ``None`` when ``value`` is not exactly one."""
    match = _ENTITY_TAG.fullmatch(value)
    return EntityTag(match.group(2), bool(match.group(1))) if match else None


def parse_entity_tag_list(value: str) -> tuple[EntityTag, ...] | None:
    """``If-Match``/``If-None-Match``: ``None`` for ``*``, else the listed tags (RFC 9110 §13.1.1).

    Raises:
        Malformed: the value is neither ``*`` nor a comma-separated list of entity-tags.
    """
    if value.strip(_OWS) == "*":
        return None
    tags: list[EntityTag] = []
    # Scan tag by tag: an opaque tag may itself contain a comma, so splitting on commas is wrong.
    # The list rule (RFC 9110 §5.6.1) allows empty elements: runs of commas and OWS.
    position = _skip(value, 0, ", \t")
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None:
            raise Malformed(value)
        tags.append(EntityTag(match.group(2), bool(match.group(1))))
        position = _skip(value, match.end(), _OWS)
        if position < len(value) and value[position] != ",":
            raise Malformed(value)
        position = _skip(value, position, ", \t")
    if not tags:
        raise Malformed(value)
    return tuple(tags)


def _skip(value: str, position: int, characters: str) -> int:
    while position < len(value) and value[position] in characters:
        position += 1
    return position


def strong_match(a: EntityTag, b: EntityTag) -> bool:
    """Strong comparison: both strong and the opaque tags identical (RFC 9110 §8.8.3.2)."""
    return not a.weak and not b.weak and a.opaque == b.opaque


def weak_match(a: EntityTag, b: EntityTag) -> bool:
    """Weak comparison: the opaque tags identical, weakness ignored (RFC 9110 §8.8.3.2)."""
    return a.opaque == b.opaque


def parse_http_date(value: str) -> datetime | None:
    """An HTTP-date in any of its three formats (RFC 9110 §5.6.7), or ``None`` if invalid.

    A two-digit rfc850 year more than 50 years ahead of the current year means the most
    recent past year with those digits, as §5.6.7 requires; that one rule reads the clock.
    """
    text = value.strip(_OWS)
    if match := _IMF_FIXDATE.fullmatch(text):
        day, month, year, hour, minute, second = match.groups()
        return _datetime(int(year), month, day, hour, minute, second)
    if match := _RFC850_DATE.fullmatch(text):
        day, month, two_digit_year, hour, minute, second = match.groups()
        return _datetime(_full_year(int(two_digit_year)), month, day, hour, minute, second)
    if match := _ASCTIME_DATE.fullmatch(text):
        month, day, hour, minute, second, year = match.groups()
        return _datetime(int(year), month, day, hour, minute, second)
    return None


def _full_year(two_digits: int) -> int:
    this_year = datetime.now(UTC).year
    year = this_year - this_year % 100 + two_digits
    return year - 100 if year > this_year + 50 else year


def _datetime(year: int, month: str, day: str, hour: str, minute: str, second: str) -> datetime | None:
    try:
        return datetime(year, _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:  # 31 Feb, 25:00:00 and the like are not dates
        return None


def format_imf_fixdate(moment: datetime) -> str:
    """``moment`` (UTC) as the preferred IMF-fixdate, e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return f"{_DAYS[moment.weekday()]}, {moment:%d} {_MONTHS[moment.month - 1]} {moment:%Y %H:%M:%S} GMT"


def format_rfc850(moment: datetime) -> str:
    """``moment`` (UTC) in the obsolete rfc850 format, e.g. ``Sunday, 06-Nov-94 08:49:37 GMT``."""
    return f"{_LONG_DAYS[moment.weekday()]}, {moment:%d}-{_MONTHS[moment.month - 1]}-{moment:%y %H:%M:%S} GMT"


def format_asctime(moment: datetime) -> str:
    """``moment`` (UTC) in the obsolete asctime format, e.g. ``Sun Nov  6 08:49:37 1994``."""
    return f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:2d} {moment:%H:%M:%S %Y}"
