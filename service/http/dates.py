"""HTTP-date parsing (RFC 9110 §5.6.7).

The standard library's :func:`email.utils.parsedate_tz` (which Werkzeug also builds on)
accepts far more than an HTTP-date: numeric zones, missing seconds, "Feb 31", hour 25,
and it reads two-digit years with the POSIX pivot instead of RFC 9110's 50-year rule.
Conditional requests must treat anything that is not an HTTP-date as absent, so the
three forms are matched exactly here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?P<month>" + "|".join(_MONTHS) + ")"
_DAY_NAME = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_NAME_L = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TIME = "(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"

# Every part has a fixed set of spellings and widths, so a failed match stops within the
# first few dozen characters whatever the field's length.
_IMF_FIXDATE = re.compile(rf"{_DAY_NAME}, (?P<day>[0-9]{{2}}) {_MONTH} (?P<year>[0-9]{{4}}) {_TIME} GMT")
_RFC850_DATE = re.compile(rf"{_DAY_NAME_L}, (?P<day>[0-9]{{2}})-{_MONTH}-(?P<year>[0-9]{{2}}) {_TIME} GMT")
_ASCTIME_DATE = re.compile(rf"{_DAY_NAME} {_MONTH} (?P<day>[0-9]{{2}}| [0-9]) {_TIME} (?P<year>[0-9]{{4}})")

_OWS = " \t"


def parse_http_date(value: str, *, now: datetime | None = None) -> datetime | None:
    """Parse an HTTP-date in any of its three forms (RFC 9110 §5.6.7).

    Accepts ``Sun, 06 Nov 1994 08:49:37 GMT`` (IMF-fixdate), ``Sunday, 06-Nov-94
    08:49:37 GMT`` (obsolete RFC 850 form) and ``Sun Nov  6 08:49:37 1994`` (asctime),
    case-sensitively as the grammar says, with surrounding whitespace ignored. A leap
    second (``:60``) is read as ``:59``; the day name is not checked against the date.

    Args:
        value: the field value.
        now: the current time, used only to place an RFC 850 two-digit year: a year
            that would be more than 50 years in the future is taken from the previous
            century. Defaults to the system clock.

    Returns:
        An aware UTC datetime with whole seconds, or None when ``value`` is not a valid
        HTTP-date (including impossible dates such as 31 February).
    """
    text = value.strip(_OWS)
    match = _IMF_FIXDATE.fullmatch(text) or _ASCTIME_DATE.fullmatch(text)
    rfc850 = match is None
    if rfc850:
        match = _RFC850_DATE.fullmatch(text)
    if match is None:
        return None
    month = _MONTHS.index(match["month"]) + 1
    day, hour, minute = int(match["day"]), int(match["hour"]), int(match["minute"])
    second = min(int(match["second"]), 59)
    year = int(match["year"])
    if rfc850:
        later = (month, day, hour, minute, second)
        year = _rfc850_year(year, later, now or datetime.now(UTC))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def _rfc850_year(two_digits: int, rest: tuple[int, ...], now: datetime) -> int:
    """The full year: in ``now``'s century unless that is over 50 years ahead, else the one before.

    ``rest`` is (month, day, hour, minute, second), so the 50 years are measured exactly.
    """
    year = now.year - now.year % 100 + two_digits
    limit = (now.year + 50, now.month, now.day, now.hour, now.minute, now.second)
    if (year, *rest) > limit:
        year -= 100
    return year
