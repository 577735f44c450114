"""Memoise pg8000's statement-text conversion.

pg8000 rewrites the parameter markers of every statement it executes ("%s" to "$1", ...) by
scanning the text character by character, each time: about half a millisecond for the longer
statements, on every execution. SQLAlchemy sends the same few statement texts again and again,
and for positional parameter styles the rewritten text depends on the text alone (the values
pass through unchanged), so the rewrite is cached per text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

POSITIONAL_STYLES = frozenset({"format", "qmark", "numeric"})


def memoised(
    convert: Callable[[str, str, Any], tuple[str, Any]],
) -> Callable[[str, str, Any], tuple[str, Any]]:
    @functools.lru_cache(maxsize=4096)
    def converted_text(style: str, query: str) -> str:
        return convert(style, query, ())[0]

    def convert_paramstyle(style: str, query: str, args: Any) -> tuple[str, Any]:
        if style in POSITIONAL_STYLES:
            return converted_text(style, query), args
        return convert(style, query, args)

    # A marker on the function, so patching twice is noticed; a Callable's type declares no attributes.
    convert_paramstyle.memoised = True  # type: ignore[attr-defined]
    return convert_paramstyle


def install() -> None:
    """Idempotent; the cursor pg8000 hands SQLAlchemy looks the function up in pg8000.legacy.
    Called when the engine is built, so that importing the app does not load pg8000."""
    import pg8000.legacy

    if not getattr(pg8000.legacy.convert_paramstyle, "memoised", False):
        pg8000.legacy.convert_paramstyle = memoised(pg8000.legacy.convert_paramstyle)
