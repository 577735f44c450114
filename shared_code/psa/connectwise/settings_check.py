"""Saving ConnectWise settings: checked against ConnectWise before anything is kept.

``checked_reference_data`` sends the test call and reads the reference data with the candidate
settings, then holds every choice against it. Anything wrong is an ``InvalidInput`` (422) naming
the fields, so the caller stores nothing (the stored private key stays as it was). It knows no
storage: the caller passes the private key to use (the new one, else the stored one).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from shared_code.errors import InvalidInput
from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise.client import RetryPolicy
from shared_code.psa.connectwise.models import (
    ConnectWiseSettingsUpdate,
    ReferenceData,
    connection_problems,
    settings_problems,
)
from shared_code.psa.connectwise.provider import connectwise_provider, credentials

# Saving settings is interactive: a ConnectWise that does not answer is reported within seconds.
CHECK_RETRY = RetryPolicy(budget_seconds=3.0)


def checked_reference_data(
    settings: ConnectWiseSettingsUpdate,
    private_key: SecretStr | None,
    *,
    timeout_seconds: float = 10.0,
    current_run_id: Callable[[], int | None] = lambda: None,
) -> ReferenceData:
    """ConnectWise's reference data, once these settings connect and every choice is in it."""
    if private_key is None or not private_key.get_secret_value():
        raise InvalidInput(
            "private_key: required to enable ConnectWise (none is stored)",
            details=[{"field": "body.private_key", "message": "required: none is stored"}],
        )
    creds = credentials(
        site=settings.site,
        company_id=settings.company_id,
        public_key=settings.public_key,
        private_key=private_key,
        client_id=settings.client_id,
    )
    try:
        with connectwise_provider(
            creds, timeout_seconds=timeout_seconds, retry=CHECK_RETRY, current_run_id=current_run_id
        ) as provider:
            provider.test_connection()
            data = provider.reference_data()
    except cw.ConnectWiseError as error:
        raise InvalidInput(
            f"ConnectWise refused the check: {error.message}",
            code=f"connectwise_{error.code.removeprefix('psa_')}",
            details=connection_problems(error),
        ) from None
    if problems := settings_problems(settings, data):
        names = ", ".join(problem["field"].removeprefix("body.") for problem in problems)
        raise InvalidInput(
            f"{names}: not among ConnectWise's choices (refresh the reference data)", details=problems
        )
    return data
