"""A file as a multipart upload sent it: what both the HTTP plumbing and the services speak."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart/form-data body. Nothing here is trusted: the name and the type
    are what the client said; only the bytes count."""

    name: str
    declared_type: str
    data: bytes
