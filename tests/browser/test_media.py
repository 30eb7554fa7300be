"""Headless Chromium plays the demo's WAV from the proxy, seeks to the middle and plays on.

A media element asks for ``Range: bytes=0-`` first and treats the resource as seekable
only when it gets ``206 Partial Content`` (RFC 9110 §15.3.7) with a ``Content-Range``;
a seek past what it has buffered then costs one more range request, not the whole file.
The same holds through a signed link, whose query string every range request repeats.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from playwright.sync_api import Page

from s3proxy_dev.demo import wav
from tests.browser.chromium import NetworkLog, wait_for
from tests.browser.conftest import ProxyRun, SeededBucket
from tests.browser.ranges import parse_content_range

WAV_KEY = "media/tone.wav"
STEP_DEADLINE = 15.0
"""Seconds allowed for each step: metadata, start of playback, playback after the seek."""

PLAYED_AFTER_SEEK = 1.0
"""Seconds of media time that must play after the seek point."""

PLAYER = "document.getElementById('player')"


SIGNING_SECRET = "browser-test-signing-secret-0123456789"


@pytest.mark.parametrize("proxy_run", [(), (SIGNING_SECRET,)], ids=["open", "signed-link"], indirect=True)
def test_audio_seeks_to_the_middle_and_plays_on(
    page: Page, proxy_run: ProxyRun, seeded: SeededBucket, static_origin: str, artifacts: Path
) -> None:
    size = seeded.samples[WAV_KEY].size
    network = NetworkLog.attach(page)
    source = proxy_run.link(WAV_KEY)
    if proxy_run.signing_secrets:
        assert httpx.get(f"{proxy_run.url}/{quote(WAV_KEY)}").status_code == 403
    query = urlencode({"src": source})
    page.goto(f"{static_origin}/pages/media.html?{query}")
    _wait(page, f"() => {PLAYER}.readyState >= HTMLMediaElement.HAVE_METADATA")
    duration = page.evaluate(f"{PLAYER}.duration")
    assert duration == pytest.approx(wav.DURATION_SECONDS, abs=0.01)

    page.click("#play")
    _wait(page, f"() => !{PLAYER}.paused && {PLAYER}.currentTime > 0")
    middle = duration / 2
    page.evaluate(f"(seconds) => {{ {PLAYER}.currentTime = seconds; }}", middle)
    _wait(
        page,
        f"(target) => !{PLAYER}.seeking && !{PLAYER}.paused && {PLAYER}.currentTime > target",
        middle + PLAYED_AFTER_SEEK,
    )
    signed = "-signed" if proxy_run.signing_secrets else ""
    page.screenshot(path=artifacts / f"media-{seeded.backend.name}{signed}.png")
    position = page.evaluate(f"{PLAYER}.currentTime")
    seekable = page.evaluate(f"[{PLAYER}.seekable.length, {PLAYER}.seekable.start(0), {PLAYER}.seekable.end(0)]")

    assert middle + PLAYED_AFTER_SEEK < position < duration
    assert page.evaluate(f"{PLAYER}.error") is None
    # Chromium offers the whole timeline for seeking only when the server honours ranges.
    assert seekable == [1, 0, pytest.approx(duration)]
    responses = network.responses_from(proxy_run.url)
    assert responses, "the player never reached the proxy"
    assert [seen.status for seen in responses] == [206] * len(responses)
    ranges = [parse_content_range(seen.headers["content-range"]) for seen in responses]
    assert all(byte_range.complete_length == size for byte_range in ranges)
    assert any(byte_range.first > 0 for byte_range in ranges), "no request picked up past the first byte"
    assert not network.foreign_requests()


def _wait(page: Page, expression: str, arg: object = None) -> None:
    wait_for(page, expression, arg, timeout=STEP_DEADLINE, status_selector="#position")
