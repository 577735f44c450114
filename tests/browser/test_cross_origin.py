"""The operator site in Azure is a Static Web App calling the function app's API on another origin.
Its error messages quote the response's x-correlation-id, which a browser hides from the page's
script unless the response exposes it (issue 27, item 7). Two loopback origins: the page on one
(a plain static server), the API on the other (the dev host allowing that origin, as the function
app's CORS setting does in Azure)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import serve_in_background
from tests.support.loopback import free_port

pytestmark = pytest.mark.browser

PAGE = b"<!doctype html><html lang='en'><head><title>site</title></head><body>site</body></html>"


@pytest.fixture(scope="module")
def site_origin() -> Iterator[str]:
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def api_origin(database: Any, site_origin: str) -> str:
    from shared_code.devhost import DevHost

    return serve_in_background(DevHost(cors_origins=(site_origin,)))


READ = """async ([url, headers]) => {
  const response = await fetch(url, {headers});
  return {status: response.status, id: response.headers.get("x-correlation-id")};
}"""


def test_the_site_reads_the_correlation_id_of_a_cross_origin_api(
    chromium: Any, site_origin: str, api_origin: str
) -> None:
    assert site_origin.split(":")[-1] != api_origin.split(":")[-1], "two origins"
    page = chromium.new_page()
    try:
        page.goto(site_origin)
        ok = page.evaluate(READ, [f"{api_origin}/api/health", {}])
        assert ok["status"] == 200 and ok["id"]
        # an error the site reports with its correlation id; a bearer header makes it a preflighted request
        refused = page.evaluate(READ, [f"{api_origin}/api/status", {"Authorization": "Bearer not-a-token"}])
        assert refused["status"] == 401 and refused["id"]
    finally:
        page.close()
