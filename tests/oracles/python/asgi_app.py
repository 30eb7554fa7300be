"""Plays the oracle scripts of ``tests/oracles/cases.py`` as an ASGI app, for our own runtime.

The same script that AWS's Node.js client plays with ``HttpResponseStream`` is played here
with ASGI messages, so the two runtimes can be compared on the same cases.  Scripts come from
the JSON file named by ``ORACLE_CASES``; the case is the path segment after ``/case/``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

Message = dict[str, Any]
SCRIPTS: dict[str, dict[str, Any]] = json.loads(Path(os.environ["ORACLE_CASES"]).read_text())
GATE_POLL = 0.01
GATE_LIMIT = 10.0


class ScriptedAppError(Exception):
    """The error a script asks the function to raise."""


async def _pass_gate(name: str) -> None:
    gate = Path(os.environ["ORACLE_GATE_DIR"]) / name
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GATE_LIMIT
    while not gate.exists():
        if loop.time() > deadline:
            raise ScriptedAppError(f"gate {gate} never opened")
        await asyncio.sleep(GATE_POLL)


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _start(script: dict[str, Any]) -> Message:
    headers = [(name.lower().encode(), value.encode()) for name, value in script["headers"].items()]
    headers += [(b"set-cookie", cookie.encode()) for cookie in script["cookies"]]
    if script["rawContentType"]:
        headers.append((b"content-type", script["rawContentType"].encode()))
    return {"type": "http.response.start", "status": script["status"], "headers": headers}


async def _play(script: dict[str, Any], name: str, send: Any) -> None:
    if script["errorBeforeBody"]:
        raise ScriptedAppError(script["errorBeforeBody"])
    await asyncio.sleep(script["holdBeforeMs"] / 1000)
    await send(_start(script))
    chunks = [base64.b64decode(chunk) for chunk in script["chunks"]] * script["repeat"]
    for index, chunk in enumerate(chunks):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if index == 0 and script["gate"]:
            await _pass_gate(name)
    await asyncio.sleep(script["holdMs"] / 1000)
    if script["crash"]:
        os._exit(3)
    if script["errorAfterBody"]:
        raise ScriptedAppError(script["errorAfterBody"])
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def app(scope: Message, receive: Any, send: Any) -> None:
    """The ASGI 3 entry point."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    while (await receive()).get("more_body"):
        pass
    name = scope["path"].split("/")[2]
    await _play(SCRIPTS[name], name, send)
