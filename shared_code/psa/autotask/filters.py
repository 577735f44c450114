"""Autotask query filters (``POST /{Entity}/query``), checked before they are sent.

Autotask answers a filter it does not understand by ignoring it, so a misspelt operator returns
every row of the entity instead of an error. Operators are therefore validated here, and an
``in`` list longer than Autotask accepts is split into several queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_IN_VALUES = 500
VALUE_OPERATORS = frozenset({"eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains"})
LIST_OPERATORS = frozenset({"in", "notIn"})
NO_VALUE_OPERATORS = frozenset({"exist", "notExist"})
GROUP_OPERATORS = frozenset({"and", "or"})


class FilterError(ValueError):
    """A filter Autotask would silently ignore (a programming error, caught before sending)."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None

    def to_json(self) -> dict[str, Any]:
        if self.op in NO_VALUE_OPERATORS:
            return {"op": self.op, "field": self.field}
        return {"op": self.op, "field": self.field, "value": self.value}


@dataclass(frozen=True)
class Group:
    op: str
    items: tuple[Condition | Group, ...]

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "items": [item.to_json() for item in self.items]}


Filter = Condition | Group


def validate(filters: Sequence[Filter]) -> None:
    if not filters:
        raise FilterError("Autotask queries need at least one filter")
    for item in filters:
        _validate(item)


def _validate(item: Filter) -> None:
    if isinstance(item, Group):
        if item.op not in GROUP_OPERATORS:
            raise FilterError(f"unknown group operator {item.op!r}")
        if not item.items:
            raise FilterError(f"empty {item.op!r} group")
        for child in item.items:
            _validate(child)
        return
    if not item.field:
        raise FilterError(f"{item.op!r} without a field")
    if item.op in LIST_OPERATORS:
        if not isinstance(item.value, list | tuple) or not item.value:
            raise FilterError(f"{item.op!r} on {item.field!r} needs a non-empty list")
    elif item.op in VALUE_OPERATORS:
        if item.value is None or isinstance(item.value, list | tuple | dict):
            raise FilterError(f"{item.op!r} on {item.field!r} needs one value")
    elif item.op not in NO_VALUE_OPERATORS:
        raise FilterError(f"unknown operator {item.op!r} on {item.field!r} (Autotask would return every row)")


def split_long_in_lists(filters: Sequence[Filter]) -> list[list[Filter]]:
    """The filter sets to query so that no top-level ``in`` list exceeds ``MAX_IN_VALUES``."""
    for index, item in enumerate(filters):
        if isinstance(item, Condition) and item.op == "in" and len(item.value) > MAX_IN_VALUES:
            values = list(item.value)
            rest = list(filters[:index]) + list(filters[index + 1 :])
            chunks = [values[i : i + MAX_IN_VALUES] for i in range(0, len(values), MAX_IN_VALUES)]
            return [
                split
                for chunk in chunks
                for split in split_long_in_lists([*rest, Condition(item.field, "in", chunk)])
            ]
        if isinstance(item, Condition) and item.op == "notIn" and len(item.value) > MAX_IN_VALUES:
            raise FilterError(f"'notIn' on {item.field!r} has more than {MAX_IN_VALUES} values")
    return [list(filters)]
