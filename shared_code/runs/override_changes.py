"""Overrides as operators manage them: list, create, change, delete; each change is re-applied
to the runs it reaches (the parsed status is kept, the effective status recomputed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.live import live_row
from shared_code.db.models import Customer, Job, JobRun, Override
from shared_code.errors import InvalidInput, NotFound
from shared_code.runs.overrides import OverrideReach, reapply_override
from shared_code.runs.views import Status
from shared_code.schema.fields import Id, Moment, Name, Text
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated

Scope = Literal["global", "customer", "job"]


class OverrideFields(RequestModel):
    customer_id: Id | None = Field(None, description="For scope 'customer'.")
    job_id: Id | None = Field(None, description="For scope 'job'.")
    match_status: Status | None = Field(None, description="Only runs with this parsed status.")
    match_object_name: Name | None = Field(None, description="Only runs with an object of this name.")
    match_message: Text | None = Field(None, description="Only runs with an object message containing this.")
    active_until: Moment | None = None


class OverrideCreate(OverrideFields):
    scope: Scope
    result_status: Status
    reason: Text
    active_from: Moment | None = Field(None, description="Default: now. Earlier re-applies to older runs.")
    apply_to_unreviewed: bool = Field(
        False,
        description="Start the override at the oldest unreviewed run in its scope (unless active_from is "
        "earlier), so the runs waiting in Run Checks get it too.",
    )


class OverridePreview(BaseModel):
    runs_changed: int = Field(description="Runs whose effective status the override would change.")


class OverrideChange(OverrideFields):
    scope: Scope | None = None
    result_status: Status | None = None
    reason: Text | None = None
    active_from: Moment | None = None


class OverrideListQuery(PageQuery):
    scope: Scope | None = None
    job_id: Id | None = Field(None, description="Overrides that can apply to this job (any scope).")


class OverrideView(ResponseModel):
    id: int
    scope: Scope
    customer_id: int | None
    job_id: int | None
    match_status: Status | None
    match_object_name: str | None
    match_message: str | None
    result_status: Status
    reason: str
    active_from: datetime
    active_until: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    target_name: str | None = Field(
        None, description="The customer's name, or 'customer · job', of a customer or job override (lists)."
    )


class OverrideApplied(OverrideView):
    runs_changed: int = Field(description="Runs whose effective status this change recomputed.")


class OverrideList(BaseModel):
    items: list[OverrideView]
    page: PageInfo


def list_overrides(session: Session, query: OverrideListQuery) -> OverrideList:
    statement = select(Override).where(Override.live)
    if query.scope is not None:
        statement = statement.where(Override.scope == query.scope)
    if query.job_id is not None:
        customer_of_job = select(Job.customer_id).where(Job.id == query.job_id).scalar_subquery()
        statement = statement.where(
            or_(
                Override.scope == "global",
                Override.customer_id == customer_of_job,
                Override.job_id == query.job_id,
            )
        )
    statement = paginated(statement.order_by(Override.id.desc()), query)
    rows, page = page_of(list(session.scalars(statement)), query)
    names = _target_names(session, rows)
    return OverrideList(
        items=[
            OverrideView.model_validate(o).model_copy(update={"target_name": names.get(o.id)}) for o in rows
        ],
        page=page,
    )


def _target_names(session: Session, overrides: list[Override]) -> dict[int, str]:
    """Each customer or job override's target by name (one statement for the page)."""
    found = session.execute(
        select(Override.id, Customer.name, Job.job_name)
        .outerjoin(Job, Job.id == Override.job_id)
        .join(Customer, Customer.id == func.coalesce(Override.customer_id, Job.customer_id))
        .where(Override.id.in_([o.id for o in overrides]))
    )
    return {override_id: f"{customer} · {job}" if job else customer for override_id, customer, job in found}


def create_override(
    session: Session, body: OverrideCreate, actor: str, *, now: datetime | None = None
) -> OverrideApplied:
    fields = body.model_dump(exclude_none=True, exclude={"apply_to_unreviewed"})
    fields.setdefault("active_from", now or datetime.now(UTC))
    if body.apply_to_unreviewed:
        oldest = _oldest_unreviewed_run(session, body)
        if oldest is not None and oldest < fields["active_from"]:
            fields["active_from"] = oldest
    override = Override(created_by=actor, **fields)
    _check(session, override)
    session.add(override)
    changed = reapply_override(session, override)
    audit.record(
        session, actor, "create", "override", override.id, {**_jsonable(fields), "runs_changed": changed}
    )
    return _applied(session, override, changed)


def preview_override(session: Session, body: OverrideCreate, actor: str) -> OverridePreview:
    """How many runs the override would change, found by creating it in a savepoint rolled back."""
    savepoint = session.begin_nested()
    try:
        return OverridePreview(runs_changed=create_override(session, body, actor).runs_changed)
    finally:
        savepoint.rollback()


def _oldest_unreviewed_run(session: Session, body: OverrideCreate) -> datetime | None:
    statement = (
        select(func.min(JobRun.run_at)).join(Job, Job.id == JobRun.job_id).where(JobRun.reviewed_at.is_(None))
    )
    if body.scope == "job":
        statement = statement.where(JobRun.job_id == body.job_id)
    elif body.scope == "customer":
        statement = statement.where(Job.customer_id == body.customer_id)
    return session.scalar(statement)


def change_override(session: Session, override_id: int, body: OverrideChange, actor: str) -> OverrideApplied:
    override = live_override(session, override_id)
    before = OverrideReach.of(override)
    changes = {
        field: value
        for field, value in body.model_dump(exclude_unset=True).items()
        if value is not None or field in OverrideFields.model_fields  # these may be cleared
    }
    for field, value in changes.items():
        setattr(override, field, value)
    _check(session, override)
    changed = reapply_override(session, override, before)
    audit.record(
        session, actor, "update", "override", override.id, {**_jsonable(changes), "runs_changed": changed}
    )
    return _applied(session, override, changed)


def delete_override(session: Session, override_id: int, actor: str) -> None:
    override = live_override(session, override_id)
    override.deleted_at = datetime.now(UTC)
    changed = reapply_override(session, override)
    audit.record(session, actor, "delete", "override", override.id, {"runs_changed": changed})


def live_override(session: Session, override_id: int) -> Override:
    override = live_row(session, Override, override_id)
    if override is None:
        raise NotFound(f"no such override: {override_id}")
    return override


def _applied(session: Session, override: Override, changed: int) -> OverrideApplied:
    session.flush()
    session.refresh(override)
    return OverrideApplied.model_validate(
        {**OverrideView.model_validate(override).model_dump(), "runs_changed": changed}
    )


def _check(session: Session, override: Override) -> None:
    """The scope names exactly its target, which must be live; the window must not be empty."""
    wanted = {"global": set(), "customer": {"customer_id"}, "job": {"job_id"}}[override.scope]
    for field in ("customer_id", "job_id"):
        given = getattr(override, field) is not None
        if given != (field in wanted):
            need = "is required" if field in wanted else "must be empty"
            raise _invalid(field, f"{need} for scope {override.scope!r}")
    target = {"customer_id": Customer, "job_id": Job}
    for field in wanted:
        model = target[field]
        if live_row(session, model, getattr(override, field)) is None:
            raise _invalid(field, "no such " + field.removesuffix("_id"))
    if override.active_until is not None and override.active_until <= override.active_from:
        raise _invalid("active_until", "must be after active_from")


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details=[{"field": f"body.{field}", "message": message}])


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
