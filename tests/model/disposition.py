"""Reading ``Content-Disposition`` (RFC 6266 §4.1) with RFC 8187 extended parameters.

Strict on purpose: a value that does not follow the grammar (an injected quote, a stray
semicolon) is an error here, not something to be lenient about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED_STRING = r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
_PARAMETER = re.compile(rf"[ \t]*;[ \t]*({_TOKEN})[ \t]*=[ \t]*({_TOKEN}|{_QUOTED_STRING})[ \t]*")
_TYPE = re.compile(rf"[ \t]*({_TOKEN})[ \t]*")
_EXT_VALUE = re.compile(r"([!#$%&+\-^_`{}~0-9A-Za-z]+)'([0-9A-Za-z-]*)'((?:[!#$&+\-.^_`|~0-9A-Za-z]|%[0-9A-Fa-f]{2})*)")


class BadDisposition(ValueError):
    """The field value does not follow RFC 6266 / RFC 8187."""


@dataclass(frozen=True)
class Disposition:
    """A parsed ``Content-Disposition``: the lower-cased type and decoded parameters."""

    kind: str
    parameters: dict[str, str]


def parse_disposition(value: str) -> Disposition:
    """Parse ``value``; parameter names are lower-cased, values unquoted or RFC 8187-decoded.

    Raises:
        BadDisposition: the value breaks the grammar, repeats a parameter, or an extended value
            is not UTF-8 or ISO-8859-1 percent-encoding.
    """
    head = _TYPE.match(value)
    if head is None:
        raise BadDisposition(value)
    position, parameters = head.end(), {}
    while position < len(value):
        match = _PARAMETER.match(value, position)
        if match is None:
            raise BadDisposition(f"unparsable at {position}: {value!r}")
        name = match.group(1).lower()
        if name in parameters:
            raise BadDisposition(f"repeated parameter {name}: {value!r}")
        parameters[name] = _decode(name, match.group(2))
        position = match.end()
    return Disposition(head.group(1).lower(), parameters)


def _decode(name: str, raw: str) -> str:
    if name.endswith("*"):
        return _decode_ext_value(raw)
    if raw.startswith('"'):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _decode_ext_value(raw: str) -> str:
    """RFC 8187 §3.2.1: ``charset'[language]'value-chars`` with percent-encoding."""
    match = _EXT_VALUE.fullmatch(raw)
    if match is None:
        raise BadDisposition(f"not an RFC 8187 ext-value: {raw!r}")
    charset = match.group(1).lower()
    if charset not in {"utf-8", "iso-8859-1"}:
        raise BadDisposition(f"charset {charset!r} is neither UTF-8 nor ISO-8859-1")
    try:
        return unquote_to_bytes(match.group(3)).decode(charset)
    except UnicodeDecodeError:
        raise BadDisposition(f"not {charset}: {raw!r}") from None
