"""A tiny static file server on loopback for the browser tests' pages and PDF.js.

It runs on its own port, so pages it serves have an origin other than the proxy's and
every ``fetch`` they make to the proxy is cross-origin (Fetch standard §3.2, CORS).
The standard library's :mod:`http.server` is enough for a handful of files; it only
needs a map from URL prefixes to directories and correct JavaScript types, because
browsers refuse ES modules served with any other MIME type (HTML §8.1.5.1).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from posixpath import normpath
from typing import Any
from urllib.parse import unquote, urlsplit


class _Handler(SimpleHTTPRequestHandler):
    """Serves ``GET``/``HEAD`` for files under the mounted directories, 404 for anything else."""

    extensions_map: dict[str, str] = {  # noqa: RUF012 (the base class declares it as a class attribute)
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".pfb": "application/octet-stream",
    }

    def __init__(self, *args: Any, mounts: Mapping[str, Path], **kwargs: Any) -> None:
        self._mounts = mounts
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        """Map ``/prefix/rest`` to ``mounts[prefix] / rest``; an unmounted path maps to nowhere."""
        clean = normpath(unquote(urlsplit(path).path))
        for prefix, directory in self._mounts.items():
            if clean.startswith(prefix + "/"):
                # normpath has already resolved "..", so the result stays inside ``directory``.
                return str(directory / clean[len(prefix) + 1 :])
        return "/nonexistent"

    def end_headers(self) -> None:
        # Each test must load what is on disk now, never a copy cached by an earlier run.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines would only clutter the test output."""


@contextmanager
def serve_static(mounts: Mapping[str, Path]) -> Iterator[str]:
    """Serve each directory in ``mounts`` under its URL prefix (e.g. ``{"/pages": Path(...)}``).

    Binds 127.0.0.1 with an OS-chosen port; yields the origin, e.g. ``http://127.0.0.1:41234``.

    Raises:
        ValueError: a prefix does not start with ``/`` or ends with one.
    """
    for prefix in mounts:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"mount prefix must look like '/name', got {prefix!r}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, mounts=dict(mounts)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
