"""A customer's mapping to its company in the PSA, as the customer list shows it."""

from __future__ import annotations

from datetime import datetime

from shared_code.schema.models import ResponseModel


class CompanyMapping(ResponseModel):
    autotask_company_id: int | None
    autotask_company_name: str | None
    autotask_mapping_status: str
    autotask_checked_at: datetime | None
