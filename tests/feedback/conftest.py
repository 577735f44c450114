"""Fixtures of the Feedback tests: people with their own subjects, and counting what is stored."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.db.models import (
    FeedbackAttachment,
    FeedbackAttachmentContent,
    FeedbackItem,
    FeedbackReply,
    FeedbackVote,
)
from tests.feedback.images import multipart


class People:
    """Bearer headers for named people: each has a subject of their own (votes, "own" posts)."""

    def __init__(self, entra: Any) -> None:
        self.entra = entra

    def __call__(self, name: str, role: str = "Operator") -> dict[str, str]:
        return self.entra.bearer(role, oid=f"subject-{name}", preferred_username=f"{name}@example.test")


@pytest.fixture
def people(entra: Any) -> People:
    return People(entra)


def stored(db: Session) -> dict[str, int]:
    """Rows per feedback table, and the bytes kept for screenshots and thumbnails."""
    db.rollback()  # a fresh snapshot: the API wrote in its own transactions
    tables = (FeedbackItem, FeedbackReply, FeedbackVote, FeedbackAttachment, FeedbackAttachmentContent)
    counts = {
        table.__tablename__: db.scalar(select(func.count()).select_from(table)) or 0 for table in tables
    }
    counts["bytes"] = db.scalar(
        select(
            func.coalesce(
                func.sum(
                    func.octet_length(FeedbackAttachmentContent.content)
                    + func.octet_length(FeedbackAttachmentContent.thumbnail)
                ),
                0,
            )
        )
    )
    return counts


def post_item(api: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "kind": "bug",
        "title": "Run Checks forgets my filter",
        "description": "After a reload.",
        **fields,
    }
    response = api.post("/api/feedback", role=None, headers=headers, body=body)
    assert response.status == 201, response.body
    return response.json()


def upload(api: Any, path: str, headers: dict[str, str], *files: tuple[str, bytes, str]) -> Any:
    body, content_type = multipart(*files)
    return api.post(path, role=None, headers={**headers, **content_type}, body=body)


def concurrently(requests: list) -> list:
    """Send the requests at the same moment, one thread each."""
    start = threading.Barrier(len(requests))

    def send(request):
        start.wait()
        return request()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))
