"""Entity tags: parsing and comparison (RFC 9110 §8.8.3).

Starlette has no entity-tag parser, and Werkzeug (not a dependency) accepts unquoted and
lower-case ``w/`` tags that the grammar forbids. An opaque-tag may itself contain commas,
so a list cannot simply be split on ``,``; the scanner below walks it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text.
# The quantifier is possessive and the class excludes DQUOTE, so matching cannot backtrack.
_ENTITY_TAG = re.compile(r'(W/)?("[\x21\x23-\x7e\x80-\xff]*+")')
# An element of a list ends at optional whitespace, then a comma or the end.
_ELEMENT_END = re.compile(r"[ \t]*+(?:,|\Z)")
_SEPARATORS = re.compile(r"[ \t,]*+")
_OWS = " \t"


@dataclass(frozen=True)
class EntityTag:
    """One entity tag (RFC 9110 §8.8.3).

    Attributes:
        opaque: the opaque-tag with its double quotes, e.g. ``'"abc"'``.
        weak: whether it carried the ``W/`` weakness indicator.
    """

    opaque: str
    weak: bool = False

    def __str__(self) -> str:
        """The tag as sent in a field: ``W/"abc"`` or ``"abc"``."""
        return f"W/{self.opaque}" if self.weak else self.opaque

    def strong_match(self, other: EntityTag) -> bool:
        """Strong comparison (RFC 9110 §8.8.3.2): both strong and the opaque-tags equal."""
        return not self.weak and not other.weak and self.opaque == other.opaque

    def weak_match(self, other: EntityTag) -> bool:
        """Weak comparison (RFC 9110 §8.8.3.2): the opaque-tags equal, weakness ignored."""
        return self.opaque == other.opaque


@dataclass(frozen=True)
class EntityTagList:
    """The value of ``If-Match`` or ``If-None-Match`` (RFC 9110 §13.1.1, §13.1.2).

    Attributes:
        wildcard: the value was ``*`` (any current representation).
        tags: the well-formed entity tags, in field order.
        malformed: some non-empty list element was not an entity-tag; such an element
            can match nothing.
    """

    wildcard: bool = False
    tags: tuple[EntityTag, ...] = ()
    malformed: bool = False

    def strong_match(self, etag: EntityTag | None) -> bool:
        """Whether any listed tag strongly matches ``etag`` (the ``If-Match`` rule).

        ``*`` matches whenever a representation exists, even one without an ETag.
        """
        if self.wildcard:
            return True
        return etag is not None and any(tag.strong_match(etag) for tag in self.tags)

    def weak_match(self, etag: EntityTag | None) -> bool:
        """Whether any listed tag weakly matches ``etag`` (the ``If-None-Match`` rule)."""
        if self.wildcard:
            return True
        return etag is not None and any(tag.weak_match(etag) for tag in self.tags)


def parse_entity_tag(value: str) -> EntityTag | None:
    """Parse a single entity-tag such as an ``ETag`` or ``If-Range`` value.

    Surrounding whitespace is ignored. Returns None unless the whole value is one
    ``[W/]"opaque"`` (RFC 9110 §8.8.3 grammar).
    """
    match = _ENTITY_TAG.fullmatch(value.strip(_OWS))
    if match is None:
        return None
    return EntityTag(match[2], weak=match[1] is not None)


def parse_entity_tag_list(value: str) -> EntityTagList:
    """Parse an ``If-Match`` / ``If-None-Match`` value: ``*`` or ``#entity-tag``.

    Empty elements and whitespace around commas are skipped (RFC 9110 §5.6.1). An element
    that is not an entity-tag sets ``malformed`` and is skipped up to the next comma, so
    one bad element cannot hide the others. Runs in time linear in ``len(value)``.
    """
    if value.strip(_OWS) == "*":
        return EntityTagList(wildcard=True)
    tags: list[EntityTag] = []
    malformed = False
    position = _skip_separators(value, 0)
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        end = match and _ELEMENT_END.match(value, match.end())
        if match and end:
            tags.append(EntityTag(match[2], weak=match[1] is not None))
            position = end.end()
        else:
            malformed = True
            comma = value.find(",", position)
            position = len(value) if comma < 0 else comma
        position = _skip_separators(value, position)
    return EntityTagList(tags=tuple(tags), malformed=malformed)


def _skip_separators(value: str, position: int) -> int:
    """The first position at or after ``position`` that is not whitespace or a comma."""
    match = _SEPARATORS.match(value, position)
    assert match is not None  # the pattern also matches the empty string
    return match.end()
