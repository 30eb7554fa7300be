"""The buffered (BUFFERED invoke mode) form of the cycle: one JSON result per invocation.

Result shapes: payload format 2.0 response (Lambda docs "urls-invocation.html", API Gateway
docs "http-api-develop-integrations-lambda.html"); REST proxy output format
("set-up-lambda-proxy-integrations.html"); ALB ("lambda-functions.html", multi-value headers
mirror the request).  Lambda refuses results over 6 MB, so the cycle answers 413 instead.
"""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

import anyio

from service.lambda_bridge.cycle import HTTPCycle, ResponseState, error_response
from service.lambda_bridge.events import HTTPRequest
from service.lambda_bridge.framing import ResponseHead
from service.lambda_bridge.runtime_api import RuntimeAPIClient
from service.requestfacts import mark_replaced

BUFFERED_RESPONSE_LIMIT = 6 * 1024 * 1024
"""Largest JSON result posted, in bytes: Lambda's 6 MB synchronous response quota."""

TOO_LARGE_TEXT = (
    "Payload Too Large: the object is too large for a buffered Lambda integration "
    f"(limit {BUFFERED_RESPONSE_LIMIT} bytes). Use a Function URL with InvokeMode "
    "RESPONSE_STREAM and S3_PROXY_LAMBDA_INVOKE_MODE=RESPONSE_STREAM.\n"
)

_TEXT_TYPES = frozenset(
    {"application/json", "application/javascript", "application/xml", "application/x-www-form-urlencoded"}
)


class BufferedCycle(HTTPCycle):
    """Collect the response and post it as one JSON result once the app is done.

    The body is collected only while its encoded size can still fit the 6 MB limit; past it
    the app is cancelled and a 413 with a short text body is posted instead.
    """

    def __init__(self, request: HTTPRequest, client: RuntimeAPIClient, request_id: str) -> None:
        super().__init__(request, client, request_id)
        self._head = ResponseHead(200)
        self._body = bytearray()
        self._text = False
        self._too_large = False

    async def _start(self, head: ResponseHead) -> None:
        self._head = head
        self._text = is_text(head)

    async def _write(self, data: bytes) -> None:
        self._body += data
        if encoded_size_floor(len(self._body), text=self._text) > BUFFERED_RESPONSE_LIMIT:
            self._too_large = True
            self._body.clear()
            mark_replaced(self.request.scope, 413)
            self._stop_app()
            await anyio.lowlevel.checkpoint()

    async def _end(self) -> None:
        """Nothing to do: the result is posted by :meth:`_finish`."""

    async def _finish(self, failure: Exception | None) -> None:
        await self._client.post_response(self._request_id, self._payload(failure))

    def _payload(self, failure: Exception | None) -> bytes:
        if self._too_large:
            return self._plain_payload(413, TOO_LARGE_TEXT)
        if failure is not None and self.state is not ResponseState.COMPLETE:
            response = error_response(failure)
            return self._plain_payload(response.status_code, bytes(response.body).decode())
        payload = _dumps(build_result(self.request, self._head, bytes(self._body)))
        if len(payload) > BUFFERED_RESPONSE_LIMIT:
            return self._plain_payload(413, TOO_LARGE_TEXT)
        return payload

    def _plain_payload(self, status: int, text: str) -> bytes:
        head = ResponseHead(status, {"content-type": ["text/plain; charset=utf-8"]})
        return _dumps(build_result(self.request, head, text.encode()))


def build_result(request: HTTPRequest, head: ResponseHead, body: bytes) -> dict[str, Any]:
    """The JSON result for ``request``'s event kind: payload 2.0 (``headers`` joined, ``cookies``)
    or REST/ALB (``multiValueHeaders``; ALB also gets ``statusDescription``)."""
    text, is_base64 = encode_body(body, text=is_text(head))
    result: dict[str, Any] = {"statusCode": head.status}
    if request.kind == "v2":
        result.update(headers=head.joined_headers, cookies=head.cookies)
    else:
        result.update(_v1_headers(request, head))
    result.update(body=text, isBase64Encoded=is_base64)
    return result


def _v1_headers(request: HTTPRequest, head: ResponseHead) -> dict[str, Any]:
    event = request.scope.get("aws.event") or {}
    fields: dict[str, Any] = {}
    if "elb" in (event.get("requestContext") or {}):
        fields["statusDescription"] = f"{head.status} {_reason(head.status)}"
        if "multiValueHeaders" not in event:
            # ALB without multi-value headers takes single values only, so one Set-Cookie
            # (the last) can pass; the target group setting decides, not us.
            cookie = {"set-cookie": head.cookies[-1]} if head.cookies else {}
            return fields | {"headers": head.joined_headers | cookie}
    cookies = {"set-cookie": head.cookies} if head.cookies else {}
    return fields | {"multiValueHeaders": head.headers | cookies}


def is_text(head: ResponseHead) -> bool:
    """Whether the body is sent as a UTF-8 string rather than base64: a text media type
    (``text/*``, JSON, XML, JavaScript, form data) with no content coding."""
    encoding = (head.header("content-encoding") or "identity").strip().lower()
    media_type = (head.header("content-type") or "").split(";")[0].strip().lower()
    textual = media_type.startswith("text/") or media_type.endswith(("+json", "+xml")) or media_type in _TEXT_TYPES
    return encoding == "identity" and textual


def encode_body(body: bytes, *, text: bool) -> tuple[str, bool]:
    """``(body string, isBase64Encoded)``: UTF-8 text as is, anything else in standard base64."""
    if text:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    if not body:
        return "", False
    return base64.b64encode(body).decode("ascii"), True


def encoded_size_floor(size: int, *, text: bool) -> int:
    """The least number of bytes ``size`` body bytes take in the JSON result: base64 makes
    4 of every 3 bytes; JSON text takes at least one byte per input byte."""
    return size if text else (size + 2) // 3 * 4


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _dumps(result: dict[str, Any]) -> bytes:
    return json.dumps(result, separators=(",", ":")).encode("utf-8")
