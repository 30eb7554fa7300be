"""``Content-Disposition: attachment`` with a safe file name (RFC 6266, RFC 8187).

The header carries the name twice: ``filename`` as an ASCII quoted-string for old
clients, and ``filename*`` as UTF-8 percent-encoded for the rest (RFC 6266 §4.3).
Starlette builds this header only inside ``FileResponse`` and without a separate ASCII
fallback, so it is composed here; percent-encoding uses :func:`urllib.parse.quote`.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

DEFAULT_FILENAME = "download"
"""The name used when the given one has nothing usable (e.g. empty, ``..``)."""

# RFC 8187 §3.2.1 attr-char beyond the letters, digits and "-._~" that quote() keeps.
_ATTR_CHAR_PUNCTUATION = "!#$&+^`|"
# Characters of the quoted fallback that are replaced: the quoted-string delimiters,
# ";" that naive parsers split on, and "%" that some clients percent-decode (RFC 6266
# Appendix D).
_FALLBACK_UNSAFE = frozenset('"\\;%')
# Bidirectional controls can disguise an extension ("evil\u202etxt.exe").
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def attachment(filename: str) -> str:
    """The ``Content-Disposition`` value that downloads as ``filename``.

    Shape: ``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>``.
    Control characters, lone surrogates, bidirectional controls and path separators
    (``/``, ``\\``) become ``_`` in both forms and surrounding whitespace is dropped; a
    name with nothing else than those, whitespace and dots falls back to
    :data:`DEFAULT_FILENAME`. The
    ASCII form drops accents (``é`` -> ``e``) and replaces anything else outside
    printable ASCII, and ``" \\ ; %``, by ``_``; ``filename*`` percent-encodes every
    byte outside RFC 8187 attr-char. No input can end the header or add a parameter.
    """
    name = _cleaned(filename)
    if not "".join(char for char in filename if not _unusable(char)).strip().strip("."):
        name = DEFAULT_FILENAME
    encoded = quote(name, safe=_ATTR_CHAR_PUNCTUATION, encoding="utf-8")
    return f"attachment; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"


def key_basename(key: str) -> str:
    """The last non-empty ``/``-separated segment of an S3 key, or ``""`` when none.

    ``"reports/2024/q1.pdf"`` gives ``"q1.pdf"``; ``"reports/"`` gives ``"reports"``.
    """
    for segment in reversed(key.split("/")):
        if segment:
            return segment
    return ""


def _cleaned(filename: str) -> str:
    """Replace characters no file name should carry, in both forms, by ``_``."""
    return "".join("_" if _unusable(char) else char for char in filename).strip()


def _unusable(char: str) -> bool:
    return char in "/\\" or char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs")


def _ascii_fallback(name: str) -> str:
    """The name in printable ASCII without quoted-string delimiters or ``;`` / ``%``.

    Decomposition can leave only spaces (U+00B4 ACUTE ACCENT is a space and a combining
    accent), so an empty result falls back to :data:`DEFAULT_FILENAME` too.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    letters = (char for char in decomposed if not unicodedata.combining(char))
    fallback = "".join(char if " " <= char <= "~" and char not in _FALLBACK_UNSAFE else "_" for char in letters)
    fallback = fallback.strip()
    return fallback if fallback.strip(".") else DEFAULT_FILENAME
