"""A PDF's text, as a reader would copy it (pypdf), with whitespace made single spaces."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(document: bytes) -> str:
    pages = PdfReader(io.BytesIO(document)).pages
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pages)
