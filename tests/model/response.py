"""The whole decision: preconditions, then If-Range, then Range (RFC 9110 §13.2.2)."""

from __future__ import annotations

from collections.abc import Mapping

from tests.model.conditions import Verdict, evaluate_preconditions, if_range_allows_range
from tests.model.expected import (
    Expected,
    Representation,
    not_modified,
    partial,
    precondition_failed,
    unsatisfiable,
    whole,
)
from tests.model.ranges import Decision, answer_range
from tests.model.validators import Malformed, parse_entity_tag, parse_http_date

DEFAULT_MAX_RANGES = 16


class OutOfScope(ValueError):
    """The request is one RFC 9110 leaves open, so the model makes no prediction."""


def expected_response(
    rep: Representation,
    method: str,
    request_headers: Mapping[str, str],
    max_ranges: int = DEFAULT_MAX_RANGES,
) -> Expected:
    """What a ``GET`` or ``HEAD`` of ``rep`` with ``request_headers`` must be answered with.

    Header names may be in any case. ``max_ranges`` is the most ranges served as multipart.

    Raises:
        OutOfScope: a malformed ``If-Match``/``If-None-Match`` list, or several ranges of a
            content-coded object (whether the envelope carries ``Content-Encoding`` is open).
    """
    headers = {name.lower(): value for name, value in request_headers.items()}
    etag = parse_entity_tag(rep.etag)
    last_modified = parse_http_date(rep.last_modified)
    if etag is None or last_modified is None:
        raise ValueError(f"S3 sent an invalid validator: {rep.etag!r} / {rep.last_modified!r}")
    try:
        verdict = evaluate_preconditions(method, headers, etag, last_modified)
    except Malformed as exc:
        raise OutOfScope(f"malformed entity-tag list {exc}") from None
    if verdict is Verdict.PRECONDITION_FAILED:
        return precondition_failed()
    if verdict is Verdict.NOT_MODIFIED:
        return not_modified(rep)
    # Only GET has ranges (RFC 9110 §14.2); If-Range guards them (§13.1.5).
    if method == "GET" and "range" in headers and if_range_allows_range(headers, etag, last_modified):
        answer = answer_range(headers["range"], rep.size, max_ranges)
        if answer.decision is Decision.UNSATISFIABLE:
            return unsatisfiable(rep)
        if answer.decision is Decision.PARTIAL:
            if len(answer.ranges) > 1 and "content-encoding" in rep.metadata:
                raise OutOfScope("several ranges of a content-coded representation")
            return partial(rep, answer.ranges)
    return whole(rep, method)
