"""Names people type and read (customers): one canonical form, and a skeleton that is the same for
names that look the same.

``canonical``: NFKC, invisible format characters (zero-width space, joiners, bidi marks) removed,
control characters refused, whitespace collapsed. ``skeleton``: after Unicode TR39's idea, the
canonical name case-folded, each character replaced by the Latin character it is confusable with
(``confusable-homoglyphs``' data, from Unicode's confusables.txt), spaces dropped: "Cоntoso" with
a Cyrillic о, "CONTOSO", "Contoso\u200b" and "Contoso" share one; "Cöntoso" has its own. The database keeps it unique per live customer.
"""

from __future__ import annotations

import functools
import unicodedata


class UnreadableName(ValueError):
    """A name with control characters, or nothing visible left."""


def canonical(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise UnreadableName("must not contain control characters")
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = " ".join(text.split())
    if not text:
        raise UnreadableName("must contain a visible character")
    return text


def skeleton(name: str) -> str:
    folded = unicodedata.normalize("NFD", canonical(name).casefold())
    latin = "".join(_latin_lookalike().get(char, char) for char in folded)
    return "".join(char for char in unicodedata.normalize("NFD", latin.casefold()) if not char.isspace())


@functools.cache
def _latin_lookalike() -> dict[str, str]:
    """Each character confusable with an ASCII letter or digit, mapped to it (first found)."""
    from confusable_homoglyphs.confusables import confusables_data

    lookalikes: dict[str, str] = {}
    for char, entries in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            glyph = entry["c"]
            if len(glyph) == 1 and glyph.isascii() and glyph.isalnum():
                lookalikes[char] = glyph
                break
    return lookalikes
