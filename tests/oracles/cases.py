"""Oracle cases: what a function does, what the client sends, what the client must see.

Each :class:`OracleCase` is plain data so any runtime can play it:

- ``tests/oracles/node/handler.mjs`` plays the :class:`FunctionScript` under AWS's Node.js
  runtime client (npm ``aws-lambda-ric``) with ``awslambda.streamifyResponse``;
- ``tests/oracles/python/handler.py`` plays it as a buffered payload-2.0 result under AWS's
  Python runtime interface client (PyPI ``awslambdaric``);
- our own runtime can play it through an ASGI app built from the same script, so the HTTP
  outcome and framing of AWS's clients and ours can be compared case by case.

:func:`write_scripts` writes the scripts as JSON for the handlers (they read the file named
by ``ORACLE_CASES``); the handlers find a case by the first path segment after ``/case/``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Mode = Literal["streaming", "buffered"]
STREAMING: frozenset[Mode] = frozenset({"streaming"})
BOTH: frozenset[Mode] = frozenset({"streaming", "buffered"})


@dataclass(frozen=True)
class FunctionScript:
    """What the function does for one request.

    ``chunks`` are written one by one (streaming) or joined into ``body`` (buffered).
    ``raw_content_type`` streams without the HTTP-integration prelude (status is then 200).
    ``gate`` makes a streaming function wait after the first chunk until the file
    ``$ORACLE_GATE_DIR/<case name>`` exists (polled, bounded), so a test can prove the first
    chunk reached the client before the function finished.  ``echo_event`` writes selected
    event fields as JSON instead of ``chunks``.  ``plain_result`` (buffered only) returns that
    JSON value instead of a payload-2.0 object.  ``repeat`` writes ``chunks`` that many times;
    ``hold_before_ms``/``hold_ms`` sleep before the first write / before ending; ``crash``
    ends the runtime process (exit status 3) after the chunks instead of ending the response.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cookies: tuple[str, ...] = ()
    chunks: tuple[bytes, ...] = ()
    error_before_body: str | None = None
    error_after_body: str | None = None
    raw_content_type: str | None = None
    gate: bool = False
    echo_event: bool = False
    plain_result: object = None
    repeat: int = 1
    hold_before_ms: int = 0
    hold_ms: int = 0
    crash: bool = False

    def to_json(self) -> dict[str, object]:
        """The script as JSON for the handlers (chunks in base64)."""
        return {
            "status": self.status,
            "headers": self.headers,
            "cookies": list(self.cookies),
            "chunks": [base64.b64encode(chunk).decode("ascii") for chunk in self.chunks],
            "errorBeforeBody": self.error_before_body,
            "errorAfterBody": self.error_after_body,
            "rawContentType": self.raw_content_type,
            "gate": self.gate,
            "echoEvent": self.echo_event,
            "plainResult": self.plain_result,
            "repeat": self.repeat,
            "holdBeforeMs": self.hold_before_ms,
            "holdMs": self.hold_ms,
            "crash": self.crash,
        }


@dataclass(frozen=True)
class OracleRequest:
    """The client's request; ``target`` is sent as is (already percent-encoded)."""

    method: str = "GET"
    target: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class OracleExpectation:
    """What the client must observe.

    ``headers`` must be present with exactly these values (names compared case-insensitively;
    other fields may appear too); ``set_cookies`` are the ``Set-Cookie`` values in order.
    ``complete`` False means the connection is cut after ``body`` (an incomplete message).
    ``body_json`` replaces the byte comparison with a JSON comparison when not ``None``.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    set_cookies: tuple[str, ...] = ()
    body: bytes = b""
    complete: bool = True
    body_json: object = None


@dataclass(frozen=True)
class OracleCase:
    """One conformance case and the invoke modes it applies to."""

    name: str
    script: FunctionScript
    request: OracleRequest
    expected: OracleExpectation
    modes: frozenset[Mode] = BOTH


ECHO_BODY = b"\x00\x01binary\xff"

CASES: tuple[OracleCase, ...] = (
    OracleCase(
        name="success",
        script=FunctionScript(
            status=200,
            headers={"Content-Type": "text/plain; charset=utf-8", "X-Case": "success"},
            chunks=(b"Hello, ", b"streaming ", b"world!"),
        ),
        request=OracleRequest(target="/case/success"),
        expected=OracleExpectation(
            status=200,
            headers=(("content-type", "text/plain; charset=utf-8"), ("x-case", "success")),
            body=b"Hello, streaming world!",
        ),
    ),
    OracleCase(
        name="not-modified",
        script=FunctionScript(status=304, headers={"ETag": '"v1"', "Cache-Control": "max-age=60"}),
        request=OracleRequest(target="/case/not-modified", headers=(("If-None-Match", '"v1"'),)),
        expected=OracleExpectation(status=304, headers=(("etag", '"v1"'), ("cache-control", "max-age=60"))),
    ),
    OracleCase(
        name="head",
        script=FunctionScript(status=200, headers={"Content-Type": "text/plain"}, chunks=(b"not for HEAD",)),
        request=OracleRequest(method="HEAD", target="/case/head"),
        expected=OracleExpectation(status=200, headers=(("content-type", "text/plain"),)),
    ),
    OracleCase(
        name="cookies",
        script=FunctionScript(
            status=201,
            headers={"Content-Type": "text/plain"},
            cookies=("session=abc; Path=/; HttpOnly", "theme=dark; Max-Age=3600"),
            chunks=(b"cookies set",),
        ),
        request=OracleRequest(target="/case/cookies"),
        expected=OracleExpectation(
            status=201,
            headers=(("content-type", "text/plain"),),
            set_cookies=("session=abc; Path=/; HttpOnly", "theme=dark; Max-Age=3600"),
            body=b"cookies set",
        ),
    ),
    OracleCase(
        name="binary",
        script=FunctionScript(
            headers={"Content-Type": "application/octet-stream"},
            chunks=(bytes(range(100)), bytes(range(100, 256))),
        ),
        request=OracleRequest(target="/case/binary"),
        expected=OracleExpectation(
            status=200, headers=(("content-type", "application/octet-stream"),), body=bytes(range(256))
        ),
    ),
    OracleCase(
        name="echo",
        script=FunctionScript(headers={"Content-Type": "application/json"}, echo_event=True),
        request=OracleRequest(
            method="POST",
            target="/case/echo/a%20b?x=1&x=2&y=%2F",
            headers=(
                ("Cookie", "c1=v1; c2=v2"),
                ("X-Multi", "1"),
                ("X-Multi", "2"),
                ("User-Agent", "oracle/1.0"),
                ("Content-Type", "application/octet-stream"),
            ),
            body=ECHO_BODY,
        ),
        expected=OracleExpectation(
            status=200,
            headers=(("content-type", "application/json"),),
            body_json={
                "rawPath": "/case/echo/a%20b",
                "rawQueryString": "x=1&x=2&y=%2F",
                "cookies": ["c1=v1", "c2=v2"],
                "queryStringParameters": {"x": "1,2", "y": "/"},
                "isBase64Encoded": True,
                "body": base64.b64encode(ECHO_BODY).decode("ascii"),
                "method": "POST",
                "path": "/case/echo/a%20b",
                "userAgent": "oracle/1.0",
                "multi": "1,2",
            },
        ),
    ),
    OracleCase(
        name="gated",
        script=FunctionScript(headers={"Content-Type": "text/plain"}, chunks=(b"first,", b"second"), gate=True),
        request=OracleRequest(target="/case/gated"),
        expected=OracleExpectation(status=200, headers=(("content-type", "text/plain"),), body=b"first,second"),
        modes=STREAMING,
    ),
    OracleCase(
        name="midstream-error",
        script=FunctionScript(
            headers={"Content-Type": "text/plain"}, chunks=(b"partial ",), error_after_body="boom midstream"
        ),
        request=OracleRequest(target="/case/midstream-error"),
        expected=OracleExpectation(
            status=200, headers=(("content-type", "text/plain"),), body=b"partial ", complete=False
        ),
        modes=STREAMING,
    ),
    OracleCase(
        name="error-before-body",
        script=FunctionScript(error_before_body="boom before any byte"),
        request=OracleRequest(target="/case/error-before-body"),
        expected=OracleExpectation(status=502, body=b"Internal Server Error"),
    ),
    OracleCase(
        name="raw-stream",
        script=FunctionScript(raw_content_type="text/csv", chunks=(b"a,b\n", b"1,2\n")),
        request=OracleRequest(target="/case/raw-stream"),
        expected=OracleExpectation(status=200, headers=(("content-type", "text/csv"),), body=b"a,b\n1,2\n"),
        modes=STREAMING,
    ),
    OracleCase(
        name="plain-result",
        script=FunctionScript(plain_result={"hello": "world", "n": 1}),
        request=OracleRequest(target="/case/plain-result"),
        expected=OracleExpectation(
            status=200, headers=(("content-type", "application/json"),), body_json={"hello": "world", "n": 1}
        ),
        modes=frozenset({"buffered"}),
    ),
)


KIB = 1024
LARGE_CHUNK = bytes(range(256)) * 64
"""16 KiB of body per write in the ``large`` case."""

LIMIT_CASES: tuple[OracleCase, ...] = (
    OracleCase(
        name="large",
        script=FunctionScript(headers={"Content-Type": "application/octet-stream"}, chunks=(LARGE_CHUNK,), repeat=20),
        request=OracleRequest(target="/case/large"),
        expected=OracleExpectation(status=200, body=LARGE_CHUNK * 20),
        modes=STREAMING,
    ),
    OracleCase(
        name="slow",
        script=FunctionScript(headers={"Content-Type": "text/plain"}, chunks=(b"started",), hold_ms=30_000),
        request=OracleRequest(target="/case/slow"),
        expected=OracleExpectation(status=200, body=b"started", complete=False),
        modes=STREAMING,
    ),
    OracleCase(
        name="slow-start",
        script=FunctionScript(headers={"Content-Type": "text/plain"}, chunks=(b"late",), hold_before_ms=30_000),
        request=OracleRequest(target="/case/slow-start"),
        expected=OracleExpectation(status=502, body=b"Internal Server Error"),
        modes=STREAMING,
    ),
    OracleCase(
        name="crash",
        script=FunctionScript(headers={"Content-Type": "text/plain"}, chunks=(b"before the crash",), crash=True),
        request=OracleRequest(target="/case/crash"),
        expected=OracleExpectation(status=200, body=b"before the crash", complete=False),
        modes=STREAMING,
    ),
)
"""Cases for the platform limits and runtime failures; the tests pair them with limit settings."""


def cases_for(mode: Mode) -> list[OracleCase]:
    """The cases that apply to ``mode``."""
    return [case for case in CASES if mode in case.modes]


def write_scripts(directory: Path) -> Path:
    """Write every case's script to ``directory/cases.json`` and return its path."""
    path = directory / "cases.json"
    path.write_text(json.dumps({case.name: case.script.to_json() for case in (*CASES, *LIMIT_CASES)}))
    return path
