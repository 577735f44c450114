"""The change-notification subscription on the watched folder: created when missing, renewed well
before it expires, recreated when Graph has dropped it.

Outlook message subscriptions live at most 4,230 minutes; we ask for a little less (clock skew)
and renew once less than a day is left, so a day of failed renewals still loses nothing. The
lifecycle URL can only be given at creation. Without a notification URL or a clientState the
webhook is off and the catch-up's delta query alone brings the mail in.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared_code.db.models import GraphSubscription
from shared_code.mail.graph_client import GraphMailbox, GraphNotFound, SubscriptionInfo

log = logging.getLogger(__name__)

MAX_LIFETIME = timedelta(minutes=4230)  # Graph's limit for Outlook messages
LIFETIME = MAX_LIFETIME - timedelta(minutes=30)
RENEW_WITHIN = timedelta(days=1)


def ensure_subscription(session: Session, mailbox: GraphMailbox) -> GraphSubscription | None:
    """The live subscription for the folder, created or renewed as needed (None: webhook off)."""
    settings = mailbox.settings
    if not (settings.graph_notification_url and settings.graph_client_state):
        log.info("no GRAPH_NOTIFICATION_URL or GRAPH_CLIENT_STATE: no subscription, delta catch-up only")
        return None
    client_state = settings.graph_client_state.get_secret_value()
    now = datetime.now(UTC)
    for stored in _stored(session, mailbox):
        remote = mailbox.subscription(stored.id)
        if remote is None or remote.expires_at <= now:
            log.warning("subscription %s is gone from Graph; creating a new one", stored.id)
            session.delete(stored)
            continue
        if remote.expires_at - now < RENEW_WITHIN:
            return renew(session, mailbox, stored.id)
        stored.expires_at = remote.expires_at
        return stored
    return _create(session, mailbox, settings.graph_notification_url, client_state)


def renew(session: Session, mailbox: GraphMailbox, subscription_id: str) -> GraphSubscription | None:
    """Extend a subscription (also Graph's ``reauthorizationRequired``); recreate it if it is gone."""
    try:
        remote = mailbox.renew_subscription(subscription_id, datetime.now(UTC) + LIFETIME)
    except GraphNotFound:
        log.warning("subscription %s is gone from Graph; creating a new one", subscription_id)
        return replace(session, mailbox, subscription_id)
    stored = _upsert(session, mailbox, remote)
    stored.last_renewed_at = datetime.now(UTC)
    log.info("subscription %s renewed until %s", remote.id, remote.expires_at.isoformat())
    return stored


def replace(session: Session, mailbox: GraphMailbox, subscription_id: str | None) -> GraphSubscription | None:
    """Graph removed a subscription (``subscriptionRemoved``): forget it and make sure one exists."""
    if subscription_id:
        session.execute(delete(GraphSubscription).where(GraphSubscription.id == subscription_id))
    return ensure_subscription(session, mailbox)


def _stored(session: Session, mailbox: GraphMailbox) -> list[GraphSubscription]:
    return list(
        session.scalars(
            select(GraphSubscription)
            .where(GraphSubscription.resource == mailbox.resource)
            .order_by(GraphSubscription.expires_at.desc())
        )
    )


def _create(
    session: Session, mailbox: GraphMailbox, notification_url: str, client_state: str
) -> GraphSubscription:
    remote = mailbox.create_subscription(
        notification_url=notification_url,
        lifecycle_url=mailbox.settings.graph_lifecycle_url,
        client_state=client_state,
        expires_at=datetime.now(UTC) + LIFETIME,
    )
    log.info(
        "subscription %s created on %s until %s", remote.id, mailbox.resource, remote.expires_at.isoformat()
    )
    return _upsert(session, mailbox, remote)


def _upsert(session: Session, mailbox: GraphMailbox, remote: SubscriptionInfo) -> GraphSubscription:
    """Our record of a subscription, under our resource string (Graph may spell it differently)."""
    stored = session.get(GraphSubscription, remote.id)
    if stored is None:
        stored = GraphSubscription(id=remote.id, resource=mailbox.resource)
        session.add(stored)
    stored.expires_at = remote.expires_at
    session.flush()
    return stored
