"""Turn a mail body into normalised text for the parsers: lines, table rows and labelled fields.

HTML goes through one parse with selectolax (Lexbor): block elements become line breaks,
``<br>`` becomes a space inside a table cell, entities are decoded, and every run of
whitespace collapses to one space. Plain-text bodies get the same shape, with
tab-separated lines as table rows. Parsers read only this shape, never raw HTML.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby

from selectolax.lexbor import LexborHTMLParser

from shared_code.parsers.budget import spend

# A block boundary. str.split() counts it as whitespace, so it vanishes inside a cell.
_MARK = "\x1e"
# A cell's start, a block boundary too; it lets a row's text split into its cells in one call.
_CELL = "\x1f"
_DROPPED = "head,script,style,template,noscript,title"
# Elements that only start a line: what follows them is always another one of them
# or the end of their (marked) parent.
_STARTS = "br,hr,tr,li,dt,dd"
_CELLS = "td,th"
# Elements that start and end a line: text may follow them directly.
_BLOCKS = (
    "address,article,aside,blockquote,caption,center,div,dl,fieldset,figcaption,figure,"
    "footer,form,h1,h2,h3,h4,h5,h6,header,main,nav,ol,p,section,table,ul"
)
_MAX_LABEL = 60
_LINES_PER_CHECK = 4096  # lines read between two looks at the parse's CPU budget

# An HTML parser's tree building scans its stack of open elements for many start tags (a <div>
# looks for an open <p>), so n nested elements cost n*n: 200k nested <div>s took 95 s. Real
# reports nest a few dozen deep; whatever lies deeper than this is flattened to text before the
# parse (its block tags become line breaks, its other tags go), which keeps the parse linear.
_MAX_DEPTH = 256
# Elements that never stay open under their own kind: void ones, and those whose end tag is
# implied by the next one of their kind (so they cannot nest deep without a counted parent).
_NOT_NESTING = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "param",
        "keygen",
        "basefont",
        "bgsound",
        "frame",
        "p",
        "li",
        "dt",
        "dd",
        "rp",
        "rt",
        "rb",
        "rtc",
        "optgroup",
        "option",
        "tr",
        "td",
        "th",
        "tbody",
        "thead",
        "tfoot",
        "colgroup",
        "caption",
        "html",
        "head",
        "body",
    }
)
_BLOCK_NAMES = frozenset(f"{_BLOCKS},{_STARTS},{_CELLS},pre".split(","))


def _one_of(names: frozenset[str]) -> str:
    """A regex alternation of ``names``, grouped by first letter: a tag is tried against far fewer."""
    by_letter = groupby(sorted(names), key=lambda name: name[0])
    return "|".join(f"{letter}(?:{'|'.join(name[1:] for name in group)})" for letter, group in by_letter)


# A tag, by its name. "[^<>]*" stops at the next "<" too, so an unclosed tag costs no rescan.
_TAG_REST = r"(?![A-Za-z0-9])[^<>]*>?"
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*" + _TAG_REST)
# Tags that open or close a level of nesting, in lower-case HTML: the others are never matched, so
# they cost no Python (and a case-sensitive pattern runs about twice as fast as an IGNORECASE one).
_NESTING_TAG = re.compile(rf"<(/?)(?!(?:{_one_of(_NOT_NESTING)})(?![a-z0-9]))[a-z][a-z0-9]*{_TAG_REST}")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_BLOCK_TAG = re.compile(rf"</?(?:{_one_of(_BLOCK_NAMES)}){_TAG_REST}", re.IGNORECASE)
# Whitespace except the block mark: collapsed to one space within a line.
_SPACES = re.compile(r"[^\S\x1e]+")


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
    html = _within_depth(html)
    spend()
    tree = LexborHTMLParser(html)
    spend()
    for node in tree.css(_DROPPED):
        node.decompose(recursive=False)  # detach only: a dropped node may sit inside another one
    for node in tree.css("pre"):
        node.replace_with(_MARK + (node.text() or "").replace("\n", _MARK) + _MARK)
    spend()
    for node in tree.css(_STARTS):
        node.insert_before(_MARK)
    for node in tree.css(_CELLS):
        node.insert_before(_CELL)
    spend()
    for node in tree.css(_BLOCKS):
        node.insert_before(_MARK)
        node.insert_child(_MARK)
    spend()
    root = tree.root
    text = (root.text() if root is not None else "").replace(_CELL, _MARK)
    lines = tuple(line for line in (part.strip() for part in _SPACES.sub(" ", text).split(_MARK)) if line)
    spend()
    # An innermost row holds no other row, so every cell mark in its text starts one of its own cells.
    rows = tuple(
        tuple(map(normalise, cells[1:]))
        for cells in (row.text().split(_CELL) for row in tree.css("tr:not(:has(tr))"))
        if len(cells) > 1
    )
    return TextDocument(lines=lines, rows=rows)


def _within_depth(html: str) -> str:
    """The HTML with what lies deeper than ``_MAX_DEPTH`` flattened to text; unchanged if nothing does."""
    pieces: list[str] = []
    kept_from = 0
    for start, end in _deep_spans(html):
        pieces += (html[kept_from:start], _TAG.sub("", _BLOCK_TAG.sub(_MARK, html[start:end])))
        kept_from = end
    return "".join((*pieces, html[kept_from:])) if pieces else html


def _deep_spans(html: str) -> list[tuple[int, int]]:
    """Where the elements nested deeper than ``_MAX_DEPTH`` are (a stray end tag cannot go below zero)."""
    spans: list[tuple[int, int]] = []
    depth = start = 0
    for tag in _NESTING_TAG.finditer(_lowered(html)):
        if not tag[1]:
            depth += 1
            if depth == _MAX_DEPTH + 1:
                start = tag.start()
        elif depth:
            if depth == _MAX_DEPTH + 1:
                spans.append((start, tag.end()))
            depth -= 1
    if depth > _MAX_DEPTH:  # still open at the end
        spans.append((start, len(html)))
    return spans


def _lowered(html: str) -> str:
    """The HTML in lower case, every character where it was (so positions in it hold for ``html``)."""
    lowered = html.lower()
    return lowered if len(lowered) == len(html) else html.translate(_ASCII_LOWER)  # e.g. "İ" lowers to two


def text_to_document(text: str) -> TextDocument:
    """The same shape for a plain-text body: one line per line, tab-separated lines as rows."""
    lines: list[str] = []
    rows: list[tuple[str, ...]] = []
    for number, raw_line in enumerate(text.splitlines()):
        if number % _LINES_PER_CHECK == 0:
            spend()
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
