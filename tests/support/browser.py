"""Debian's Chromium driven by Playwright, and the dev host on a loopback port: shared by the
browser tests and bench/site.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tests.support.loopback import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def launch_chromium(playwright: Any) -> Any:
    """The system Chromium (never a browser download), headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def serve_in_background(host: Any) -> str:
    """Serve a DevHost on a free loopback port in a daemon thread; its base URL."""
    port = free_port()
    threading.Thread(target=host.serve, args=("127.0.0.1", port), daemon=True).start()
    import httpx

    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{base}/api/health", timeout=1)
            return base
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the dev host did not start")
