"""The text printed once the demo is ready: how it serves, what to open, how large it is, how to stop."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from s3proxy_dev.demo.listen import display_address
from s3proxy_dev.demo.samples import Sample
from s3proxy_dev.function_url.config import PlatformLimits

HEALTH_PATH = "/_s3proxy/health"

# A browser cannot connect to a wildcard address; show the loopback one instead (a lookup, not a bind).
_BROWSABLE_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # nosec B104


def base_url(host: str, port: int) -> str:
    """``http://host:port`` a browser on this machine can open, e.g. ``http://[::1]:8080``."""
    return f"http://{display_address(_BROWSABLE_HOST.get(host, host), port)}"


def object_url(base: str, key: str) -> str:
    """URL of the object ``key``: UTF-8, percent-encoded (RFC 3986 §2.1), ``/`` kept."""
    return f"{base}/{quote(key, safe='/')}"


def format_size(size: int) -> str:
    """Human-readable binary size: ``512 B``, ``571.0 KiB``, ``12.4 MiB``, ``256.0 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            break
        value /= 1024
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def format_banner(base: str, bucket: str, s3_url: str, samples: Sequence[Sample]) -> str:
    """The ready banner of the proxy under uvicorn: one URL per sample with its size, example
    curl commands, how to stop."""
    largest = _largest_url(base, samples)
    examples = [
        "Try a byte range and a HEAD request:",
        _range_example("curl", largest),
        f"  curl -I {object_url(base, samples[0].key)}",
    ]
    return _assemble([_headline(base, bucket, s3_url)], base, samples, examples)


def format_lambda_banner(
    base: str, bucket: str, s3_url: str, samples: Sequence[Sample], limits: PlatformLimits | None
) -> str:
    """The ready banner of the Lambda path: as :func:`format_banner`, plus which limits apply
    (``None``: lifted) and ``curl -N`` examples, which show each part of a stream as it arrives."""
    intro = [
        _headline(base, bucket, s3_url),
        "through the Lambda path: our Lambda runtime (python -m service lambda) behind a local Function URL",
        "in RESPONSE_STREAM mode; one runtime process serves one request at a time.",
        _limits_line(limits),
    ]
    first = object_url(base, samples[0].key)
    examples = [
        "Stream with curl -N (no buffering: each part is passed on as it arrives):",
        f"  curl -N -s {first} | sha256sum    # compare: python -m s3proxy_dev.demo.manifest",
        f"  curl -N -s -o /dev/null -w '%{{http_code}} %{{size_download}} bytes in %{{time_total}} s\\n' {first}",
        _range_example("curl -N", _largest_url(base, samples)),
    ]
    return _assemble(intro, base, samples, examples)


def _headline(base: str, bucket: str, s3_url: str) -> str:
    return f"s3-stream-proxy demo: {base} serves s3://{bucket} from an embedded S3 at {s3_url}"


def _limits_line(limits: PlatformLimits | None) -> str:
    if limits is None:
        return "Lambda's platform limits are lifted: no bandwidth cap, no response size limit."
    return (
        f"Lambda's limits are on (--no-limits lifts them): each response streams its first "
        f"{format_size(limits.burst_bytes)} at full speed,\nthen {format_size(limits.rate_bytes_per_second)}/s, "
        f"and is cut off after {format_size(limits.max_streamed_bytes)}."
    )


def _largest_url(base: str, samples: Sequence[Sample]) -> str:
    return object_url(base, max(samples, key=lambda sample: sample.size).key)


def _range_example(curl: str, url: str) -> str:
    return f"  {curl} -r 1000-1999 -o /dev/null -w '%{{http_code}} %{{size_download}} bytes\\n' {url}"


def _assemble(intro: list[str], base: str, samples: Sequence[Sample], examples: list[str]) -> str:
    """Intro lines, the sample URLs with sizes, the examples, then how to stop."""
    urls = [object_url(base, sample.key) for sample in samples]
    width = max(len(url) for url in [*urls, base + HEALTH_PATH])
    lines = ["", *intro, "", "Open in a browser or fetch with curl:"]
    lines += [
        f"  {url:<{width}}  {format_size(sample.size):>10}  {sample.description}"
        for url, sample in zip(urls, samples, strict=True)
    ]
    lines += [f"  {base + HEALTH_PATH:<{width}}  {'':>10}  health check", "", *examples, "", "Ctrl-C to stop."]
    return "\n".join(lines)
