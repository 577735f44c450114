"""Turn a mail body into normalised text for the parsers: lines, table rows and labelled fields.

HTML goes through one parse with selectolax (Lexbor): block elements become line breaks,
``<br>`` becomes a space inside a table cell, entities are decoded, and every run of
whitespace collapses to one space. Plain-text bodies get the same shape, with
tab-separated lines as table rows. Parsers read only this shape, never raw HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from selectolax.lexbor import LexborHTMLParser

# A block boundary. str.split() counts it as whitespace, so it vanishes inside a cell.
_MARK = "\x1e"
_DROPPED = "head,script,style,template,noscript,title"
# Elements that only start a line: what follows them is always another one of them
# or the end of their (marked) parent.
_STARTS = "br,hr,td,th,tr,li,dt,dd"
# Elements that start and end a line: text may follow them directly.
_BLOCKS = (
    "address,article,aside,blockquote,caption,center,div,dl,fieldset,figcaption,figure,"
    "footer,form,h1,h2,h3,h4,h5,h6,header,main,nav,ol,p,section,table,ul"
)
_CELLS = ("td", "th")
_MAX_LABEL = 60


@dataclass(frozen=True)
class TextDocument:
    """A body as parsers read it. Every string is trimmed and whitespace-normalised."""

    lines: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def folded(self) -> str:
        """All lines, casefolded, for cheap keyword tests."""
        return "\n".join(self.lines).casefold()

    @cached_property
    def fields(self) -> dict[str, str]:
        """Label -> value from two-cell rows and "Label: value" lines; the first one wins."""
        found: dict[str, str] = {}
        for row in self.rows:
            if len(row) == 2:
                _add_field(found, row[0], row[1])
        for line in self.lines:
            label, colon, value = line.partition(":")
            if colon:
                _add_field(found, label, value.strip())
        return found

    def field(self, *labels: str) -> str | None:
        """The value of the first of ``labels`` (any case, colon optional) that the body has."""
        fields = self.fields
        for label in labels:
            value = fields.get(label.casefold())
            if value:
                return value
        return None


def _add_field(found: dict[str, str], label: str, value: str) -> None:
    key = label.rstrip(":").strip().casefold()
    if key and len(key) <= _MAX_LABEL and key not in found:
        found[key] = value


def normalise(text: str) -> str:
    """Collapse every run of whitespace (newlines, tabs, non-breaking spaces) to one space, trimmed."""
    return " ".join(text.split())


def html_to_document(html: str) -> TextDocument:
    """Parse HTML once and return its lines and its innermost table rows."""
    tree = LexborHTMLParser(html)
    for node in tree.css(_DROPPED):
        node.decompose(recursive=False)  # detach only: a dropped node may sit inside another one
    for node in tree.css("pre"):
        node.replace_with(_MARK + (node.text() or "").replace("\n", _MARK) + _MARK)
    for node in tree.css(_STARTS):
        node.insert_before(_MARK)
    for node in tree.css(_BLOCKS):
        node.insert_before(_MARK)
        node.insert_child(_MARK)
    root = tree.root
    text = root.text() if root is not None else ""
    lines = tuple(line for line in map(normalise, text.split(_MARK)) if line)
    rows = tuple(
        cells
        for cells in (
            tuple(normalise(cell.text()) for cell in row.iter() if cell.tag in _CELLS)
            for row in tree.css("tr:not(:has(tr))")
        )
        if cells
    )
    return TextDocument(lines=lines, rows=rows)


def text_to_document(text: str) -> TextDocument:
    """The same shape for a plain-text body: one line per line, tab-separated lines as rows."""
    lines: list[str] = []
    rows: list[tuple[str, ...]] = []
    for raw_line in text.splitlines():
        if "\t" in raw_line:
            cells = [normalise(cell) for cell in raw_line.split("\t")]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) >= 2:
                rows.append(tuple(cells))
        line = normalise(raw_line)
        if line:
            lines.append(line)
    return TextDocument(lines=tuple(lines), rows=tuple(rows))
