"""Plays the oracle cases of ``tests/oracles/cases.py`` as a plain buffered Lambda handler.

Run by AWS's Python runtime interface client (``python -m awslambdaric handler.handler``); the
result is the Function URL payload-2.0 response object (docs urls-invocation.html).  The
scripts come from the JSON file named by ``ORACLE_CASES``.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time

with open(os.environ["ORACLE_CASES"], encoding="utf-8") as file:
    SCRIPTS: dict[str, dict[str, object]] = json.load(file)


class ScriptedHandlerError(Exception):
    """The error a script asks the function to raise."""


def _echo(event: dict[str, object]) -> bytes:
    http = event["requestContext"]["http"]  # type: ignore[index]
    fields = {key: event.get(key) for key in ("rawPath", "rawQueryString", "cookies", "queryStringParameters")}
    fields |= {"isBase64Encoded": event.get("isBase64Encoded"), "body": event.get("body")}
    fields |= {"method": http["method"], "path": http["path"], "userAgent": http["userAgent"]}
    fields["multi"] = event["headers"].get("x-multi")  # type: ignore[attr-defined]
    return json.dumps(fields).encode()


def handler(event: dict[str, object], context: object) -> object:
    """Return the payload-2.0 response the script describes, or raise its error."""
    name = str(event["rawPath"]).split("/")[2]
    script = SCRIPTS[name]
    if script["errorBeforeBody"]:
        raise ScriptedHandlerError(script["errorBeforeBody"])
    time.sleep(float(script["holdBeforeMs"]) / 1000)  # type: ignore[arg-type]
    if script["crash"]:
        sys.exit(3)
    if script["plainResult"] is not None:
        return script["plainResult"]
    chunks = script["chunks"]
    assert isinstance(chunks, list)
    body = _echo(event) if script["echoEvent"] else b"".join(base64.b64decode(chunk) for chunk in chunks)
    body *= int(script["repeat"])  # type: ignore[call-overload]
    result: dict[str, object] = {
        "statusCode": script["status"],
        "headers": script["headers"],
        "cookies": script["cookies"],
    }
    try:
        result |= {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        result |= {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}
    return result
