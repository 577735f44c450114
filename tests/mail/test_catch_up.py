"""The catch-up timer: subscription upkeep and the delta query, so mail whose notification was lost
still comes in, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.db.models import GraphSubscription, IngestionFailure, JobRun, MailMessage, MailSyncState
from shared_code.mail.catch_up import maintenance_lock, run_catch_up
from shared_code.mail.graph_client import default_mailbox
from shared_code.mail.queue import GRAPH_EVENTS_QUEUE, MAX_DEQUEUE_COUNT
from shared_code.mail.subscription import MAX_LIFETIME
from tests.mail.mails import VEEAM, job_for, mime
from tests.mail.test_queue_ingestion import deliver
from tests.mail.test_webhook import lifecycle
from tests.support.fake_graph import CLIENT_STATE

SYNC_KEY = "backup-reports@example.test/inbox"


def stored_ids(db: Session) -> list[str]:
    db.expire_all()
    return sorted(db.scalars(select(MailMessage.graph_message_id)))


def catch_up(host) -> None:
    host.run_timer("mail_catch_up")


def test_mail_that_arrived_while_the_webhook_was_down_is_ingested_exactly_once(db, graph, queues) -> None:
    job_for(db, VEEAM)
    graph.page_size = 4
    graph.repeat_items = True  # Graph may repeat items across pages
    notified = [graph.add_message(mime(VEEAM)) for _ in range(3)]
    deliver(queues, *notified)
    missed = [graph.add_message(mime(VEEAM)) for _ in range(9)]  # the webhook is down now

    catch_up(queues)

    everything = sorted(notified + missed)
    assert stored_ids(db) == everything
    assert db.scalar(select(func.count()).select_from(JobRun)) == 12
    assert all(graph.fetches(message_id) == 1 for message_id in everything)
    state = db.get(MailSyncState, SYNC_KEY)
    assert state.delta_link.startswith(graph.base_url) and "$deltatoken=" in state.delta_link
    assert state.last_full_sync_at is not None

    later = graph.add_message(mime(VEEAM))
    catch_up(queues)
    assert stored_ids(db) == sorted([*everything, later])
    assert graph.count("GET", "/messages/delta") == 4  # 3 pages of 12, then one page with the new mail
    assert graph.fetches(later) == 1


def test_the_first_run_creates_the_subscription_with_its_lifecycle_url(db, graph, queues) -> None:
    catch_up(queues)
    (subscription,) = graph.subscriptions.values()
    assert subscription["changeType"] == "created"
    assert subscription["resource"] == "users/backup-reports@example.test/mailFolders('inbox')/messages"
    assert subscription["notificationUrl"].endswith("/api/graph/notifications")
    assert subscription["lifecycleNotificationUrl"].endswith("/api/graph/lifecycle")
    assert subscription["clientState"] == CLIENT_STATE
    expires = datetime.fromisoformat(subscription["expirationDateTime"].replace("Z", "+00:00"))
    assert timedelta(hours=48) < expires - datetime.now(UTC) <= MAX_LIFETIME
    stored = db.scalars(select(GraphSubscription)).one()
    assert stored.id == subscription["id"]

    catch_up(queues)
    assert len(graph.subscriptions) == 1 and graph.count("PATCH") == 0  # alive and far from expiry


def test_a_subscription_about_to_expire_is_renewed(db, graph, queues) -> None:
    catch_up(queues)
    (subscription,) = graph.subscriptions.values()
    soon = datetime.now(UTC) + timedelta(hours=2)
    subscription["expirationDateTime"] = soon.isoformat()
    catch_up(queues)
    assert graph.count("PATCH", "/subscriptions/") == 1
    renewed = datetime.fromisoformat(subscription["expirationDateTime"].replace("Z", "+00:00"))
    assert renewed - datetime.now(UTC) > timedelta(hours=48)
    db.expire_all()
    stored = db.scalars(select(GraphSubscription)).one()
    assert stored.last_renewed_at is not None and stored.expires_at > soon


def test_a_lost_subscription_is_recreated(db, graph, queues) -> None:
    catch_up(queues)
    (lost,) = graph.subscriptions
    graph.subscriptions.clear()  # Graph dropped it
    catch_up(queues)
    (replacement,) = graph.subscriptions
    assert replacement != lost
    db.expire_all()
    assert [s.id for s in db.scalars(select(GraphSubscription))] == [replacement]


def test_lifecycle_events_renew_recreate_and_catch_up(db, graph, queues) -> None:
    catch_up(queues)
    (first,) = graph.subscriptions

    def event(kind: str) -> None:
        body = {"value": [{**lifecycle(kind), "subscriptionId": next(iter(graph.subscriptions), "gone")}]}
        assert queues.request("POST", "/api/graph/lifecycle", body=body).status == 202
        queues.drain()

    event("reauthorizationRequired")
    assert graph.count("PATCH", f"/subscriptions/{first}") == 1
    graph.subscriptions.clear()
    event("subscriptionRemoved")
    assert len(graph.subscriptions) == 1 and first not in graph.subscriptions
    arrived = graph.add_message(mime(VEEAM))
    event("missed")
    assert stored_ids(db) == [arrived]
    assert queues.poison(GRAPH_EVENTS_QUEUE) == []


def test_an_expired_delta_token_starts_a_full_resync_without_duplicates(db, graph, queues) -> None:
    first = [graph.add_message(mime(VEEAM)) for _ in range(3)]
    catch_up(queues)
    graph.expire_delta_tokens()
    second = graph.add_message(mime(VEEAM))
    catch_up(queues)
    assert stored_ids(db) == sorted([*first, second])
    assert all(graph.fetches(message_id) == 1 for message_id in [*first, second])
    assert graph.count("GET", "/messages/delta") == 3  # first round, the 410, the full resync


def test_a_message_failing_in_the_catch_up_is_retried_by_the_next_run(db, graph, queues) -> None:
    graph.page_size = 2
    ids = [graph.add_message(mime(VEEAM)) for _ in range(5)]
    graph.fail("GET", rf"/messages/{ids[3]}/\$value$", 500)  # on the second page
    catch_up(queues)
    assert stored_ids(db) == sorted(ids[:3] + ids[4:])
    assert db.scalars(select(IngestionFailure.state)).all() == ["failing"]
    assert "$skiptoken=" in db.get(MailSyncState, SYNC_KEY).delta_link  # resumes at the second page

    catch_up(queues)
    assert stored_ids(db) == sorted(ids)
    db.expire_all()
    assert db.scalars(select(IngestionFailure.state)).all() == ["resolved"]
    assert [graph.fetches(message_id) for message_id in ids] == [1, 1, 1, 2, 1]


def test_a_message_failing_every_run_is_poisoned_and_no_longer_holds_the_catch_up_back(
    db, graph, queues
) -> None:
    stuck = graph.add_message(mime(VEEAM))
    graph.fail("GET", rf"/messages/{stuck}/\$value$", 500, times=MAX_DEQUEUE_COUNT)
    for _ in range(MAX_DEQUEUE_COUNT):
        catch_up(queues)
    failure = db.scalars(select(IngestionFailure)).one()
    assert (failure.state, failure.attempts) == ("poisoned", MAX_DEQUEUE_COUNT)
    catch_up(queues)
    assert graph.fetches(stuck) == MAX_DEQUEUE_COUNT  # settled: the delta link moved past it


def test_one_catch_up_at_a_time(db, graph) -> None:
    with maintenance_lock() as acquired:
        assert acquired
        assert run_catch_up(default_mailbox()) is None
    assert graph.count("GET", "/messages/delta") == 0


def test_a_lifecycle_event_waits_for_a_running_catch_up(db, graph, queues) -> None:
    queues.enqueue(GRAPH_EVENTS_QUEUE, json.dumps({"event": "missed", "subscription_id": None}))
    with maintenance_lock():
        queues.drain()
    assert len(queues.poison(GRAPH_EVENTS_QUEUE)) == 1  # the dev host retries at once; Azure waits 30 s
