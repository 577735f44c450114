"""Declarative base with a naming convention, so migrations name constraints predictably."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from sqlalchemy import CheckConstraint, ColumnElement, DateTime, MetaData, Table, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012  (timestamptz, UTC)

    if TYPE_CHECKING:  # every model here maps a table (DeclarativeBase allows any FromClause)
        __table__: ClassVar[Table]


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Timestamps(CreatedAt):
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class SoftDelete:
    """Soft delete by default; permanent delete only by an admin purge of rows already soft-deleted."""

    deleted_at: Mapped[datetime | None]

    @hybrid_property
    def live(self) -> bool:
        """Not soft-deleted: a bool on a row, the SQL condition on the class or an alias of it."""
        return self.deleted_at is None

    @live.inplace.expression
    @classmethod
    def _live_condition(cls) -> ColumnElement[bool]:
        return cls.deleted_at.is_(None)


def one_of(column: str, literal: Any, *, nullable: bool = False) -> CheckConstraint:
    """CHECK that a text column holds one of a Literal's values (named after the column)."""
    values = ", ".join(f"'{value}'" for value in get_args(literal))
    condition = f"{column} IN ({values})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=column)
