"""What a response must look like: the model's inputs and outputs, and one builder per status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.model.ranges import ByteRange

CACHING_FIELDS = ("cache-control", "expires")
"""Fields a 304 repeats when the 200 would carry them (RFC 9110 §15.4.5, besides the validators)."""


@dataclass(frozen=True)
class Representation:
    """An object as the model sees it.

    ``etag`` and ``last_modified`` are S3's field values verbatim (quotes kept, IMF-fixdate);
    ``metadata`` holds the other fields (lower-case names) every 200 and 206 must carry, such as
    ``cache-control``, ``expires`` and ``content-encoding``.
    """

    data: bytes
    etag: str
    last_modified: str
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # The bytes can run to megabytes; failure reports need only their count.
        return f"Representation({self.size} bytes, etag={self.etag}, last_modified={self.last_modified!r})"

    @property
    def size(self) -> int:
        """Length of the selected representation in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class Part:
    """One body part of a ``multipart/byteranges`` payload (RFC 9110 §14.6)."""

    content_type: str
    content_range: str
    data: bytes


@dataclass(frozen=True)
class Expected:
    """The parts of a response the model decides.

    ``headers`` must each be present exactly once with exactly that value; ``absent`` must not be
    present at all. ``body`` is compared byte for byte unless ``None`` (an error's wording is
    free). ``parts`` is set for a multipart answer, whose boundary is the server's choice, so the
    payload is compared part by part instead.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    body: bytes | None = None
    parts: tuple[Part, ...] | None = None


def whole(rep: Representation, method: str) -> Expected:
    """200: the whole representation (no body for HEAD, RFC 9110 §9.3.2)."""
    headers = {**_representation_fields(rep), "content-length": str(rep.size), "accept-ranges": "bytes"}
    body = rep.data if method == "GET" else b""
    return Expected(200, headers, frozenset({"content-range"}), body)


def partial(rep: Representation, ranges: tuple[ByteRange, ...]) -> Expected:
    """206: one range as a plain body (RFC 9110 §14.4), several as multipart/byteranges (§14.6)."""
    if len(ranges) == 1:
        (only,) = ranges
        headers = {
            **_representation_fields(rep),
            "content-range": content_range(only, rep.size),
            "content-length": str(only.length),
        }
        return Expected(206, headers, body=rep.data[only.first : only.last + 1])
    parts = tuple(Part(rep.content_type, content_range(r, rep.size), rep.data[r.first : r.last + 1]) for r in ranges)
    headers = {name: value for name, value in _representation_fields(rep).items() if name != "content-type"}
    # §14.6: each part carries its own Content-Range, so the header section must not.
    return Expected(206, headers, frozenset({"content-range"}), parts=parts)


def not_modified(rep: Representation) -> Expected:
    """304: validators and caching fields, no content (RFC 9110 §15.4.5)."""
    headers = {"etag": rep.etag, "last-modified": rep.last_modified}
    headers.update({name: rep.metadata[name] for name in CACHING_FIELDS if name in rep.metadata})
    return Expected(304, headers, body=b"")


def unsatisfiable(rep: Representation) -> Expected:
    """416 with the current length in an unsatisfied-range (RFC 9110 §14.4, §15.5.17)."""
    return Expected(416, {"content-range": f"bytes */{rep.size}"})


def precondition_failed() -> Expected:
    """412 (RFC 9110 §15.5.13): the status alone is specified."""
    return Expected(412)


def content_range(byte_range: ByteRange, size: int) -> str:
    """A ``Content-Range`` value, e.g. ``bytes 0-499/1234`` (RFC 9110 §14.4)."""
    return f"bytes {byte_range.first}-{byte_range.last}/{size}"


def _representation_fields(rep: Representation) -> dict[str, str]:
    return {
        "etag": rep.etag,
        "last-modified": rep.last_modified,
        "content-type": rep.content_type,
        **rep.metadata,
    }
