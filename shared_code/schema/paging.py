"""Paging: the query every list takes, the page info it answers with, and the statement cut."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared_code.schema.models import RequestModel

if TYPE_CHECKING:
    from sqlalchemy import Select


class PageQuery(RequestModel):
    offset: int = Field(0, ge=0, le=1_000_000, description="Items to skip.")
    limit: int = Field(50, ge=1, le=200, description="Items per page.")


class PageInfo(BaseModel):
    offset: int
    limit: int
    has_more: bool = Field(description="Whether another page follows.")


def paginated(statement: Select[Any], query: PageQuery) -> Select[Any]:
    """The statement cut to the page, plus one row that tells ``page_of`` whether more follow."""
    return statement.offset(query.offset).limit(query.limit + 1)


def page_of(rows: list[Any], query: PageQuery) -> tuple[list[Any], PageInfo]:
    """Split off the extra row ``paginated`` fetches, to tell whether more follow."""
    return rows[: query.limit], PageInfo(
        offset=query.offset, limit=query.limit, has_more=len(rows) > query.limit
    )
