"""A CPU budget for one parse, so that no mail can hold a worker however it is shaped.

``parse_mail`` opens the budget; the long loops of reading a mail call ``spend()`` between
their steps, which raises ``ParseTooLong`` once the thread has used more CPU than allowed.
The budget counts the calling thread's CPU time (not the wall clock), so a busy machine does
not stop a parse that would finish. What it cannot interrupt: a single step in C (the HTML
parser's one pass over the markup, the stdlib's MIME parse), which is linear in the mail's size.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("parse_deadline", default=None)


class ParseTooLong(BaseException):
    """The parse used up its CPU budget. A BaseException, so no parser's "except Exception" keeps it going."""


@contextmanager
def cpu_budget(seconds: float | None) -> Iterator[None]:
    """Allow the parse in this block ``seconds`` of this thread's CPU time (None: no limit)."""
    token = _deadline.set(None if seconds is None else time.thread_time() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def spend() -> None:
    """Raise ``ParseTooLong`` if the current parse has used up its budget."""
    deadline = _deadline.get()
    if deadline is not None and time.thread_time() > deadline:
        raise ParseTooLong
