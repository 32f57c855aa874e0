"""Headless Chromium for the e2e tests: Debian's ``chromium``, driven by Playwright.

Playwright drives the system browser (``executable_path``); it never downloads one of its own
(``make browser`` installs the Debian package). Without a browser the tests that need one skip
with the reason, except under CI, where a missing browser is a failure: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Known to work headless as root on this kind of machine; Playwright adds --headless and a
# fresh --user-data-dir of its own. No background traffic (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where the local stack listens: the only host a page may reach.
LOCAL_HOST = "127.0.0.1"


def _unavailable(reason: str) -> None:
    message = f"{reason} (make browser installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {message}")
    pytest.skip(message)


def launch_chromium() -> Iterator[Any]:
    """A running headless Chromium (Playwright ``Browser``), closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no browser at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class NetworkLog:
    """Every request a browser context makes; any not to loopback is recorded and refused."""

    urls: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        context.route("**/*", self._handle)

    def _handle(self, route: Any) -> None:
        url = route.request.url
        self.urls.append(url)
        if self.is_local(url):
            route.continue_()
        else:
            route.abort()

    @staticmethod
    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme == "http" and parts.hostname == LOCAL_HOST

    @property
    def outside(self) -> list[str]:
        return [url for url in self.urls if not self.is_local(url)]
