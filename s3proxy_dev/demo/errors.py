"""The error a demo server raises when it cannot start; the demo prints it as one line."""

from __future__ import annotations


class ServeError(Exception):
    """The proxy could not start serving; the message is one readable line, e.g.
    ``the proxy failed to start`` (the demo then exits with status 1)."""
