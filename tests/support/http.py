"""Assertions that hold through both transports."""

from __future__ import annotations

import httpx


def assert_declared_length(response: httpx.Response, transport: str, length: int) -> None:
    """``Content-Length`` is exact through uvicorn; a Function URL streams chunked without one.

    The runtime drops framing headers from the prelude, as a Function URL would rename a
    ``content-length`` to ``x-amzn-Remapped-content-length`` anyway.
    """
    if transport == "function-url":
        assert "content-length" not in response.headers
        assert response.headers.get("transfer-encoding") == "chunked"
    else:
        assert response.headers["content-length"] == str(length)
