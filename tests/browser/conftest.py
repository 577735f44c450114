"""Browser tests: Debian's Chromium driven by Playwright against the dev host on loopback.

The dev host serves the real site (web/) and API with the session's settings (Entra auth against
the fake issuer); each page gets a bearer token for its role as an extra header, as the signed-in
site would send. axe-core (vendored by scripts/vendor-web.sh, never served by the site) is
injected by the tests only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch_chromium, serve_in_background

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


class Site:
    """A dev host served on loopback that knows how many requests it is still answering, so a
    test's database reset never races a request a closed page left behind."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.in_flight = 0
        self._lock = threading.Lock()
        self.url = serve_in_background(self)

    def serve(self, address: str, port: int) -> None:
        original = type(self.host).__call__

        def counted(host: Any, environ: dict[str, Any], start_response: Any) -> Any:
            with self._lock:
                self.in_flight += 1
            try:
                return original(host, environ, start_response)
            finally:
                with self._lock:
                    self.in_flight -= 1

        self.host.__class__ = type("CountingDevHost", (type(self.host),), {"__call__": counted})
        self.host.serve(address, port)

    def wait_idle(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture(scope="session")
def site(database: Any) -> Site:
    """The dev host serving the site and the API (which reads the database) on a loopback port."""
    from shared_code.devhost import DevHost

    return Site(DevHost())


@pytest.fixture(scope="session")
def site_url(site: Site) -> str:
    return site.url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: scripts/ensure-test-tools.sh installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def open_site(chromium: Any, site: Site, entra: Any) -> Iterator[Callable[..., Any]]:
    """open_site('#/inbox', role='Operator', viewport=PHONE) -> a Playwright page on that route."""
    contexts: list[Any] = []

    def open_page(
        route: str = "#/run-checks", *, role: str = "Admin", viewport: dict[str, int] = DESKTOP
    ) -> Any:
        context = chromium.new_context(viewport=viewport, extra_http_headers=entra.bearer(role))
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{site.url}/{route}")
        # the status banner comes when the browser is idle and pushes the page down: a click aimed
        # before it lands would hit whatever moved under the pointer
        page.locator("[data-pipeline-loaded=true]").wait_for(state="attached")
        return page

    yield open_page
    for context in contexts:
        context.close()
    site.wait_idle()


def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    page.evaluate(AXE.read_text())  # through the DevTools protocol: the site's CSP allows no inline script
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(n['target'][0] for n in v['nodes'][:3])}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
