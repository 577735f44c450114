"""Autotask as configured, for one piece of work: built from the stored settings, closed after.

The poll and the resolve read Autotask through this; ``autotask_provider`` refuses (409
``autotask_disabled``) when the integration is off, so neither can reach Autotask then."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from shared_code.db.models import AppSettings
from shared_code.psa.autotask.provider import AutotaskProvider
from shared_code.psa.autotask.settings import autotask_provider, reference_data
from shared_code.psa.provider import ReferenceData


@contextmanager
def configured_autotask(session: Session) -> Iterator[AutotaskProvider]:
    provider = autotask_provider(session)
    try:
        yield provider
    finally:
        provider.client.close()


def stored_reference_data(settings: AppSettings) -> ReferenceData:
    """The picklists as last refreshed (empty before the first refresh: labels then unknown)."""
    return reference_data(settings) or ReferenceData()
