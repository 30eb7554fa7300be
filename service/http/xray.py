"""The trace id in an AWS X-Ray trace header (``X-Amzn-Trace-Id``, Lambda's ``Lambda-Runtime-Trace-Id``).

The header is a ``;``-separated list of ``key=value`` fields (X-Ray developer guide, "Tracing
header"), e.g. ``Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1``;
a load balancer may put ``Self=...`` first. The trace id is ``Root``'s value: ``1-``, the
request's epoch second in 8 hex digits, ``-``, 96 random bits in 24 hex digits.
"""

from __future__ import annotations

import re

_TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


def trace_id(header: str | None) -> str | None:
    """``Root``'s trace id from an X-Ray trace header, e.g. ``'1-5759e988-bd862e3fe1be46a994272793'``.

    None when ``header`` is None or holds no well-formed ``Root`` (anything else is never
    echoed, so a client cannot put arbitrary text in the log through it).
    """
    if header is None:
        return None
    for item in header.split(";"):
        name, _, value = item.strip().partition("=")
        if name == "Root" and _TRACE_ID.fullmatch(value):
            return value
    return None
