"""Status words as the products write them (English, Dutch, German) and how they map.

Two readings of the same words:
- ``status_of_word``: a whole cell or field value ("Success", "Mislukt", "Error").
- ``status_in_text``: a sentence that states a result ("... has completed successfully.").
  A warning phrase wins over a failure word, and both over a success word, because
  "completed with warnings" and "Erfolgreich mit Warnungen" contain a success word too.
Update notices speak their own language (``notice_status``): a cancelled automatic
update is a warning there, while a cancelled backup run is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

Status = Literal["success", "warning", "failed"]

SUCCESS: Status = "success"
WARNING: Status = "warning"
FAILED: Status = "failed"

_RANK: dict[Status, int] = {SUCCESS: 0, WARNING: 1, FAILED: 2}

# Words that name a result only when they stand alone in a status cell or field:
# "Error" is Veeam's counter label and a QNAP severity, "Information" a QNAP severity.
_CELL_ONLY: dict[str, Status] = {
    "information": SUCCESS,
    "informatie": SUCCESS,
    "info": SUCCESS,
    "ok": SUCCESS,
    "err": FAILED,  # a Proxmox VE guest row
    "error": FAILED,
    "errors": FAILED,
    "critical": FAILED,
    "fout": FAILED,
    "fouten": FAILED,
    "fehler": FAILED,
}

_WARNING_PHRASES = (
    r"warnings?|partially|partial success|"
    r"waarschuwing(?:en)?|gedeeltelijk|"
    r"warnung(?:en)?|teilweise"
)
_FAILED_PHRASES = (
    r"failed|failure|unsuccessful|stopped|cancell?ed|aborted|"
    r"mislukt|geannuleerd|gestopt|afgebroken|"
    r"fehlgeschlagen|abgebrochen|gestoppt|nicht erfolgreich"
)
_SUCCESS_PHRASES = (
    r"success(?:ful(?:ly)?)?|succeeded|completed|"
    r"voltooid|geslaagd|gelukt|"
    r"erfolgreich|abgeschlossen"
)


def _phrases(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


# Most severe reading first, so that mixed phrases resolve to the stated qualifier.
_RUN_PATTERNS: tuple[tuple[re.Pattern[str], Status], ...] = (
    (_phrases(_WARNING_PHRASES), WARNING),
    (_phrases(_FAILED_PHRASES), FAILED),
    (_phrases(_SUCCESS_PHRASES), SUCCESS),
)

_NOTICE_PATTERNS: tuple[tuple[re.Pattern[str], Status], ...] = (
    (
        _phrases(
            r"failed|could not be (?:installed|updated)|mislukt|kon niet worden (?:geïnstalleerd|bijgewerkt)|"
            r"fehlgeschlagen|konnte nicht (?:installiert|aktualisiert) werden"
        ),
        FAILED,
    ),
    (
        _phrases(
            r"cancell?ed|out-of-date|out of date|outdated|geannuleerd|verouderd|afgebroken|"
            r"abgebrochen|veraltet|nicht aktuell"
        ),
        WARNING,
    ),
    (
        _phrases(
            r"available|installed|updated|beschikbaar|geïnstalleerd|bijgewerkt|"
            r"verfügbar|installiert|aktualisiert"
        ),
        SUCCESS,
    ),
)

# Sentences are searched only up to this length: a status sentence is short, and
# the bound keeps the search linear on hostile input.
_MAX_SENTENCE = 2000


def status_in_text(text: str) -> Status | None:
    """The result a sentence states, or None when it names none."""
    return _first_match(_RUN_PATTERNS, text[:_MAX_SENTENCE])


@lru_cache(maxsize=1024)  # a report repeats a handful of status words once per object
def status_of_word(value: str | None) -> Status | None:
    """The status a status cell or field holds ("Success", "Voltooid", "Error"), or None."""
    if not value:
        return None
    word = value.strip().rstrip(".!").casefold()
    return _CELL_ONLY.get(word) or status_in_text(word)


def notice_status(text: str) -> Status | None:
    """The worst status an update notice states ("cancelled" is a warning there), or None."""
    return _first_match(_NOTICE_PATTERNS, text)


def worst(statuses: Iterable[Status]) -> Status | None:
    """The most severe status (success < warning < failed), None for no statuses."""
    found: Status | None = None
    for status in statuses:
        if found is None or _RANK[status] > _RANK[found]:
            found = status
    return found


def _first_match(patterns: tuple[tuple[re.Pattern[str], Status], ...], text: str) -> Status | None:
    for pattern, status in patterns:
        if pattern.search(text):
            return status
    return None
