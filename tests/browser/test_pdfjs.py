"""PDF.js in headless Chromium opens the demo's 13 MB PDF through the proxy by byte ranges.

The page comes from another origin, so this also checks the proxy's CORS answer: PDF.js
switches to range requests only when script can read ``Accept-Ranges: bytes`` and
``Content-Length`` on its first response, and ``Accept-Ranges`` is not a CORS-safelisted
response header, so the proxy must list it in ``Access-Control-Expose-Headers`` (Fetch
standard, "CORS protocol"). The page renders the first and the last page, which lie at
both ends of the file, and must receive well under half of the file to do so.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from playwright.sync_api import Page

from s3proxy_dev.demo import pdf
from tests.browser.chromium import NetworkLog, wait_for
from tests.browser.conftest import ProxyRun, SeededBucket
from tests.browser.ranges import parse_content_range

PDF_KEY = "docs/handbook.pdf"
CHUNK_SIZE = 64 * 1024
"""PDF.js's ``rangeChunkSize``, in bytes."""

LOAD_DEADLINE = 30.0
"""Seconds for PDF.js to open the file and render both pages."""

MIN_SIZE = 10 * 1024 * 1024
"""The smallest PDF, in bytes, for which reading a fraction of it is worth showing."""

S3_HEADER_ALLOWANCE = 4096
"""Bytes allowed for the status line and headers of each S3 response (S3 sends under 1 KiB)."""


def test_pdfjs_renders_first_and_last_page_from_byte_ranges(
    page: Page, proxy_run: ProxyRun, seeded: SeededBucket, static_origin: str, artifacts: Path
) -> None:
    size = seeded.samples[PDF_KEY].size
    assert size >= MIN_SIZE
    network = NetworkLog.attach(page)
    query = urlencode({"src": f"{proxy_run.url}/{quote(PDF_KEY)}", "chunk": CHUNK_SIZE})
    page.goto(f"{static_origin}/pages/pdf.html?{query}")
    wait_for(page, "() => window.pdfOutcome !== undefined", timeout=LOAD_DEADLINE, status_selector="#status")
    page.screenshot(path=artifacts / f"pdfjs-{seeded.backend.name}.png", full_page=True)
    outcome = page.evaluate("window.pdfOutcome")
    browser_bytes = network.body_bytes_from(proxy_run.url)
    page.context.close()  # ends any request still open, so the proxy can stop
    s3_bytes = proxy_run.stop()

    assert outcome["ok"], outcome["error"]
    assert outcome["numPages"] == pdf.PAGE_COUNT
    for rendered, number in zip(outcome["pages"], (1, pdf.PAGE_COUNT), strict=True):
        assert rendered["number"] == number
        assert f"Page {number} of {pdf.PAGE_COUNT}" in rendered["text"]
        # The page's striped image covers over a third of it; text alone inks far less.
        assert rendered["inkedPixels"] > rendered["width"] * rendered["height"] // 4

    responses = network.responses_from(proxy_run.url)
    ranges = [parse_content_range(seen.headers["content-range"]) for seen in responses if seen.status == 206]
    assert len(ranges) >= 2, "PDF.js never switched to range requests"
    assert all(byte_range.complete_length == size for byte_range in ranges)
    assert any(byte_range.last == size - 1 for byte_range in ranges), "the trailer at the end was never fetched"
    assert all(seen.headers.get("access-control-allow-origin") == static_origin for seen in responses)
    assert not network.foreign_requests()
    # The counter saw at least the ranges, so the bound below measures something.
    assert browser_bytes >= sum(byte_range.length for byte_range in ranges)
    # To reach the last page PDF.js walks the page tree, one chunk per page object: about
    # a fifth of this file. A third leaves room for the aborted first request's bytes.
    assert browser_bytes < size // 3, f"the browser received {browser_bytes} of {size} bytes"
    # PDF.js's first request asks for the whole file and is aborted once its headers show
    # range support; how much of it S3 sent by then is up to the TCP windows on loopback
    # (up to the whole file). Every later request must cost S3 no more than its range.
    s3_limit = size + sum(byte_range.length for byte_range in ranges) + S3_HEADER_ALLOWANCE * len(responses)
    assert s3_bytes <= s3_limit, f"S3 sent {s3_bytes} bytes, more than the {s3_limit} asked for"
