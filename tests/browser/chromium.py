"""Headless Chromium (Debian's ``chromium`` package) under Playwright, and a record of its traffic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Request, Response, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

EXECUTABLE = Path("/usr/bin/chromium")
"""Debian's build: Playwright's bundled browsers would need a download from Playwright's CDN."""

FLAGS = (
    "--headless",
    "--no-sandbox",  # Chromium's sandbox refuses root and needs namespaces CI containers lack
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The next three stop Chromium's own calls home (updates, safe browsing lists, sync).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host name but 127.0.0.1 fails to resolve, so a page can reach nothing off this machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Start headless Chromium; Playwright gives it a fresh, temporary user-data directory.

    Raises:
        RuntimeError: ``/usr/bin/chromium`` is not installed.
    """
    if not EXECUTABLE.exists():
        raise RuntimeError(f"{EXECUTABLE} is missing: install Debian's package (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(EXECUTABLE), args=list(FLAGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class Seen:
    """One HTTP response the page received: URL, status code and lower-cased header names."""

    url: str
    status: int
    headers: dict[str, str]


@dataclass
class NetworkLog:
    """What a page sent and received.

    ``requests`` lists every request URL; ``responses`` every response, from Playwright's
    events.  ``body_bytes`` maps each URL to the body bytes that reached the renderer, from
    the Chrome DevTools Protocol's ``Network.dataReceived`` events: unlike Playwright's
    ``Request.sizes()`` these also count requests the page aborted half-way, which is how
    PDF.js ends its first, whole-file request once it knows it can ask for byte ranges.
    """

    requests: list[str] = field(default_factory=list)
    responses: list[Seen] = field(default_factory=list)
    body_bytes: dict[str, int] = field(default_factory=dict)
    _urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def attach(cls, page: Page) -> NetworkLog:
        """Start recording ``page``'s traffic; call before the page navigates."""
        log = cls()
        page.on("request", log._on_request)
        page.on("response", log._on_response)
        devtools = page.context.new_cdp_session(page)
        devtools.on("Network.requestWillBeSent", log._on_request_will_be_sent)
        devtools.on("Network.dataReceived", log._on_data_received)
        devtools.send("Network.enable")
        return log

    def responses_from(self, origin: str) -> list[Seen]:
        """Responses whose URL is on ``origin`` (e.g. ``http://127.0.0.1:8080``)."""
        return [seen for seen in self.responses if _origin(seen.url) == origin]

    def body_bytes_from(self, origin: str) -> int:
        """Total body bytes received from ``origin``, in bytes."""
        return sum(size for url, size in self.body_bytes.items() if _origin(url) == origin)

    def foreign_requests(self) -> list[str]:
        """Requests to anything but 127.0.0.1 over HTTP; ``data:`` and ``blob:`` URLs stay in the page."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in {"data", "blob"} and not url.startswith("http://127.0.0.1:")
        ]

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_response(self, response: Response) -> None:
        self.responses.append(Seen(response.url, response.status, dict(response.headers)))

    def _on_request_will_be_sent(self, event: dict[str, Any]) -> None:
        self._urls[event["requestId"]] = event["request"]["url"]

    def _on_data_received(self, event: dict[str, Any]) -> None:
        url = self._urls.get(event["requestId"], "")
        self.body_bytes[url] = self.body_bytes.get(url, 0) + int(event["dataLength"])


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def wait_for(page: Page, expression: str, arg: object = None, *, timeout: float, status_selector: str) -> None:
    """Wait until the JavaScript function ``expression`` returns truthy for ``arg``.

    ``timeout`` is in seconds. On timeout the page's status text (``status_selector``)
    goes into the failure, since it tells why a media or PDF load never got there.

    Raises:
        AssertionError: the condition did not hold within ``timeout``.
    """
    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout * 1000)
    except PlaywrightTimeoutError:
        status = page.locator(status_selector).inner_text()
        raise AssertionError(f"not within {timeout} s: {expression} (page says: {status!r})") from None
