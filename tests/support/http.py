"""Assertions that hold through both transports."""

from __future__ import annotations

import httpx


def assert_declared_length(response: httpx.Response, transport: str, length: int) -> None:
    """The size a client can read: ``Content-Length`` through uvicorn; through a Function URL,
    which streams chunked, the prelude's ``content-length`` renamed by the platform to
    ``x-amzn-Remapped-content-length`` (README, "What a client sees through a Function URL").

    Also for HEAD, where ``length`` is the size a GET would have sent.
    """
    if transport == "function-url":
        assert "content-length" not in response.headers
        assert response.headers.get("x-amzn-remapped-content-length") == str(length)
        if response.request.method != "HEAD":
            assert response.headers.get("transfer-encoding") == "chunked"
    else:
        assert response.headers["content-length"] == str(length)
