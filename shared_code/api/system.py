"""Services behind the system routes: the caller, and the API description."""

from __future__ import annotations

import functools

from pydantic import BaseModel, Field

from shared_code.api.auth import Principal, Role
from shared_code.api.openapi import build_document
from shared_code.api.routing import ROUTES

API_TITLE = "Backupchecks API"
API_VERSION = "1.0.0"


class Me(BaseModel):
    subject: str
    name: str
    roles: list[str] = Field(description="Every role the caller acts with (hierarchy applied).")
    timezone: str = Field(description="The UI timezone: the site shows every time in it.")
    psa: str = Field("none", description="The active PSA's name as stored (none when no PSA is active).")
    psa_label: str | None = Field(None, description="The active PSA's name, for people (None: none active).")


def who_am_i(principal: Principal, timezone: str, psa: str = "none") -> Me:
    from shared_code.db.settings import PROVIDER_LABELS  # the ORM's settings row: not at start-up

    effective = [role.claim for role in Role if role is not Role.ANONYMOUS and principal.can(role)]
    return Me(
        subject=principal.subject,
        name=principal.name,
        roles=effective,
        timezone=timezone,
        psa=psa,
        psa_label=None if psa == "none" else PROVIDER_LABELS.get(psa, psa),
    )


@functools.cache
def openapi_json() -> str:
    import json

    return json.dumps(build_document(ROUTES, title=API_TITLE, version=API_VERSION), ensure_ascii=False)
