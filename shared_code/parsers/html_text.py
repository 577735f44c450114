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

from selectolax.lexbor import LexborHTMLParser, LexborNode

from shared_code.parsers.budget import spend

# A block boundary. str.split() counts it as whitespace, so it vanishes inside a cell.
_MARK = "\x1e"
# A cell's start, a block boundary too; it lets a row's text split into its cells in one call.
_CELL = "\x1f"
# A row's start, a table's end, a caption's start: a block boundary too. In a table that holds no
# other, a row's text runs from its edge to the next one. NUL, because the HTML parser drops or
# replaces every NUL in the mail, so any in the text is one of these.
_ROW_EDGE = "\x00"
# Dropped with all they hold. Of them only <noscript> holds elements of the tree: the others hold
# raw text, or (<head>) none that is marked, or (<template>) keep theirs apart.
_DROPPED = "head,script,style,template,title"
_NOSCRIPT = "noscript"
# Elements that only start a line: what follows them is always another one of them
# or the end of their (marked) parent.
_STARTS = "br,hr,li,dt,dd"
_CELLS = "td,th"
# Elements that start and end a line: text may follow them directly.
_BLOCKS = (
    "address,article,aside,blockquote,center,div,dl,fieldset,figcaption,figure,"
    "footer,form,h1,h2,h3,h4,h5,h6,header,main,nav,ol,p,section,ul"
)
# The marks the text gets before each element and at its end ("": none).
_MARKS_OF = {
    _STARTS: (_MARK, ""),
    "tr": (_ROW_EDGE, ""),
    _CELLS: (_CELL, ""),
    _BLOCKS: (_MARK, _MARK),
    "table": (_MARK, _ROW_EDGE),
    "caption": (_ROW_EDGE, _MARK),
}
# Elements with cells and rows of their own, outside any HTML table.
_FOREIGN = "svg,math"
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
_BLOCK_NAMES = frozenset(f"{_BLOCKS},{_STARTS},{_CELLS},tr,table,caption,pre".split(","))
# Start tags of elements that cannot nest, as reports write them most: a table's rows and cells.
# Counted with str.count, they bound the depth without a regex scan of every tag.
_FLAT_START_TAGS = ("<td>", "<td ", "<tr>", "<tr ", "<th>", "<th ")
_DENSE_TAGS = 20  # characters per tag, at most


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
# Whitespace except the cell mark: collapsed to one space within a cell.
_SPACES_BUT_CELLS = re.compile(r"[^\S\x1f]+")


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
    elements = _elements_by_group(tree)
    for node in (*elements[_DROPPED], *elements[_NOSCRIPT]):
        node.decompose(recursive=False)  # detach only: a dropped node may sit inside another one
    for node in elements["pre"]:
        node.replace_with(_MARK + (node.text() or "").replace("\n", _MARK) + _MARK)
    if elements[_NOSCRIPT] or elements["pre"]:
        elements = _elements_by_group(tree)  # without the elements that went with them
    spend()
    for names, (before, end) in _MARKS_OF.items():
        _mark(elements[names], before, end)
    spend()
    root = tree.root
    text = root.text() if root is not None else ""
    lines = _lines(text.replace(_ROW_EDGE, _MARK).replace(_CELL, _MARK))
    spend()
    rows = _rows(text if _rows_run_edge_to_edge(tree, elements, text) else _innermost_rows_text(tree))
    return TextDocument(lines=lines, rows=rows)


def _tag_ids(names: str) -> frozenset[int]:
    """Lexbor's ids of the comma-separated tag ``names`` (an element's id is cheaper to read than its name)."""
    document = LexborHTMLParser("")
    return frozenset(document.create_node(name).tag_id for name in names.split(","))


_GROUPS = (_DROPPED, _NOSCRIPT, "pre", *_MARKS_OF, _FOREIGN)
_GROUP_OF_TAG = {tag_id: names for names in _GROUPS for tag_id in _tag_ids(names)}


def _elements_by_group(tree: LexborHTMLParser) -> dict[str, list[LexborNode]]:
    """The elements of each group of tag names in ``_GROUPS``, in document order.

    One walk of the tree: a CSS query per group tried every element against each of its names.
    """
    elements: dict[str, list[LexborNode]] = {names: [] for names in _GROUPS}
    group_of_tag = _GROUP_OF_TAG.get
    for node in tree.root.traverse() if tree.root is not None else ():
        names = group_of_tag(node.tag_id)
        if names is not None:
            elements[names].append(node)
    return elements


def _mark(nodes: list[LexborNode], before: str, end: str) -> None:
    """Put the text ``before`` in front of each node and ``end`` (if any) as its last child."""
    if end:
        for node in nodes:
            node.insert_before(before)
            node.insert_child(end)
    else:
        for node in nodes:
            node.insert_before(before)


def _lines(text: str) -> tuple[str, ...]:
    """The non-empty lines between block marks, their whitespace collapsed."""
    return tuple(filter(None, map(str.strip, _SPACES.sub(" ", text).split(_MARK))))


def _rows_run_edge_to_edge(tree: LexborHTMLParser, elements: dict[str, list[LexborNode]], text: str) -> bool:
    """Whether each row's text runs from its edge to the next edge in the document's text.

    Not if a table nests in another, an <svg> or <math> holds cells of its own, or the mail's own
    text holds a cell mark (which would start a cell outside any row).
    """
    if elements[_FOREIGN] or text.count(_CELL) != len(elements[_CELLS]):
        return False
    return len(elements["table"]) < 2 or tree.css_first("table table") is None


def _innermost_rows_text(tree: LexborHTMLParser) -> str:
    """The text of every innermost row, each between two row edges (and with no other edge)."""
    # An innermost row holds no other row, so every cell mark in its text starts one of its own cells.
    texts = (row.text().replace(_ROW_EDGE, _MARK) for row in tree.css("tr:not(:has(tr))"))
    return _ROW_EDGE.join(("", *texts, ""))


def _rows(text: str) -> tuple[tuple[str, ...], ...]:
    """The cells of each row whose text lies between two row edges; a text without a cell mark is no row.

    Every cell is normalised as ``normalise`` does, for all rows at once.
    """
    between_edges = text[text.find(_ROW_EDGE) : text.rfind(_ROW_EDGE)]  # not the text around the tables
    spaced = _SPACES_BUT_CELLS.sub(" ", between_edges).rstrip(" ")
    for mark in (_CELL, _ROW_EDGE):
        spaced = spaced.replace(" " + mark, mark)
    spaced = spaced.replace(_CELL + " ", _CELL)
    return tuple(
        tuple(cells[1:])
        for cells in (segment.split(_CELL) for segment in spaced.split(_ROW_EDGE)[1:])
        if len(cells) > 1
    )


def _within_depth(html: str) -> str:
    """The HTML with what lies deeper than ``_MAX_DEPTH`` flattened to text; unchanged if nothing does."""
    tags = html.count("<")  # nesting needs a tag per level
    if tags <= _MAX_DEPTH:
        return html
    lowered = _lowered(html)
    if _too_few_to_nest_deeper(lowered, tags):
        return html
    pieces: list[str] = []
    kept_from = 0
    for start, end in _deep_spans(lowered):
        pieces += (html[kept_from:start], _TAG.sub("", _BLOCK_TAG.sub(_MARK, html[start:end])))
        kept_from = end
    return "".join((*pieces, html[kept_from:])) if pieces else html


def _too_few_to_nest_deeper(lowered: str, tags: int) -> bool:
    """Whether the start tags but those of rows and cells are too few to nest deeper than ``_MAX_DEPTH``.

    Counting them takes a pass over the HTML per form of tag: only where tags are dense (a big
    table) is that cheaper than the scan of every tag it may spare.
    """
    if len(lowered) > tags * _DENSE_TAGS:
        return False
    start_tags = tags - lowered.count("</")
    if start_tags - lowered.count("<t") > _MAX_DEPTH:
        return False  # too many even if every tag named "t..." were a row or a cell
    for tag in _FLAT_START_TAGS:
        if start_tags <= _MAX_DEPTH:
            return True
        start_tags -= lowered.count(tag)
    return start_tags <= _MAX_DEPTH


def _deep_spans(lowered: str) -> list[tuple[int, int]]:
    """Where in the lower-cased HTML the elements nested deeper than ``_MAX_DEPTH`` are.

    A stray end tag cannot go below zero.
    """
    spans: list[tuple[int, int]] = []
    depth = start = 0
    for tag in _NESTING_TAG.finditer(lowered):
        if not tag[1]:
            depth += 1
            if depth == _MAX_DEPTH + 1:
                start = tag.start()
        elif depth:
            if depth == _MAX_DEPTH + 1:
                spans.append((start, tag.end()))
            depth -= 1
    if depth > _MAX_DEPTH:  # still open at the end
        spans.append((start, len(lowered)))
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
