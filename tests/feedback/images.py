"""Screenshots made for the tests: real images of each accepted type, and the files that must be
refused (text named .png, markup claiming to be a PNG, a polyglot that is a PNG and an HTML page)."""

from __future__ import annotations

import io
import os

from PIL import Image

# What a polyglot's HTML tries to do when a browser runs it as a page.
POLYGLOT_SCRIPT = b"<html><body><script>document.title='pwned';window.pwned=1;</script>pwned</body></html>"


def image(
    kind: str = "PNG", size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 40, 40)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=kind)
    return out.getvalue()


def noisy_png(target_bytes: int) -> bytes:
    """A real PNG of about ``target_bytes`` (random pixels do not compress)."""
    side = int((target_bytes / 3) ** 0.5) + 1
    return _png(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)))


def _png(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=0)
    return out.getvalue()


def polyglot_png() -> bytes:
    """A valid PNG with an HTML page after its end: passes the byte check, and a browser that
    sniffed it as HTML would run the script."""
    return image() + POLYGLOT_SCRIPT


SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_PAGE = b"<!doctype html><html><script>alert(1)</script></html>"
TEXT = b"just some notes, not a picture\n"


def multipart(*files: tuple[str, bytes, str], field: str = "files") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with these (name, bytes, declared type) files, and its header."""
    boundary = "feedback-test-boundary-7d3c"
    parts = [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            f"Content-Type: {declared}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
        for name, data, declared in files
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}
