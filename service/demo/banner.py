"""The text printed once the demo is ready: what to open, how large it is, how to stop."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from service.demo.listen import display_address
from service.demo.samples import Sample

HEALTH_PATH = "/_s3proxy/health"

# A browser cannot connect to a wildcard address; show the loopback one instead.
_BROWSABLE_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


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
    """The ready banner: one URL per sample with its size, example curl commands, how to stop."""
    urls = [object_url(base, sample.key) for sample in samples]
    largest = object_url(base, max(samples, key=lambda sample: sample.size).key)
    width = max(len(url) for url in [*urls, base + HEALTH_PATH])
    lines = [
        "",
        f"s3-stream-proxy demo: {base} serves s3://{bucket} from an embedded S3 at {s3_url}",
        "",
        "Open in a browser or fetch with curl:",
    ]
    lines += [
        f"  {url:<{width}}  {format_size(sample.size):>10}  {sample.description}"
        for url, sample in zip(urls, samples, strict=True)
    ]
    lines += [
        f"  {base + HEALTH_PATH:<{width}}  {'':>10}  health check",
        "",
        "Try a byte range and a HEAD request:",
        f"  curl -r 1000-1999 -o /dev/null -w '%{{http_code}} %{{size_download}} bytes\\n' {largest}",
        f"  curl -I {urls[0]}",
        "",
        "Ctrl-C to stop.",
    ]
    return "\n".join(lines)
