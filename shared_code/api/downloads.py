"""Serving a stored file (a screenshot) so that the browser can only show it, never run it.

The stored type is sent and must not be sniffed (``nosniff``); the Content-Security-Policy allows
nothing and sandboxes the document, so even a file that is a valid image and an HTML page at once
runs nothing when opened on its own; the name is quoted safely, in ASCII and in RFC 5987 form."""

from __future__ import annotations

import re
from urllib.parse import quote

from shared_code.api.routing import RawResponse

CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
_UNSAFE_IN_QUOTES = re.compile(r"[^A-Za-z0-9._ ()+-]")


def content_disposition(file_name: str, disposition: str = "inline") -> str:
    ascii_name = _UNSAFE_IN_QUOTES.sub("_", file_name).strip() or "file"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def file_response(data: bytes, content_type: str, file_name: str) -> RawResponse:
    return RawResponse(
        body=data,
        content_type=content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Content-Disposition": content_disposition(file_name),
            "Cross-Origin-Resource-Policy": "same-origin",
            # Private: it is read with the caller's token; short: a deletion should soon be seen.
            "Cache-Control": "private, max-age=300",
        },
    )
