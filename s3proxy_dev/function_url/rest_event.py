"""Build the API Gateway REST API proxy event (payload format 1.0) from a client's HTTP request.

What a REST API sends a Lambda proxy integration, also in response streaming mode, where "the
input format is the same" (API Gateway docs, response-transfer-mode-lambda.html): the fields of
"Input format of a Lambda function for proxy integration" (set-up-lambda-proxy-integrations.html)
for one greedy resource ``/{proxy+}`` with method ``ANY`` on one stage, as the template's
``RestApiStreaming`` option deploys it.

Not modelled, as the docs leave them open: whether ``path`` arrives percent-decoded (the event
carries the request path as the client sent it), and the authorizer fields.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from s3proxy_dev.function_url.config import FunctionIdentity
from s3proxy_dev.function_url.event import ClientRequest, InvocationIds, JsonObject, add_body, split_target

RESOURCE = "/{proxy+}"
"""The one resource the template's REST API has: every path below the stage."""


def build_rest_event(request: ClientRequest, ids: InvocationIds, function: FunctionIdentity, stage: str) -> JsonObject:
    """Return the REST proxy event for ``request`` on ``stage`` as a JSON-ready dict.

    ``headers`` and ``queryStringParameters`` hold the last value of each name, the
    ``multiValue`` forms every value in order (set-up-lambda-proxy-integrations.html); header
    names keep the client's case; a request without a query has ``null`` for both query maps.
    """
    raw_path, raw_query = split_target(request.target)
    multi_headers = _multi_headers(request, ids.trace_header)
    headers = {name: values[-1] for name, values in multi_headers.items()}
    multi_query = _multi_query(raw_query)
    now = time.time()
    context = _request_context(request, ids, function, stage=stage, raw_path=raw_path, headers=headers, now=now)
    event: JsonObject = {
        "resource": RESOURCE,
        "path": raw_path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": raw_path.removeprefix("/")},
        "stageVariables": None,
        "requestContext": context,
        "body": None,
        "isBase64Encoded": False,
    }
    if request.body:
        add_body(event, request.body, _header(headers, "content-type"))
    return event


def _multi_headers(request: ClientRequest, trace_header: str) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for raw_name, raw_value in request.headers:
        headers.setdefault(raw_name.decode("latin-1"), []).append(raw_value.decode("latin-1"))
    # API Gateway adds these; the values describe the local listener (no TLS).
    forwarded = ", ".join(_pop(headers, "x-forwarded-for"))
    headers["X-Forwarded-For"] = [f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip]
    headers["X-Forwarded-Proto"] = _pop(headers, "x-forwarded-proto") or ["http"]
    _pop(headers, "x-amzn-trace-id")
    headers["X-Amzn-Trace-Id"] = [trace_header]
    return headers


def _pop(headers: dict[str, list[str]], name: str) -> list[str]:
    """Remove field ``name`` (any case) from ``headers``; return its values."""
    values: list[str] = []
    for key in [key for key in headers if key.lower() == name]:
        values += headers.pop(key)
    return values


def _header(headers: dict[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _multi_query(raw_query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


def _request_context(
    request: ClientRequest,
    ids: InvocationIds,
    function: FunctionIdentity,
    *,
    stage: str,
    raw_path: str,
    headers: dict[str, str],
    now: float,
) -> JsonObject:
    return {
        "accountId": function.account_id,
        "apiId": function.url_id[:10],
        "domainName": f"{function.url_id[:10]}.execute-api.{function.region}.amazonaws.com",
        "domainPrefix": function.url_id[:10],
        "extendedRequestId": ids.request_id,
        "httpMethod": request.method,
        "identity": {"sourceIp": request.source_ip, "userAgent": _header(headers, "user-agent")},
        "path": f"/{stage}{raw_path}",
        "protocol": "HTTP/1.1",
        "requestId": ids.request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": "proxy0",
        "resourcePath": RESOURCE,
        "stage": stage,
    }
