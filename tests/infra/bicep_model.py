"""A small read-only model of the Bicep templates, built on the tree-sitter-bicep grammar.

The infra tests check the templates without Azure and without the Bicep CLI. checkov covers the
resource types it has rules for; the rest (PostgreSQL flexible server, Static Web App, role
assignments, app settings) is checked over this model. Values become Python values where they are
literals (str, int, bool, None, dict, list); anything computed stays an ``Expr`` holding its source
text, so a test can tell ``'Disabled'`` from ``someParam``.

``.bicepparam`` files are not Bicep templates (the grammar does not know ``using``), so
``parse_bicepparam`` is a small parser of its own for ``using '...'`` and ``param name = value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
MAIN = INFRA / "main.bicep"
PARAM_FILE = INFRA / "main.bicepparam"


@dataclass(frozen=True)
class Expr:
    """A computed value, kept as its Bicep source text."""

    text: str

    def refers_to(self, name: str) -> bool:
        return re.search(rf"(?<![\w.]){re.escape(name)}\b", self.text) is not None


@dataclass(frozen=True)
class Interp(Expr):
    """A string with ``${...}`` interpolations."""


@dataclass
class Param:
    name: str
    type: str
    default: Any = None
    has_default: bool = False
    decorators: dict[str, Any] = field(default_factory=dict)

    @property
    def secure(self) -> bool:
        return "secure" in self.decorators


@dataclass
class Resource:
    symbol: str
    type: str
    api_version: str
    body: dict[str, Any]
    existing: bool = False
    condition: Expr | None = None
    loop: Expr | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def properties(self) -> dict[str, Any]:
        return self.body.get("properties", {})


@dataclass
class Module:
    symbol: str
    path: str
    body: dict[str, Any]
    condition: Expr | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.body.get("params", {})


@dataclass
class Template:
    path: Path
    params: dict[str, Param]
    variables: dict[str, Any]
    resources: list[Resource]
    modules: list[Module]
    outputs: dict[str, Any]
    errors: list[str]

    def resources_of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type.lower() == type_.lower() and not r.existing]

    def resource(self, symbol: str) -> Resource:
        return next(r for r in self.resources if r.symbol == symbol)

    def module(self, symbol: str) -> Module:
        return next(m for m in self.modules if m.symbol == symbol)


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bicep.language()))


def syntax_errors(source: bytes) -> list[str]:
    """ERROR and MISSING nodes of the tree-sitter parse, as 'line:col: kind text'."""
    tree = _parser().parse(source)
    found: list[str] = []

    def visit(node: Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            line, col = node.start_point
            kind = "missing " + node.type if node.is_missing else "error"
            snippet = node.text.decode(errors="replace")[:60].replace("\n", " ")
            found.append(f"{line + 1}:{col + 1}: {kind} {snippet!r}")
        for child in node.children:
            visit(child)

    visit(tree.root_node)
    if tree.root_node.has_error and not found:
        found.append("1:1: error (tree has errors)")
    return found


def _text(node: Node) -> str:
    return node.text.decode()


def _string(node: Node) -> str | Interp:
    parts = [c for c in node.children if c.type not in ("'", '"')]
    if any(c.type == "interpolation" for c in parts):
        return Interp(_text(node))
    out = []
    for c in parts:
        if c.type == "string_content":
            out.append(_text(c))
        elif c.type == "escape_sequence":
            out.append(
                {"\\'": "'", "\\\\": "\\", "\\n": "\n", "\\t": "\t", "\\$": "$"}.get(_text(c), _text(c))
            )
        else:
            out.append(_text(c))
    return "".join(out)


def value(node: Node) -> Any:
    """The Python value of an expression node (literals), or an Expr for anything computed."""
    kind = node.type
    if kind == "string":
        return _string(node)
    if kind == "multiline_string":
        return _text(node)[3:-3]
    if kind == "number":
        return int(_text(node))
    if kind == "boolean":
        return _text(node) == "true"
    if kind == "null":
        return None
    if kind == "object":
        return _object(node)
    if kind == "array":
        return [value(c) for c in node.named_children if c.type not in ("comment",)]
    if kind == "parenthesized_expression" and node.named_child_count == 1:
        return value(node.named_children[0])
    return Expr(_text(node))


def _object(node: Node) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for prop in node.named_children:
        if prop.type != "object_property":
            continue
        key_node, val_node = prop.named_children[0], prop.named_children[-1]
        key = _string(key_node) if key_node.type == "string" else _text(key_node)
        result[str(key)] = value(val_node)
    return result


def _comments(node: Node) -> list[str]:
    found: list[str] = []

    def visit(n: Node) -> None:
        if n.type == "comment":
            found.append(_text(n))
        for c in n.children:
            visit(c)

    visit(node)
    return found


def _decorators(node: Node | None) -> dict[str, Any]:
    decorators: dict[str, Any] = {}
    if node is None:
        return decorators
    for dec in node.named_children:
        if dec.type != "decorator":
            continue
        call = dec.named_children[0]
        if call.type == "call_expression":
            name = _text(call.named_children[0])
            args = call.named_children[1].named_children if call.named_child_count > 1 else []
            decorators[name] = value(args[0]) if args else True
        else:
            decorators[_text(call)] = True
    return decorators


def _body(node: Node) -> tuple[dict[str, Any], Expr | None, Expr | None, Node]:
    """Resource/module body: (object, condition, loop source, body node)."""
    condition = loop = None
    if node.type == "for_statement":
        body = node.child_by_field_name("body") or node.named_children[-1]
        loop = Expr(_text(node).split(":", 1)[0] + "]")
        node = body
    if node.type == "if_statement":
        condition = Expr(_text(node.named_children[0]))
        node = node.named_children[-1]
    return (_object(node) if node.type == "object" else {}), condition, loop, node


def parse_template(path: Path) -> Template:
    source = path.read_bytes()
    tree = _parser().parse(source)
    params: dict[str, Param] = {}
    variables: dict[str, Any] = {}
    resources: list[Resource] = []
    modules: list[Module] = []
    outputs: dict[str, Any] = {}
    pending: Node | None = None
    for node in tree.root_node.named_children:
        if node.type == "decorators":
            pending = node
            continue
        if node.type == "comment":
            continue
        kids = node.named_children
        if node.type == "parameter_declaration":
            name = _text(kids[0])
            has_default = any(c.type == "=" for c in node.children)
            params[name] = Param(
                name=name,
                type=_text(kids[1]),
                default=value(kids[-1]) if has_default else None,
                has_default=has_default,
                decorators=_decorators(pending),
            )
        elif node.type == "variable_declaration":
            variables[_text(kids[0])] = value(kids[-1])
        elif node.type == "output_declaration":
            outputs[_text(kids[0])] = value(kids[-1])
        elif node.type == "resource_declaration":
            type_and_version = _string(kids[1])
            rtype, _, api = str(type_and_version).partition("@")
            body, condition, loop, body_node = _body(kids[-1])
            resources.append(
                Resource(
                    symbol=_text(kids[0]),
                    type=rtype,
                    api_version=api,
                    body=body,
                    existing=any(c.type == "existing" for c in node.children),
                    condition=condition,
                    loop=loop,
                    comments=_comments(body_node),
                )
            )
        elif node.type == "module_declaration":
            body, condition, _loop, _node = _body(kids[-1])
            modules.append(
                Module(symbol=_text(kids[0]), path=str(_string(kids[1])), body=body, condition=condition)
            )
        pending = None
    return Template(path, params, variables, resources, modules, outputs, syntax_errors(source))


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def template(path: Path) -> Template:
    return parse_template(path)


def module_template(parent: Path, module: Module) -> Template:
    return template((parent.parent / module.path).resolve())


# --- .bicepparam -------------------------------------------------------------------------------------

_USING = re.compile(r"^using\s+'([^']+)'\s*$")
_PARAM = re.compile(r"^param\s+([A-Za-z_]\w*)\s*=\s*(.*)$")


@dataclass
class ParamFile:
    using: str | None
    values: dict[str, str]  # parameter name -> value source text
    problems: list[str]


def _strip_comment(line: str) -> str:
    """Drop a // comment that is not inside a '...' string."""
    in_string = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and in_string:
            i += 2
            continue
        if ch == "'":
            in_string = not in_string
        elif not in_string and line.startswith("//", i):
            return line[:i]
        i += 1
    return line


def parse_bicepparam(path: Path) -> ParamFile:
    """``using '<template>'`` and ``param name = value`` (values may span lines while brackets are open)."""
    using: str | None = None
    values: dict[str, str] = {}
    problems: list[str] = []
    current: str | None = None
    depth = 0
    in_block_comment = False
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw
        if in_block_comment:
            if "*/" not in line:
                continue
            line = line.split("*/", 1)[1]
            in_block_comment = False
        line = _strip_comment(line)
        if "/*" in line and current is None:
            line, _, rest = line.partition("/*")
            in_block_comment = "*/" not in rest
        stripped = line.strip()
        if current is not None and depth > 0:
            values[current] += "\n" + stripped
            depth += stripped.count("{") + stripped.count("[") + stripped.count("(")
            depth -= stripped.count("}") + stripped.count("]") + stripped.count(")")
            if depth <= 0:
                current = None
            continue
        if not stripped:
            continue
        if match := _USING.match(stripped):
            if using is not None:
                problems.append(f"line {number}: second using")
            using = match.group(1)
        elif match := _PARAM.match(stripped):
            name, val = match.groups()
            if name in values:
                problems.append(f"line {number}: {name} set twice")
            val = val.strip()
            values[name] = val
            depth = val.count("{") + val.count("[") + val.count("(")
            depth -= val.count("}") + val.count("]") + val.count(")")
            current = name if depth > 0 else None
        else:
            problems.append(f"line {number}: not a using or param line: {stripped!r}")
    if depth > 0:
        problems.append(f"unclosed value of {current}")
    return ParamFile(using, values, problems)
