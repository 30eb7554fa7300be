"""Comparing a received response with the model's :class:`Expected`, difference by difference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tests.model.expected import Expected
from tests.model.multipart import BadMultipart, boundary_of, parse_parts


@dataclass(frozen=True)
class Reply:
    """A response as received: status, header fields (lower-case names, in order), raw body bytes."""

    status: int
    fields: Sequence[tuple[str, str]]
    body: bytes

    def values(self, name: str) -> list[str]:
        """Every value of the field ``name`` (lower-case), in order."""
        return [value for field, value in self.fields if field == name]

    def get(self, name: str) -> str | None:
        """The single value of ``name``, ``None`` if absent; several values are joined by ``, ``."""
        values = self.values(name)
        return ", ".join(values) if values else None


def differences(expected: Expected, reply: Reply, *, declares_length: bool = True) -> list[str]:
    """Human-readable differences between ``expected`` and ``reply``; empty when they agree.

    With ``declares_length`` False (a Lambda Function URL, which frames answers itself),
    ``Content-Length`` must be absent instead of equal to the expected value.
    """
    if reply.status != expected.status:
        return [f"status {reply.status}, expected {expected.status} (body {reply.body[:200]!r})"]
    headers = dict(expected.headers)
    absent = expected.absent
    if not declares_length:
        headers.pop("content-length", None)
        absent = absent | {"content-length"}
    found = _field_differences(headers, absent, reply)
    if expected.body is not None and reply.body != expected.body:
        found.append(f"body of {len(reply.body)} bytes differs from the expected {len(expected.body)} bytes")
    if expected.parts is not None:
        found.extend(_multipart_differences(expected, reply, declares_length))
    return found


def _field_differences(headers: Mapping[str, str], absent: frozenset[str], reply: Reply) -> list[str]:
    found = []
    for name, value in headers.items():
        if (received := reply.values(name)) != [value]:
            found.append(f"{name}: {received!r}, expected [{value!r}]")
    found.extend(f"{name}: {reply.values(name)!r}, expected none" for name in sorted(absent) if reply.values(name))
    return found


def _multipart_differences(expected: Expected, reply: Reply, declares_length: bool) -> list[str]:
    assert expected.parts is not None
    if declares_length and reply.get("content-length") != str(len(reply.body)):
        return [f"content-length {reply.get('content-length')!r} for a payload of {len(reply.body)} bytes"]
    try:
        parts = parse_parts(boundary_of(reply.get("content-type") or ""), reply.body)
    except BadMultipart as exc:
        return [f"multipart payload: {exc}"]
    if parts != expected.parts:
        got = [(part.content_type, part.content_range, len(part.data)) for part in parts]
        want = [(part.content_type, part.content_range, len(part.data)) for part in expected.parts]
        return [f"parts {got}, expected {want} (or their bytes differ)"]
    return []
