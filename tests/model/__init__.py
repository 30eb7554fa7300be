"""A reference model of RFC 9110 range and precondition evaluation, written for clarity, not speed.

It is a second, independent reading of the specification: given an object (its bytes, S3's ETag
and Last-Modified) and a request (method and header fields), :func:`expected_response` says what
status, header fields and body the proxy must answer. The HTTP tests compare the proxy with it.

Inputs the RFC leaves open (for example a malformed ``If-Match`` list) raise :class:`OutOfScope`
rather than guessing, so a comparison never asserts a choice the specification did not make.
"""

from __future__ import annotations

from tests.model.expected import Expected, Part, Representation
from tests.model.response import OutOfScope, expected_response

__all__ = ["Expected", "OutOfScope", "Part", "Representation", "expected_response"]
