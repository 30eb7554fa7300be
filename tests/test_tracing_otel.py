"""OpenTelemetry spans (``S3_PROXY_TRACING=otel``): the real SDK, spans kept in memory, the proxy
under a real uvicorn on loopback, S3 behind the test relay. Nothing is exported over the network.

Each request is one SERVER span; each S3 call one CLIENT span under it; S3 gets the client
span's X-Ray header; a caller's W3C ``traceparent`` or X-Ray header is continued.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from service.otel import DEFAULT_SERVICE_NAME, OtelTracing, _exporter
from service.settings import ConfigError, Settings
from tests.support.relay import CutAfter, Relay
from tests.support.servers import serve_function_url, serve_proxy

BODY = bytes(range(256)) * 1024  # 256 KiB
KEY = "otel/a.bin"
W3C_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
W3C_PARENT = "00f067aa0ba902b7"
XRAY_ROOT = "1-6750a3c1-0c4ea2e2b1f0d5a7c3e9b8f1"
XRAY_PARENT = "53995c3f42cd8ad8"

SERVER_KEYS = {
    "http.request.method",
    "url.path",
    "url.scheme",
    "network.protocol.version",
    "http.response.status_code",
    "s3proxy.outcome",
    "s3proxy.bytes_sent",
    "s3proxy.bytes_planned",
    "s3proxy.resumes",
    "s3proxy.request_id",
}
"""Every attribute of a server span for an answered request; ``error.type`` joins them on failure."""


class Traced:
    """The proxy with in-memory spans, and what S3 was sent through the relay."""

    def __init__(self, url: str, exporter: InMemorySpanExporter, relay: Relay, bucket: str) -> None:
        self.url = url
        self.exporter = exporter
        self.relay = relay
        self.bucket = bucket

    def spans(self, servers: int = 1, timeout: float = 10.0) -> list[ReadableSpan]:
        """The finished spans once ``servers`` server spans have ended (a server span ends when the
        app is done with the request, which may be just after the client has its last byte)."""
        deadline = time.monotonic() + timeout
        while True:
            finished = list(self.exporter.get_finished_spans())
            if sum(span.kind is SpanKind.SERVER for span in finished) >= servers:
                return finished
            if time.monotonic() > deadline:
                raise AssertionError(f"{servers} server span(s) expected, got {[s.name for s in finished]}")
            time.sleep(0.01)

    def tree(self) -> tuple[ReadableSpan, list[ReadableSpan]]:
        """The one request's server span and its client spans, checked to form one tree."""
        spans = self.spans()
        (server,) = [span for span in spans if span.kind is SpanKind.SERVER]
        clients = [span for span in spans if span.kind is SpanKind.CLIENT]
        assert len(spans) == 1 + len(clients), [span.name for span in spans]
        for client in clients:
            assert client.parent is not None
            assert client.parent.span_id == server.context.span_id
            assert client.context.trace_id == server.context.trace_id
        return server, sorted(clients, key=lambda span: span.start_time or 0)

    def s3_trace_headers(self) -> list[str | None]:
        return [headers.get("x-amzn-trace-id") for headers in self.relay.headers_for(KEY)]


TracedFactory = Callable[..., Traced]


@pytest.fixture
def start_traced(s3: object, bucket: str, relay: Relay) -> Iterator[TracedFactory]:
    s3.put_object(Bucket=bucket, Key=KEY, Body=BODY)  # type: ignore[attr-defined]
    with ExitStack() as stack:

        def start(**overrides: object) -> Traced:
            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            fields: dict[str, object] = {"bucket": bucket, "endpoint_url": relay.url, "region": "us-east-1"}
            fields.update(overrides)
            settings = Settings(**fields)  # type: ignore[arg-type]
            url = stack.enter_context(serve_proxy(settings, tracing=OtelTracing(provider)))
            return Traced(url, exporter, relay, bucket)

        yield start


@pytest.fixture
def traced(start_traced: TracedFactory) -> Traced:
    return start_traced()


def _hex(number: int, digits: int) -> str:
    return f"{number:0{digits}x}"


def _xray_of(span: ReadableSpan) -> str:
    """The X-Ray header naming ``span`` as the parent, sampled."""
    trace_id = _hex(span.context.trace_id, 32)
    return f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={_hex(span.context.span_id, 16)};Sampled=1"


def _client_attributes(traced: Traced, operation: str, status: int) -> dict[str, object]:
    return {
        "rpc.system": "aws-api",
        "rpc.service": "S3",
        "rpc.method": operation,
        "aws.s3.bucket": traced.bucket,
        "aws.s3.key": KEY,
        "http.response.status_code": status,
    }


def _without_request_id(span: ReadableSpan) -> dict[str, object]:
    """A client span's attributes less ``aws.request_id``, S3's own id, which differs every time."""
    attributes = dict(span.attributes or {})
    request_id = attributes.pop("aws.request_id", None)
    assert request_id is None or isinstance(request_id, str)
    return attributes


def test_a_complete_get_is_a_server_span_over_one_get_object_span(traced: Traced) -> None:
    got = httpx.get(f"{traced.url}/{KEY}", timeout=30)
    assert got.content == BODY
    server, clients = traced.tree()
    assert server.name == "GET"
    assert server.parent is None
    assert dict(server.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": f"/{KEY}",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
        "s3proxy.outcome": "complete",
        "s3proxy.bytes_sent": len(BODY),
        "s3proxy.bytes_planned": len(BODY),
        "s3proxy.resumes": 0,
        "s3proxy.request_id": got.headers["x-request-id"],
    }
    assert server.status.status_code is StatusCode.UNSET
    (client,) = clients
    assert (client.name, client.kind) == ("S3.GetObject", SpanKind.CLIENT)
    assert _without_request_id(client) == _client_attributes(traced, "GetObject", 200)
    assert client.status.status_code is StatusCode.UNSET
    assert traced.s3_trace_headers() == [_xray_of(client)]


def test_a_range_is_a_206_server_span_and_a_ranged_get_object(traced: Traced) -> None:
    got = httpx.get(f"{traced.url}/{KEY}", headers={"range": "bytes=1000-66535"}, timeout=30)
    assert got.status_code == 206
    assert got.content == BODY[1000:66536]
    server, (client,) = traced.tree()
    attributes = dict(server.attributes or {})
    assert attributes["http.response.status_code"] == 206
    assert attributes["s3proxy.outcome"] == "complete"
    assert attributes["s3proxy.bytes_sent"] == attributes["s3proxy.bytes_planned"] == 65536
    assert set(attributes) == SERVER_KEYS
    assert _without_request_id(client) == _client_attributes(traced, "GetObject", 206)
    assert traced.s3_trace_headers() == [_xray_of(client)]


def test_a_body_that_breaks_mid_stream_is_an_error_server_span(start_traced: TracedFactory) -> None:
    traced = start_traced(resume_attempts=0)
    traced.relay.fault = CutAfter(limit=64 * 1024)
    received = b""
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{traced.url}/{KEY}", timeout=30) as got:
        assert got.status_code == 200
        for chunk in got.iter_raw():
            received += chunk
    assert 0 < len(received) < len(BODY)
    server, (client,) = traced.tree()
    attributes = dict(server.attributes or {})
    assert attributes["http.response.status_code"] == 200
    assert attributes["s3proxy.outcome"] == "upstream_failed"
    assert attributes["error.type"] == "StreamBroken"
    assert attributes["s3proxy.bytes_planned"] == len(BODY)
    assert len(received) <= attributes["s3proxy.bytes_sent"] < len(BODY)  # type: ignore[operator]
    assert set(attributes) == SERVER_KEYS | {"error.type"}
    assert server.status.status_code is StatusCode.ERROR
    assert server.status.description == "upstream_failed"
    assert [event.name for event in server.events] == ["exception"]
    # The call itself succeeded: S3 answered 200; its body broke later.
    assert _without_request_id(client) == _client_attributes(traced, "GetObject", 200)
    assert client.status.status_code is StatusCode.UNSET


def test_a_missing_key_fails_the_s3_span_not_the_server_span(traced: Traced) -> None:
    got = httpx.head(f"{traced.url}/otel/missing.bin", timeout=30)
    assert got.status_code == 404
    server, (client,) = traced.tree()
    assert server.name == "HEAD"
    assert dict(server.attributes or {})["s3proxy.outcome"] == "rejected"
    assert server.status.status_code is StatusCode.UNSET
    assert client.name == "S3.HeadObject"
    attributes = _without_request_id(client)
    assert attributes["http.response.status_code"] == 404
    assert attributes["aws.s3.key"] == "otel/missing.bin"
    assert attributes["error.type"] == "404"  # a HEAD answer has no body, so no S3 error code
    assert client.status.status_code is StatusCode.ERROR


def test_a_w3c_traceparent_is_continued(traced: Traced) -> None:
    headers = {
        "traceparent": f"00-{W3C_TRACE}-{W3C_PARENT}-01",
        "x-amzn-trace-id": f"Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=1",
    }
    assert httpx.get(f"{traced.url}/{KEY}", headers=headers, timeout=30).status_code == 200
    server, (client,) = traced.tree()
    assert _hex(server.context.trace_id, 32) == W3C_TRACE
    assert server.parent is not None
    assert (_hex(server.parent.span_id, 16), server.parent.is_remote) == (W3C_PARENT, True)
    assert traced.s3_trace_headers() == [_xray_of(client)]
    assert _xray_of(client).startswith(f"Root=1-{W3C_TRACE[:8]}-{W3C_TRACE[8:]};")


def test_an_x_ray_header_is_continued_without_a_traceparent(traced: Traced) -> None:
    headers = {
        "x-amzn-trace-id": f"Self=1-6750a3c1-aaaaaaaaaaaaaaaaaaaaaaaa;Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=1"
    }
    assert httpx.get(f"{traced.url}/{KEY}", headers=headers, timeout=30).status_code == 200
    server, (client,) = traced.tree()
    assert _hex(server.context.trace_id, 32) == XRAY_ROOT.replace("1-", "", 1).replace("-", "")
    assert server.parent is not None
    assert _hex(server.parent.span_id, 16) == XRAY_PARENT
    (sent,) = traced.s3_trace_headers()
    assert sent == _xray_of(client)
    assert sent is not None
    assert sent.startswith(f"Root={XRAY_ROOT};Parent=")


def test_an_unsampled_caller_is_not_recorded_but_s3_still_gets_the_trace(traced: Traced) -> None:
    """The SDK's default sampler follows the caller's decision; the trace id still travels."""
    headers = {"x-amzn-trace-id": f"Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=0"}
    assert httpx.get(f"{traced.url}/{KEY}", headers=headers, timeout=30).status_code == 200
    (sent,) = traced.s3_trace_headers()
    assert sent is not None
    assert sent.startswith(f"Root={XRAY_ROOT};Parent=")
    assert sent.endswith(";Sampled=0")
    assert traced.exporter.get_finished_spans() == ()


def test_exporter_from_otel_traces_exporter() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    assert isinstance(_exporter({}), OTLPSpanExporter)
    assert isinstance(_exporter({"OTEL_TRACES_EXPORTER": "otlp"}), OTLPSpanExporter)
    assert isinstance(_exporter({"OTEL_TRACES_EXPORTER": "Console"}), ConsoleSpanExporter)
    assert _exporter({"OTEL_TRACES_EXPORTER": "none"}) is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param(
            {"OTEL_TRACES_EXPORTER": "zipkin"},
            "OTEL_TRACES_EXPORTER: expected one of otlp, console, none, got 'zipkin'",
            id="exporter",
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf is installed with the otel extra, got 'grpc'",
            id="protocol",
        ),
    ],
)
def test_an_otel_setting_this_install_cannot_serve_is_a_config_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        OtelTracing.from_env(environ)
    assert str(info.value) == message


def test_service_name_defaults_to_the_project_unless_otel_names_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    tracing = OtelTracing.from_env({"OTEL_TRACES_EXPORTER": "none"})
    assert tracing.resource.attributes["service.name"] == DEFAULT_SERVICE_NAME
    monkeypatch.setenv("OTEL_SERVICE_NAME", "files-eu")
    assert OtelTracing.from_env({"OTEL_TRACES_EXPORTER": "none"}).resource.attributes["service.name"] == "files-eu"


def test_serve_with_a_bad_otel_setting_exits_2_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_PROXY_", "OTEL_"))}
    env.update({"S3_PROXY_BUCKET": "media", "S3_PROXY_TRACING": "otel", "OTEL_TRACES_EXPORTER": "jaeger"})
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "s3-stream-proxy: error: OTEL_TRACES_EXPORTER: expected one of otlp, console, none, got 'jaeger'"
    ]


def _console_spans(output: str) -> list[dict[str, Any]]:
    """The spans the console exporter wrote among a runtime's log lines: each an indented JSON
    object from a line ``{`` to a line ``}``; log records are one line each."""
    spans: list[dict[str, Any]] = []
    collecting: list[str] | None = None
    for line in output.splitlines():
        if line == "{":
            collecting = [line]
        elif collecting is not None:
            collecting.append(line)
            if line == "}":
                spans.append(json.loads("\n".join(collecting)))
                collecting = None
    return spans


@pytest.mark.lambda_door
def test_through_the_function_url_the_spans_join_the_invocations_trace(
    s3: object, bucket: str, relay: Relay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime child's spans, written by the console exporter to its output: the server span
    continues the invocation's ``Lambda-Runtime-Trace-Id``, and S3 gets the S3 span's header."""
    s3.put_object(Bucket=bucket, Key=KEY, Body=BODY)  # type: ignore[attr-defined]
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    # The emulator's trace header says Sampled=0, as Lambda's does without active tracing.
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1", tracing="otel")
    output = tmp_path / "runtime.log"
    with serve_function_url(settings, runtime_output=output) as url:
        got = httpx.get(f"{url}/{KEY}", timeout=30)
        assert got.content == BODY
        deadline = time.monotonic() + 10
        while len(_console_spans(output.read_text())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    spans = {span["kind"]: span for span in _console_spans(output.read_text())}
    assert set(spans) == {"SpanKind.SERVER", "SpanKind.CLIENT"}
    server, client = spans["SpanKind.SERVER"], spans["SpanKind.CLIENT"]
    root = got.headers["x-amzn-trace-id"].removeprefix("Root=1-").replace("-", "")
    assert server["context"]["trace_id"] == f"0x{root}"
    assert server["parent_id"] is not None  # the invocation's Parent, Lambda's segment
    assert server["attributes"]["s3proxy.outcome"] == "complete"
    assert server["attributes"]["s3proxy.request_id"] == got.headers["x-amzn-requestid"]
    assert client["name"] == "S3.GetObject"
    assert client["parent_id"] == server["context"]["span_id"]
    assert client["context"]["trace_id"] == server["context"]["trace_id"]
    (sent,) = [headers.get("x-amzn-trace-id") for headers in relay.headers_for(KEY)]
    span_id = client["context"]["span_id"].removeprefix("0x")
    assert sent == f"Root=1-{root[:8]}-{root[8:]};Parent={span_id};Sampled=1"
