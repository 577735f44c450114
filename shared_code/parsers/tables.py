"""Per-object tables: a header row naming a status column, then one row per object.

Veeam's "Details" table, NAKIVO's "Objects" table and Synology's VM table share this
shape: the object's name in the first column, its status under "Status", its message
under "Details" (or "Errors and warnings"). Columns are found by their header, so
extra or reordered columns (Veeam 365's "Type") do not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from shared_code.parsers.base import ParsedObject, message_or_none
from shared_code.parsers.vocabulary import status_of_word

_STATUS_HEADERS = frozenset({"status", "result", "resultaat", "ergebnis", "state", "zustand"})
_MESSAGE_HEADERS = frozenset(
    {
        "details",
        "detail",
        "errors and warnings",
        "error",
        "errors",
        "message",
        "reason",
        "bericht",
        "fout",
        "foutmelding",
        "fouten en waarschuwingen",
        "fehler",
        "fehlermeldung",
        "meldung",
        "fehler und warnungen",
    }
)


class _Columns(NamedTuple):
    width: int
    status: int
    message: int | None


def object_table(rows: Iterable[tuple[str, ...]]) -> list[ParsedObject]:
    """Every object row under every object-table header, in mail order, duplicates kept."""
    objects: list[ParsedObject] = []
    columns: _Columns | None = None
    for row in rows:
        if columns is not None and (found := _object_in(row, columns)) is not None:
            objects.append(found)  # most rows are objects: they need no look for a header
            continue
        header = None if _STATUS_HEADERS.isdisjoint(map(str.casefold, row)) else _header_columns(row)
        if header is not None:
            columns = header
        elif columns is not None and len(row) > 1 and not _may_be_object(row, columns):
            columns = None  # the table ended (a banner or separator spanning it, one cell, does not end it)
    return objects


def _may_be_object(row: tuple[str, ...], columns: _Columns) -> bool:
    return bool(row[0]) and columns.status < len(row) <= columns.width


def _object_in(row: tuple[str, ...], columns: _Columns) -> ParsedObject | None:
    """The row's object, when it has the table's shape and a known status word (a row without one,
    e.g. still pending, is no result)."""
    if len(row) == 1 or not _may_be_object(row, columns):
        return None
    status = status_of_word(row[columns.status])
    if status is None:
        return None
    message = row[columns.message] if columns.message is not None and columns.message < len(row) else None
    return ParsedObject(name=row[0], status=status, message=message_or_none(message))


def _header_columns(row: tuple[str, ...]) -> _Columns | None:
    labels = [cell.casefold() for cell in row]
    status = next((index for index, label in enumerate(labels) if label in _STATUS_HEADERS), None)
    if not status or not labels[0]:  # the name column comes first, the status after it
        return None
    message = next(
        (
            index
            for index, label in enumerate(labels)
            if index not in (0, status) and label in _MESSAGE_HEADERS
        ),
        None,
    )
    return _Columns(width=len(row), status=status, message=message)


def rows_below(rows: Iterable[tuple[str, ...]], *labels: str) -> list[tuple[str, ...]]:
    """The rows under every header row whose first cells are ``labels`` (any case), in mail order.

    For tables whose object is not named in the first column (Proxmox VE: "VMID", "Name",
    "Status"); the caller picks its columns and tells data rows from totals.
    """
    wanted = tuple(label.casefold() for label in labels)
    below: list[tuple[str, ...]] = []
    under_header = False
    for row in rows:
        if tuple(cell.casefold() for cell in row[: len(wanted)]) == wanted:
            under_header = True
        elif under_header:
            below.append(row)
    return below
