"""What can go wrong talking to ConnectWise PSA, as typed errors carrying ConnectWise's own texts.

ConnectWise answers an error as ``{"code": "...", "message": "...", "errors": [{"code", "message",
"resource", "field"}]}``; every error here keeps that ``code`` (``cw_code``) and the texts
(``messages``, the field-level ones first), never a key. ``transient`` says whether trying again
later may help. All are ``UpstreamError`` (HTTP 502) unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared_code import errors


class ConnectWiseError(errors.UpstreamError):
    code = "psa_error"
    transient = False

    def __init__(
        self,
        message: str,
        *,
        messages: Sequence[str] = (),
        status: int | None = None,
        cw_code: str | None = None,
    ) -> None:
        super().__init__(
            message, details={"psa_messages": list(messages), "psa_status": status, "psa_code": cw_code}
        )
        self.messages = list(messages)
        self.status = status
        self.cw_code = cw_code


class NotConfigured(ConnectWiseError):
    """Settings are missing or unusable (site, company id, keys, clientId); nothing was sent."""

    code = "psa_not_configured"


class AuthFailed(ConnectWiseError):
    """401: the company id, public/private key pair or clientId were refused."""

    code = "psa_auth_failed"


class Forbidden(ConnectWiseError):
    """403: the API member's security role does not allow this."""

    code = "psa_forbidden"


class NotFound(ConnectWiseError):
    code = "psa_not_found"


class Rejected(ConnectWiseError):
    """400 and other 4xx: ConnectWise refused the content (e.g. ``InvalidObject``); sending it again
    will not help."""

    code = "psa_rejected"


class Unavailable(ConnectWiseError):
    """429 or 5xx, still so when the retry budget ran out."""

    code = "psa_unavailable"
    transient = True


class Unreachable(ConnectWiseError):
    """No answer at all (DNS, refused connection, TLS, timeout on a read)."""

    code = "psa_unreachable"
    transient = True


class OutcomeUnknown(ConnectWiseError):
    """A create was sent but its answer was lost (timeout, 5xx): it may have been stored. Never
    retried here; the caller looks for it (``find_created_ticket``) before creating again."""

    code = "psa_outcome_unknown"
    transient = True


class StatusNotTaken(ConnectWiseError):
    """The status change was accepted (HTTP 200) but the ticket, fetched again, still has another
    status: ConnectWise ignores a status that is not on the ticket's board, or one its workflow
    refuses. The caller answers 502 ``status_not_taken``."""

    code = "status_not_taken"

    def __init__(
        self, ticket_id: int, wanted_status_id: int, observed: tuple[int | None, str | None]
    ) -> None:
        observed_id, observed_name = observed
        super().__init__(
            f"ConnectWise accepted the status change of ticket {ticket_id} to status {wanted_status_id}, "
            f"but the ticket still has status {observed_name or '?'} ({observed_id}).",
            status=200,
        )
        self.ticket_id = ticket_id
        self.wanted_status_id = wanted_status_id
        self.observed_status_id = observed_id
        self.observed_status_name = observed_name
        self.details = {
            **self.details,
            "ticket_id": ticket_id,
            "wanted_status_id": wanted_status_id,
            "observed_status_id": observed_id,
            "observed_status_name": observed_name,
        }
