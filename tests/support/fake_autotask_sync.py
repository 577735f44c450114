"""The fake Autotask with what ticket sync tests need on top (additive: the base fake is unchanged).

- Queries by ``id in [...]`` look the ids up instead of testing every row against every id, so a
  poll over thousands of tickets costs the fake what it costs Autotask: the filters and answers
  are the base fake's, only faster;
- ``latency``: every request answered that much later (after it was handled);
- ``flaky``: a share of the ticket reads answer 429, 500 or time out;
- status changes, deletions, time entries and PATCHes accepted but ignored are the base fake's
  (``set_status``, ``delete_ticket``, ``add_time_entry``, ``ignored_patches``).
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.support.fake_autotask import (
    MAX_RECORDS,
    FakeAutotask,
    Fault,
    Request,
    Response,
    _include,
    _matches,
    errors_response,
)

FOREVER = 10**9


class SyncFakeAutotask(FakeAutotask):
    def reset(self) -> None:
        super().reset()
        self.latency_seconds = 0.0

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        time.sleep(self.latency_seconds)
        return super().handle(method, target, headers, body)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """One roll per request; the matching faults' shares are disjoint slices of it (the base
        fake stops at the first matching fault, so two faults on one path could not share it)."""
        roll = self._random.random()
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.path.search(path):
                if roll < fault.share:
                    fault.remaining -= 1
                    return fault
                roll -= fault.share
        return None

    def _query(self, request: Request, match: re.Match[str]) -> Response:
        body = {key.lower(): value for key, value in (request.json() or {}).items()}
        filters = body.get("filter") or []
        by_id = next((f for f in filters if _is_id_list(f)), None)
        if by_id is None:
            return super()._query(request, match)
        size = int(body.get("maxrecords") or MAX_RECORDS)
        if not 1 <= size <= MAX_RECORDS:
            return errors_response(f"MaxRecords must be between 1 and {MAX_RECORDS}.")
        rows = self._rows(match["entity"])
        wanted = sorted({int(v) for v in by_id["value"] if str(v).lstrip("-").isdigit()} & rows.keys())
        others = [f for f in filters if f is not by_id]
        found = [rows[i] for i in wanted if all(_matches(rows[i], f) for f in others)]
        include = list(body.get("includefields") or [])
        return self._page(match["entity"], [_include(row, include) for row in found], size)

    def latency(self, seconds: float) -> None:
        """Every request from now on is answered ``seconds`` late."""
        self.latency_seconds = seconds

    def flaky(self, share: float, *, timeout_after: float) -> None:
        """About ``share`` of the ticket reads fail, a third each with 429, with 500 and with no
        answer within ``timeout_after`` seconds (handled, answered after the client gave up)."""
        for method, path in (("POST", r"^/Tickets/query"), ("GET", r"^/Tickets/\d+$")):
            self.fail(method, path, 429, times=FOREVER, share=share / 3, headers={"Retry-After": "0"})
            self.fail(method, path, 500, times=FOREVER, share=share / 3, body="")
            self.fail(method, path, None, times=FOREVER, share=share / 3, delay=timeout_after)


def _is_id_list(condition: Any) -> bool:
    keys = {key.lower(): value for key, value in condition.items()} if isinstance(condition, dict) else {}
    return (
        keys.get("op") == "in"
        and str(keys.get("field", "")).lower() == "id"
        and isinstance(keys.get("value"), list)
    )
