"""ConnectWise ``conditions``: the query language of every list and search endpoint, built safely.

ConnectWise reads ``summary = "x" and board/id = 3 and id in (1,2,3)``: field paths with ``/``,
strings in double quotes (a ``"`` or ``\\`` inside escaped with a backslash), numbers and
``true``/``false`` bare, dates in square brackets (``[2024-05-01T00:00:00Z]``), lists in
parentheses. ``like`` treats ``%`` as a wildcard, so a search for what a person typed uses
``contains``. Values never reach the text unquoted, so a name such as ``Acme" or id > 0`` is
searched for, not executed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "contains", "like", "not contains", "not like"})
_FIELD = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*(?:/_?[A-Za-z][A-Za-z0-9_]*)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Scalar = str | int | float | bool | datetime | None


class ConditionError(ValueError):
    """A condition ConnectWise would misread (a programming error, caught before sending)."""


@dataclass(frozen=True)
class Condition:
    text: str

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"{self._grouped()} and {other._grouped()}")

    def __or__(self, other: Condition) -> Condition:
        return Condition(f"({self._grouped()} or {other._grouped()})")

    def _grouped(self) -> str:
        return self.text if self.text.startswith("(") and self.text.endswith(")") else f"({self.text})"


def literal(value: Scalar) -> str:
    """A value as ConnectWise reads it in ``conditions``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConditionError("a date in conditions must be timezone-aware")
        return f"[{value.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}]"
    if _CONTROL.search(value):
        raise ConditionError("a string in conditions must not contain control characters")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def where(field: str, op: str, value: Scalar) -> Condition:
    if op not in OPERATORS:
        raise ConditionError(f"unknown operator {op!r} on {field!r}")
    if op in ("contains", "like", "not contains", "not like") and not isinstance(value, str):
        raise ConditionError(f"{op!r} on {field!r} needs a string")
    return Condition(f"{_field(field)} {op} {literal(value)}")


def is_in(field: str, values: Sequence[int | str]) -> Condition:
    if not values:
        raise ConditionError(f"'in' on {field!r} needs at least one value")
    return Condition(f"{_field(field)} in ({','.join(literal(value) for value in values)})")


def all_of(*conditions: Condition) -> Condition:
    if not conditions:
        raise ConditionError("no conditions to combine")
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition
    return combined


def _field(name: str) -> str:
    if not _FIELD.fullmatch(name):
        raise ConditionError(f"not a ConnectWise field path: {name!r}")
    return name
