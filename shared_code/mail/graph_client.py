"""The mailbox through Microsoft Graph: msgraph-sdk with an app-only azure-identity credential.

Everything Graph-specific lives here, behind a small synchronous API (``GraphMailbox``) that the
mail pipeline calls from the Functions worker's threads. The SDK is async; one event loop per
process runs in a background thread, so the HTTP connection pool and the token cache are shared
by every invocation, and one semaphore keeps to Outlook's limit of four concurrent requests per
mailbox. 429/503/504 are retried by the SDK's retry handler, honouring Retry-After; what still
fails is raised as ``GraphUnavailable`` (retry later) or ``GraphNotFound`` (gone for good).

The base URL, the authority host, instance discovery and a CA bundle are settings, so national
clouds and a loopback stand-in work with the same code. msgraph and azure.identity are imported
only when a ``GraphMailbox`` is built, never at the HTTP app's cold start.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from shared_code.config import Settings, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_CONCURRENT_REQUESTS = 4  # Outlook: per app and mailbox
DELTA_PAGE_SIZE = 50
CALL_TIMEOUT_SECONDS = 300  # an upper bound on one call, retries with Retry-After included
_RESYNC_CODES = {"syncstatenotfound", "syncstateinvalid", "resyncrequired"}


class GraphError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code

    @property
    def needs_resync(self) -> bool:
        """The delta token is no longer valid: start over with a full sync."""
        return self.status == 410 or (self.code or "").lower() in _RESYNC_CODES


class GraphUnavailable(GraphError):
    """Throttled, a server error or no connection: try again later."""


class GraphNotFound(GraphError):
    """The message or subscription no longer exists (404/410)."""


class GraphForbidden(GraphError):
    """Graph refused the app's identity (403): the application permission is missing, or an
    Exchange access policy or RBAC scope leaves the mailbox out. The message says how to grant it."""

    def __init__(self, message: str, *, status: int | None, code: str | None, permission: str) -> None:
        super().__init__(message, status=status, code=code)
        self.permission = permission


def required_permission(settings: Settings) -> str:
    """The Graph application permission the app needs: moving processed mail needs ReadWrite."""
    return "Mail.ReadWrite" if settings.graph_processed_folder else "Mail.Read"


def forbidden(settings: Settings, status: int | None, code: str | None) -> GraphForbidden:
    permission = required_permission(settings)
    return GraphForbidden(
        f"Microsoft Graph refused mailbox {settings.graph_mailbox} ({status} {code or 'Forbidden'}): the app's "
        f"identity lacks the Microsoft Graph application permission {permission}, or an Exchange access "
        f"policy leaves this mailbox out. Grant it with infra/scripts/entra-app-registrations.sh grant-graph "
        f"<AZURE_FUNCTION_APP_PRINCIPAL_ID> {permission} (an Entra administrator); a token issued "
        f"before the grant stays cached for up to 24 hours.",
        status=status,
        code=code,
        permission=permission,
    )


@dataclass(frozen=True)
class DeltaPage:
    message_ids: list[str]  # new or changed messages; removals are left out
    next_link: str | None
    delta_link: str | None


@dataclass(frozen=True)
class MailAttachment:
    name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class SubscriptionInfo:
    id: str
    expires_at: datetime


class _LoopThread:
    """An asyncio loop in a daemon thread; ``run`` blocks the calling thread until the result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="graph-loop", daemon=True).start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(CALL_TIMEOUT_SECONDS)


@functools.cache
def _loop_thread() -> _LoopThread:
    return _LoopThread()


class GraphMailbox:
    """The configured mailbox and folder, and the app's change-notification subscriptions."""

    def __init__(self, settings: Settings) -> None:
        if not settings.graph_mailbox:
            raise GraphError("GRAPH_MAILBOX must be set to use Graph")
        self.settings = settings
        self.mailbox = settings.graph_mailbox
        self.folder = settings.graph_folder
        self._runner = _loop_thread()
        self._client = _graph_client(settings)
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self._refused = False  # the last call ended in a 403: log the next one only after a success
        self._users_url = f"{settings.graph_base_url.rstrip('/')}/users/{quote(self.mailbox, safe='')}"

    @property
    def resource(self) -> str:
        """The subscription resource: new mail in the folder."""
        return f"users/{self.mailbox}/mailFolders('{self.folder}')/messages"

    @property
    def sync_key(self) -> str:
        return f"{self.mailbox}/{self.folder}"

    # --- messages ------------------------------------------------------------------------------

    def mime(self, message_id: str) -> bytes:
        """The message as RFC 5322 bytes (``/$value``)."""
        # The one request made per mail: its URL is built once here rather than expanded from the
        # SDK's URI template on each of the several times the SDK reads it.
        url = f"{self._users_url}/messages/{quote(message_id, safe='')}/$value"
        content: bytes | None = self._call(lambda: self._message(message_id).content.with_url(url).get())
        if content is None:
            raise GraphNotFound(f"message {message_id} has no content", status=404)
        return content

    def move(self, message_id: str, folder: str) -> None:
        from msgraph.generated.users.item.messages.item.move.move_post_request_body import (
            MovePostRequestBody,
        )

        body = MovePostRequestBody(destination_id=folder)
        self._call(lambda: self._message(message_id).move.post(body))

    def delta_page(self, link: str | None) -> DeltaPage:
        """One page of changes in the folder: from ``link`` (a next or delta link), else from the start."""
        from kiota_abstractions.base_request_configuration import RequestConfiguration

        builder = self._folder().messages.delta
        if link:
            builder = builder.with_url(link)
        config: Any = RequestConfiguration(
            query_parameters=builder.DeltaRequestBuilderGetQueryParameters(select=["id"])
        )
        config.headers.add("Prefer", f"odata.maxpagesize={DELTA_PAGE_SIZE}")
        response = self._call(lambda: builder.get(config))
        items = response.value or [] if response is not None else []
        return DeltaPage(
            message_ids=[m.id for m in items if m.id and "@removed" not in (m.additional_data or {})],
            next_link=response.odata_next_link if response is not None else None,
            delta_link=response.odata_delta_link if response is not None else None,
        )

    def send_mail(self, to: list[str], subject: str, text: str, attachment: MailAttachment) -> None:
        """Send a mail from the mailbox (``sendMail``: Graph answers 202 and saves it in Sent Items).
        Needs the Mail.Send application permission, scoped to this mailbox."""
        from msgraph.generated.models.body_type import BodyType
        from msgraph.generated.models.email_address import EmailAddress
        from msgraph.generated.models.file_attachment import FileAttachment
        from msgraph.generated.models.item_body import ItemBody
        from msgraph.generated.models.message import Message
        from msgraph.generated.models.recipient import Recipient
        from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
            SendMailPostRequestBody,
        )

        message = Message(
            subject=subject,
            body=ItemBody(content_type=BodyType.Text, content=text),
            to_recipients=[Recipient(email_address=EmailAddress(address=address)) for address in to],
            attachments=[
                FileAttachment(
                    odata_type="#microsoft.graph.fileAttachment",
                    name=attachment.name,
                    content_type=attachment.content_type,
                    content_bytes=attachment.content,
                )
            ],
        )
        body = SendMailPostRequestBody(message=message, save_to_sent_items=True)
        self._call(lambda: self._client.users.by_user_id(self.mailbox).send_mail.post(body))

    # --- subscriptions -------------------------------------------------------------------------------

    def create_subscription(
        self, *, notification_url: str, lifecycle_url: str | None, client_state: str, expires_at: datetime
    ) -> SubscriptionInfo:
        from msgraph.generated.models.subscription import Subscription

        request = Subscription(
            change_type="created",
            notification_url=notification_url,
            lifecycle_notification_url=lifecycle_url,
            resource=self.resource,
            expiration_date_time=expires_at,
            client_state=client_state,
        )
        return _subscription_info(self._call(lambda: self._client.subscriptions.post(request)))

    def subscription(self, subscription_id: str) -> SubscriptionInfo | None:
        try:
            found = self._call(lambda: self._client.subscriptions.by_subscription_id(subscription_id).get())
        except GraphNotFound:
            return None
        return _subscription_info(found)

    def renew_subscription(self, subscription_id: str, expires_at: datetime) -> SubscriptionInfo:
        from msgraph.generated.models.subscription import Subscription

        patch = Subscription(expiration_date_time=expires_at)
        builder = self._client.subscriptions.by_subscription_id(subscription_id)
        return _subscription_info(self._call(lambda: builder.patch(patch)))

    # --- plumbing ------------------------------------------------------------------------------------

    def _message(self, message_id: str) -> Any:
        return self._client.users.by_user_id(self.mailbox).messages.by_message_id(message_id)

    def _folder(self) -> Any:
        return self._client.users.by_user_id(self.mailbox).mail_folders.by_mail_folder_id(self.folder)

    def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        return self._runner.run(self._throttled(request))

    async def _throttled(self, request: Callable[[], Awaitable[T]]) -> T:
        async with self._slots:
            try:
                result = await request()
            except Exception as error:
                raised = _graph_error(error)
                if raised.status == 403:
                    raised = forbidden(self.settings, raised.status, raised.code)
                    if not self._refused:
                        log.error("%s", raised)
                    self._refused = True
                raise raised from None
            self._refused = False
            return result


def _subscription_info(subscription: Any) -> SubscriptionInfo:
    if subscription is None or not subscription.id or subscription.expiration_date_time is None:
        raise GraphError("Graph answered a subscription request without an id or expiry")
    return SubscriptionInfo(subscription.id, subscription.expiration_date_time)


def _graph_error(error: Exception) -> GraphError:
    """The SDK's and the transport's exceptions as ours, with the status and Graph's error code."""
    import httpx
    from kiota_abstractions.api_error import APIError

    if isinstance(error, GraphError):
        return error
    if isinstance(error, APIError):
        status = error.response_status_code
        code = getattr(getattr(error, "error", None), "code", None)
        message = f"Graph answered {status}" + (f" ({code})" if code else "")
        if status in (404, 410):
            return GraphNotFound(message, status=status, code=code)
        if status == 429 or (status or 0) >= 500:
            return GraphUnavailable(message, status=status, code=code)
        return GraphError(message, status=status, code=code)
    if isinstance(error, httpx.HTTPError | OSError):
        return GraphUnavailable(f"Graph unreachable: {type(error).__name__}")
    return GraphUnavailable(f"Graph call failed: {type(error).__name__}: {error}"[:300])


def _graph_client(settings: Settings) -> Any:
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    http_client = httpx.AsyncClient(
        base_url=settings.graph_base_url,
        timeout=httpx.Timeout(60, connect=10),
        verify=_tls_context(settings.graph_ca_bundle),
    )
    http_client = GraphClientFactory.create_with_custom_middleware(_middleware(), client=http_client)
    credential = _CachedToken(_credential(settings))
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[_scope(settings.graph_base_url)])
    adapter = GraphRequestAdapter(auth, client=http_client)
    adapter.base_url = settings.graph_base_url.rstrip("/")
    return GraphServiceClient(request_adapter=adapter)


def _middleware() -> list[Any]:
    """The SDK's default handlers less the ones this client never uses (request/response inspection,
    rewriting /me URLs): each costs CPU on every request, and ingestion makes many."""
    from kiota_http.middleware import (
        ParametersNameDecodingHandler,
        RedirectHandler,
        RetryHandler,
        UserAgentHandler,
    )
    from msgraph.graph_request_adapter import options
    from msgraph_core.middleware import GraphTelemetryHandler
    from msgraph_core.middleware.options import GraphTelemetryHandlerOption

    telemetry = options[GraphTelemetryHandlerOption.get_key()]
    return [RedirectHandler(), RetryHandler(), ParametersNameDecodingHandler(), UserAgentHandler(),
            GraphTelemetryHandler(options=telemetry)]  # fmt: skip


class _CachedToken:
    """The credential's access token, reused until shortly before it expires.

    The SDK asks for a token on every request, and azure-identity answers each time by searching
    MSAL's cache; a claims challenge (continuous access evaluation) always goes to the credential."""

    REFRESH_BEFORE_SECONDS = 300

    def __init__(self, credential: Any) -> None:
        self._credential = credential
        self._token: Any = None
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, claims: str | None = None, **kwargs: Any) -> Any:
        with self._lock:
            if (
                claims
                or self._token is None
                or self._token.expires_on - time.time() < self.REFRESH_BEFORE_SECONDS
            ):
                self._token = self._credential.get_token(*scopes, claims=claims, **kwargs)
            return self._token


def _credential(settings: Settings) -> Any:
    """App-only: the client secret when one is configured, else the app's managed identity."""
    registration = settings.graph_app_registration
    if registration is None:
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential()
    from azure.identity import ClientSecretCredential

    tenant_id, client_id, secret = registration
    extra: dict[str, Any] = {}
    if settings.graph_ca_bundle:
        extra["connection_verify"] = settings.graph_ca_bundle
    return ClientSecretCredential(
        tenant_id,
        client_id,
        secret.get_secret_value(),
        authority=settings.graph_authority_host,
        disable_instance_discovery=settings.graph_disable_instance_discovery,
        **extra,
    )


def _scope(base_url: str) -> str:
    """App-only tokens ask for the Graph host's .default scope (national clouds have their own)."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.hostname}/.default"


def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


@functools.cache
def default_mailbox() -> GraphMailbox:
    """The configured mailbox, built once per process."""
    return GraphMailbox(get_settings())
