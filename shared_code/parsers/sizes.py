"""The size a report states for its run, in bytes, for the products whose mails state one.

Each product family names the figure it reports under a label: Veeam's "Total size" (VB365's
"Transferred"), Proxmox vzdump's "Total size", Duplicati's SizeOfExaminedFiles, Kopia's "Total Size"
column (summed over the sources), UrBackup's "Transferred", Bareos/Bacula's "SD Bytes Written",
NAKIVO's "Data transferred", Acronis's "Backup size" and Synology's transferred / increased target
size. A job is only ever compared with itself, so each family's figure just has to be the same kind
from run to run. Units are binary (a "GB" is 1024³ bytes, as these products count).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_code.parsers.html_text import TextDocument

# Parser name -> the labels its reports state the run's size under, preferred first.
SIZE_LABELS: dict[str, tuple[str, ...]] = {
    "veeam": ("Total size", "Transferred"),
    "proxmox_ve": ("Total size",),
    "duplicati": ("SizeOfExaminedFiles",),
    "kopia": ("Total Size",),
    "urbackup": ("Transferred",),
    "bareos_bacula": ("SD Bytes Written",),
    "nakivo": ("Data transferred",),
    "acronis": ("Backup size",),
    "synology_active_backup": ("Transferred size", "Overgedragen grootte", "Übertragene Größe"),
    "synology_hyper_backup": ("Increased target size", "Toegenomen doelgrootte", "Erhöhte Zielgröße"),
}

_UNITS = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
# "574.0 GB", "1.139 TiB", "0 B", "421,533,914" (bytes), "1,5 GB" (a decimal comma).
_SIZE = re.compile(
    r"^(\d{1,3}(?:,\d{3}){1,6}|\d{1,19}(?:[.,]\d{1,9})?)(?:\s*([kmgtp]?)(?:i?b(?:ytes)?)?)?\b", re.I
)
_LARGEST = 2**63 - 1  # what the database stores (bigint); anything larger is no real report's size


def size_in_bytes(text: str) -> int | None:
    """The size a value starts with, in bytes; None when it starts with no size."""
    match = _SIZE.match(text.strip())
    if match is None:
        return None
    number, unit = match.group(1), (match.group(2) or "").lower()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):
        number = number.replace(",", "")
    size = round(float(number.replace(",", ".")) * (1 << 10 * _UNITS[unit]))
    return size if size <= _LARGEST else None


def stated_size(parser_name: str, document: TextDocument) -> int | None:
    """The run size the report states under its family's label, or None (no label known or found)."""
    labels = SIZE_LABELS.get(parser_name, ())
    if not labels:
        return None
    # One search of all cells and one of all lines find where a label first appears (a cell equal to
    # it contains it, so does a line that states it): the rows and lines before cannot hold its size,
    # nor any row or line when it appears nowhere (a big table has tens of thousands).
    cells = "\n".join(map("\x1f".join, document.rows)).casefold()
    text = "\n".join(document.lines)
    for label in labels:
        in_cells = cells.find(label.casefold())
        rows = document.rows[cells.count("\n", 0, in_cells) :] if in_cells >= 0 else ()
        in_lines = re.search(re.escape(label), text, re.IGNORECASE)
        lines = document.lines[text.count("\n", 0, in_lines.start()) :] if in_lines else ()
        size = _beside_label(label, rows, lines)
        if size is None:
            size = _column_total(label, rows)
        if size is not None:
            return size
    return None


def _beside_label(label: str, rows: Sequence[tuple[str, ...]], lines: Sequence[str]) -> int | None:
    """The size in the cell after the label's cell, or after the label on a line ("Label: 3.2 GB")."""
    folded = label.casefold()
    for row in rows:
        for cell, following in itertools.pairwise(row):
            if cell.rstrip(":").casefold() == folded and (size := size_in_bytes(following)) is not None:
                return size
    after_label = re.compile(rf"(?:^|\W){re.escape(label)}\s*:?\s*(?=\d)", re.I)
    for line in lines:
        match = after_label.search(line)
        if match is not None and (size := size_in_bytes(line[match.end() :])) is not None:
            return size
    return None


def _column_total(label: str, rows: Sequence[tuple[str, ...]]) -> int | None:
    """The sum of a table's column headed by the label (Kopia lists one row per source)."""
    folded = label.casefold()
    for number, header in enumerate(rows):
        if folded not in (cell.casefold() for cell in header):
            continue
        column = [cell.casefold() for cell in header].index(folded)
        sizes = [size_in_bytes(row[column]) for row in rows[number + 1 :] if len(row) == len(header)]
        found = [size for size in sizes if size is not None]
        if found:
            return sum(found)
    return None
