"""Screenshots are judged by their bytes: PNG, JPEG, GIF or WebP by signature, whatever the name or
the declared type says; then Pillow reads the dimensions (bounded before any pixel is decoded) and
decodes the first frame into the thumbnail, so a file that only starts like an image is refused.

Pillow is imported on the first upload, not at start-up."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

# The largest side WebP can hold; a screenshot is far below it.
MAX_SIDE = 16383
THUMBNAIL_BOX = (400, 300)
# Pillow's format name for each type a screenshot may have.
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
ACCEPTED = "a PNG, JPEG, GIF or WebP image"


class Refused(Exception):
    """The file is not a screenshot we keep; the message says why, in words."""


@dataclass(frozen=True)
class CheckedImage:
    content_type: str  # found in the bytes
    width: int
    height: int
    sha256: str
    thumbnail: bytes  # PNG within THUMBNAIL_BOX


def sniffed_type(data: bytes) -> str | None:
    """The image type the leading bytes announce, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _looks_like(data: bytes) -> str:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        return "markup (HTML, SVG or XML)"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "some other binary format"
    return "text"


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    """The screenshot's facts and thumbnail, or ``Refused`` with the reason."""
    if not data:
        raise Refused("is empty")
    if len(data) > max_bytes:
        raise Refused(f"is {_megabytes(len(data))}; a screenshot may be at most {_megabytes(max_bytes)}")
    content_type = sniffed_type(data)
    if content_type is None:
        raise Refused(f"is not {ACCEPTED}: its bytes are {_looks_like(data)}, whatever its name or type says")
    width, height, thumbnail = _read(data, content_type, max_pixels)
    return CheckedImage(content_type, width, height, hashlib.sha256(data).hexdigest(), thumbnail)


def _read(data: bytes, content_type: str, max_pixels: int) -> tuple[int, int, bytes]:
    from PIL import Image, UnidentifiedImageError

    kind = PIL_FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            width, height = image.size  # from the header: nothing decoded yet
            _bound(width, height, max_pixels)
            return width, height, _thumbnail(image)
    except Refused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError):
        raise Refused(f"starts like a {kind} image but is not a readable one") from None


def _bound(width: int, height: int, max_pixels: int) -> None:
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise Refused(f"is {width}×{height} pixels; each side may be at most {MAX_SIDE}")
    if width * height > max_pixels:
        raise Refused(f"is {width}×{height} pixels; a screenshot may have at most {max_pixels:,} pixels")


def _thumbnail(image: Image) -> bytes:
    """The first frame, decoded in full (a truncated file fails here), scaled into THUMBNAIL_BOX."""
    image.seek(0)
    if image.format == "JPEG":
        image.draft("RGB", (THUMBNAIL_BOX[0] * 2, THUMBNAIL_BOX[1] * 2))  # decode at a fraction of the size
    image.load()
    has_alpha = image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
    frame = image.convert("RGBA" if has_alpha else "RGB")
    frame.thumbnail(THUMBNAIL_BOX)
    out = io.BytesIO()
    frame.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
