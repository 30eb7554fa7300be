"""Prometheus metrics at ``/_s3proxy/metrics`` under uvicorn: each way a request ends moves
exactly the samples it should, by exactly the access record's facts.

The proxy runs as ``serve`` does (uvicorn on loopback, in this process), on moto behind a
fault-injecting relay. Each test scrapes before and after its request and compares the
difference of every sample (histogram buckets and sums aside, checked for plausibility)
with what the request's access record says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from prometheus_client.parser import text_string_to_metric_families

from service.metrics.prometheus import FIRST_BYTE_BUCKETS
from service.s3 import Refusals, error_kind, translate
from service.settings import ConfigError, Settings
from service.signing import Grant, signed_url
from tests.function_url.client import Observed, fetch
from tests.oracles.cases import OracleRequest
from tests.support.backends import Backend, seed_bucket
from tests.support.relay import CutAfter, Relay, Throttle
from tests.support.servers import serve_proxy

MiB = 1024 * 1024
SMALL = os.urandom(200_000)
EIGHT = os.urandom(8 * MiB)
ACCESS = "s3_stream_proxy.access"
SECRET = "m" * 40

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "metrics", {"docs/a.bin": SMALL, "eight.bin": EIGHT})


@pytest.fixture(scope="module")
def proxy(bucket: str, moto_relay: Relay) -> Iterator[str]:
    settings = Settings(
        bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", max_attempts=1, resume_attempts=0
    )
    with serve_proxy(settings) as url:
        yield url


def scrape(url: str) -> Samples:
    """Every sample of ``/_s3proxy/metrics`` but the ``_created`` timestamps."""
    response = httpx.get(f"{url}/_s3proxy/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def moved(before: Samples, after: Samples) -> dict[str, Any]:
    """The samples that changed, as ``name{label=value,...}`` -> difference; bucket and sum
    samples left out (see :func:`assert_buckets`)."""
    changes: dict[str, Any] = {}
    for (name, labels), value in after.items():
        if name.endswith(("_bucket", "_sum")):
            continue
        difference = value - before.get((name, labels), 0.0)
        if difference:
            shown = ",".join(f"{k}={v}" for k, v in labels)
            changes[f"{name}{{{shown}}}" if labels else name] = difference
    return changes


def assert_buckets(before: Samples, after: Samples, histogram: str, seconds: float) -> None:
    """One observation of ``seconds`` went into ``histogram``: every bucket from the first
    that holds it up moved by one, the ones below not at all, and the sum by about it."""
    for (name, labels), value in after.items():
        if name != f"{histogram}_bucket":
            continue
        bound = float(dict(labels)["le"])
        assert value - before.get((name, labels), 0.0) == (1 if seconds <= bound else 0), (bound, seconds)
    total = after[f"{histogram}_sum", ()] - before.get((f"{histogram}_sum", ()), 0.0)
    assert abs(total - seconds) < 1e-6, (total, seconds)


def ended(url: str, before: Samples, requests: float = 1, timeout: float = 15.0) -> Samples:
    """A scrape once ``requests`` more requests were counted (the count comes once the app
    is done, which may be just after the client has its answer)."""
    deadline = time.monotonic() + timeout
    while True:
        after = scrape(url)
        count = sum(v for (n, _), v in after.items() if n == "s3proxy_requests_total")
        if count - sum(v for (n, _), v in before.items() if n == "s3proxy_requests_total") >= requests:
            return after
        assert time.monotonic() < deadline, moved(before, after)
        time.sleep(0.02)


def record(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    """The one access record captured (the scrapes' own aside): its fields."""
    (found,) = [r for r in caplog.records if r.name == ACCESS and not r.__dict__["key"].startswith("_s3proxy/")]
    return {name: getattr(found, name) for name in ("status", "outcome", "bytesSent", "resumes")} | {
        "s3": found.__dict__["s3FirstByteMs"],
        "client": found.__dict__["clientFirstByteMs"],
        "duration": found.__dict__["durationMs"],
    }


def get(url: str, target: str, *headers: tuple[str, str]) -> Observed:
    return asyncio.run(fetch(url, OracleRequest(target=target, headers=headers)))


def assert_times(before: Samples, after: Samples, facts: dict[str, Any], *, s3: bool = True) -> None:
    """The three histograms got the access record's three times (milliseconds there)."""
    assert_buckets(before, after, "s3proxy_request_duration_seconds", facts["duration"] / 1000)
    assert_buckets(before, after, "s3proxy_client_first_byte_seconds", facts["client"] / 1000)
    if s3:
        assert_buckets(before, after, "s3proxy_s3_first_byte_seconds", facts["s3"] / 1000)


def test_a_complete_stream(proxy: str, caplog: pytest.LogCaptureFixture) -> None:
    before = scrape(proxy)
    with caplog.at_level(logging.INFO, logger=ACCESS):
        observed = get(proxy, "/docs/a.bin")
        after = ended(proxy, before)
    assert (observed.status, observed.body == SMALL) == (200, True)
    assert moved(before, after) == {
        "s3proxy_requests_total{outcome=complete,status=200}": 1,
        "s3proxy_sent_bytes_total": len(SMALL),
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_s3_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
    }
    facts = record(caplog)
    assert facts["bytesSent"] == len(SMALL)
    assert_times(before, after, facts)
    assert after["s3proxy_streams_in_flight", ()] == 0


def test_a_ranged_answer(proxy: str, caplog: pytest.LogCaptureFixture) -> None:
    before = scrape(proxy)
    with caplog.at_level(logging.INFO, logger=ACCESS):
        observed = get(proxy, "/docs/a.bin", ("Range", "bytes=100-1099"))
        after = ended(proxy, before)
    assert (observed.status, observed.body) == (206, SMALL[100:1100])
    assert moved(before, after) == {
        "s3proxy_requests_total{outcome=complete,status=206}": 1,
        "s3proxy_sent_bytes_total": 1000,
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_s3_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
    }
    assert_times(before, after, record(caplog))


def test_a_revalidation_answered_304(proxy: str, caplog: pytest.LogCaptureFixture) -> None:
    earlier = scrape(proxy)
    etag = httpx.head(f"{proxy}/docs/a.bin").headers["etag"]
    before = ended(proxy, earlier)  # the HEAD counted
    with caplog.at_level(logging.INFO, logger=ACCESS):
        observed = get(proxy, "/docs/a.bin", ("If-None-Match", etag))
        after = ended(proxy, before)
    assert (observed.status, observed.body) == (304, b"")
    assert moved(before, after) == {  # S3 answered 304: not an S3 error
        "s3proxy_requests_total{outcome=complete,status=304}": 1,
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_s3_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
    }
    assert_times(before, after, record(caplog))


def test_a_missing_key_counts_an_s3_error(proxy: str, caplog: pytest.LogCaptureFixture) -> None:
    before = scrape(proxy)
    with caplog.at_level(logging.INFO, logger=ACCESS):
        observed = get(proxy, "/no/such/key")
        after = ended(proxy, before)
    assert observed.status == 404
    assert moved(before, after) == {
        "s3proxy_requests_total{outcome=rejected,status=404}": 1,
        "s3proxy_sent_bytes_total": len(observed.body),
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_s3_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
        "s3proxy_s3_errors_total{kind=not_found}": 1,
    }
    assert_times(before, after, record(caplog))


def test_a_bad_key_asks_s3_nothing(proxy: str) -> None:
    before = scrape(proxy)
    observed = get(proxy, "/a/../b")
    after = ended(proxy, before)
    assert observed.status == 400
    assert moved(before, after) == {
        "s3proxy_requests_total{outcome=rejected,status=400}": 1,
        "s3proxy_sent_bytes_total": len(observed.body),
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
    }


def test_a_client_that_leaves_mid_stream(proxy: str, moto_relay: Relay, caplog: pytest.LogCaptureFixture) -> None:
    moto_relay.fault = Throttle(bytes_per_second=4 * MiB)
    before = scrape(proxy)
    with caplog.at_level(logging.INFO, logger=ACCESS):
        with httpx.stream("GET", f"{proxy}/eight.bin") as response:
            chunks, received = response.iter_raw(), 0
            while received < MiB:
                received += len(next(chunks))
            during = scrape(proxy)  # the stream is in flight, and its bytes so far count
            assert during["s3proxy_streams_in_flight", ()] == 1
            assert during["s3proxy_sent_bytes_total", ()] - before["s3proxy_sent_bytes_total", ()] >= received
        after = ended(proxy, before)
    facts = record(caplog)
    assert facts["outcome"] == "client_aborted"
    assert 0 < facts["bytesSent"] < len(EIGHT)
    assert moved(before, after) == {
        "s3proxy_requests_total{outcome=client_aborted,status=200}": 1,
        "s3proxy_sent_bytes_total": facts["bytesSent"],
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_s3_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
    }
    assert after["s3proxy_streams_in_flight", ()] == 0
    assert_times(before, after, facts)


def test_an_s3_body_that_breaks_mid_stream(proxy: str, moto_relay: Relay, caplog: pytest.LogCaptureFixture) -> None:
    moto_relay.fault = CutAfter(limit=2 * MiB)
    before = scrape(proxy)
    with caplog.at_level(logging.INFO, logger=ACCESS):
        observed = get(proxy, "/eight.bin")
        after = ended(proxy, before)
    assert (observed.status, observed.complete) == (200, False)
    facts = record(caplog)
    assert (facts["outcome"], facts["bytesSent"]) == ("upstream_failed", len(observed.body))
    assert moved(before, after) == {
        "s3proxy_requests_total{outcome=upstream_failed,status=200}": 1,
        "s3proxy_sent_bytes_total": len(observed.body),
        "s3proxy_client_first_byte_seconds_count": 1,
        "s3proxy_s3_first_byte_seconds_count": 1,
        "s3proxy_request_duration_seconds_count": 1,
        "s3proxy_s3_errors_total{kind=body_broken}": 1,
    }
    assert_times(before, after, facts)


def test_the_proxys_own_paths_are_not_counted(proxy: str) -> None:
    before = scrape(proxy)
    assert httpx.get(f"{proxy}/_s3proxy/health").status_code == 200
    scrape(proxy)
    time.sleep(0.3)
    assert moved(before, scrape(proxy)) == {}


def test_every_s3_error_kind_is_shown_from_the_start(bucket: str, moto_relay: Relay) -> None:
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1")
    with serve_proxy(settings) as url:
        samples = scrape(url)
    kinds = {
        dict(labels)["kind"]: value for (name, labels), value in samples.items() if name == "s3proxy_s3_errors_total"
    }
    assert kinds == dict.fromkeys(
        [
            "not_found",
            "forbidden",
            "throttled",
            "timeout",
            "unreachable",
            "no_credentials",
            "server_error",
            "bad_key",
            "body_broken",
        ],
        0.0,
    )
    buckets = sorted(
        float(dict(labels)["le"]) for (name, labels) in samples if name == "s3proxy_s3_first_byte_seconds_bucket"
    )
    assert buckets == [*FIRST_BYTE_BUCKETS, float("inf")]


def test_openmetrics_when_asked(proxy: str) -> None:
    response = httpx.get(f"{proxy}/_s3proxy/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_metrics_need_no_signed_link(bucket: str, moto_relay: Relay) -> None:
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", signing_secrets=(SECRET,))
    with serve_proxy(settings) as url:
        assert httpx.get(f"{url}/docs/a.bin").status_code == 403
        link = signed_url(url, Grant("docs/a.bin", int(time.time()) + 60, (), None), SECRET)
        assert httpx.get(link).status_code == 200
        after = ended(url, {}, requests=2)
    assert after["s3proxy_requests_total", (("outcome", "rejected"), ("status", "403"))] == 1
    assert after["s3proxy_requests_total", (("outcome", "complete"), ("status", "200"))] == 1


def test_metrics_switched_off(bucket: str, moto_relay: Relay) -> None:
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1", metrics=False)
    with serve_proxy(settings) as url:
        assert httpx.get(f"{url}/_s3proxy/metrics").status_code == 404
        assert httpx.get(f"{url}/_s3proxy/health").status_code == 200


def _client_error(status: int, code: str) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_client_error(404, "NoSuchKey"), "not_found"),
        (_client_error(403, "AccessDenied"), "forbidden"),
        (_client_error(503, "SlowDown"), "throttled"),
        (_client_error(500, "InternalError"), "server_error"),
        (_client_error(400, "KeyTooLongError"), "bad_key"),
        (_client_error(304, "NotModified"), None),  # answers to the request's own conditions
        (_client_error(412, "PreconditionFailed"), None),
        (_client_error(416, "InvalidRange"), None),
        (ReadTimeoutError(endpoint_url="http://s3"), "timeout"),
        (EndpointConnectionError(endpoint_url="http://s3"), "unreachable"),
        (NoCredentialsError(), "no_credentials"),
    ],
)
@pytest.mark.parametrize("forbidden_as_not_found", [False, True])
def test_s3_error_kinds(exc: Exception, kind: str | None, forbidden_as_not_found: bool) -> None:
    error = translate(exc, Refusals(forbidden_as_not_found=forbidden_as_not_found, retry_after=1))
    assert error is not None
    assert error_kind(exc, error) == kind  # a 403 is forbidden even when answered as a 404


@pytest.mark.parametrize(("raw", "value"), [("on", True), ("off", False), ("true", True), ("0", False)])
def test_the_setting(raw: str, value: bool) -> None:
    assert Settings.from_env({"S3_PROXY_BUCKET": "abc", "S3_PROXY_METRICS": raw}).metrics is value
    assert Settings.from_env({"S3_PROXY_BUCKET": "abc"}).metrics is None  # the door's default


def test_a_bad_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^S3_PROXY_METRICS: expected on or off, got 'sometimes'$"):
        Settings.from_env({"S3_PROXY_BUCKET": "abc", "S3_PROXY_METRICS": "sometimes"})


def test_the_grafana_dashboard_asks_only_for_metrics_the_proxy_exports(proxy: str) -> None:
    dashboard = json.loads((Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    asked = {name for expr in expressions for name in re.findall(r"\bs3proxy_\w+", expr)}
    before = scrape(proxy)
    assert httpx.get(f"{proxy}/docs/a.bin").status_code == 200  # so a labelled sample exists
    exported = {name for name, _ in ended(proxy, before)}
    assert asked <= exported, asked - exported
    assert {"s3proxy_requests_total", "s3proxy_sent_bytes_total", "s3proxy_streams_in_flight"} <= asked
    assert {"s3proxy_client_first_byte_seconds_bucket", "s3proxy_s3_first_byte_seconds_bucket"} <= asked
    assert "s3proxy_s3_errors_total" in asked


def test_each_app_counts_alone(proxy: str, bucket: str, moto_relay: Relay) -> None:
    """The registry is the app's, not the library's global one: two apps in one process."""
    settings = Settings(bucket=bucket, endpoint_url=moto_relay.url, region="us-east-1")
    with serve_proxy(settings) as other:
        before = scrape(proxy)
        assert get(other, "/docs/a.bin").status == 200
        counted = ended(other, {})
        time.sleep(0.3)
        assert moved(before, scrape(proxy)) == {}
    assert counted["s3proxy_requests_total", (("outcome", "complete"), ("status", "200"))] == 1
