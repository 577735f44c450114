"""Hypothesis over the anonymous webhooks' bodies: deep nesting, lone surrogates, huge ids, wrong
types. Whatever arrives, the answer is a 2xx or a 4xx with the error body, never a 5xx."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fake_graph import CLIENT_STATE

EXAMPLES = int(os.environ.get("WEBHOOK_FUZZ_EXAMPLES", "400"))
WEBHOOKS = ["/api/graph/notifications", "/api/graph/lifecycle"]

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.one_of(surrogates, st.characters()), max_size=20),
    st.integers(1_000, 200_000).map(lambda n: "A" * n),  # huge ids
    st.just(CLIENT_STATE),
    st.just(CLIENT_STATE + "\ud800"),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), hostile_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=20,
)
notifications = st.fixed_dictionaries(
    {},
    optional={
        "subscriptionId": st.one_of(hostile_text, json_values),
        "clientState": st.one_of(hostile_text, json_values),
        "resource": st.one_of(hostile_text, st.builds(lambda i: f"Users/u/Messages/{i}", hostile_text)),
        "resourceData": st.one_of(
            st.fixed_dictionaries({"id": st.one_of(hostile_text, json_values)}), json_values
        ),
        "lifecycleEvent": st.one_of(st.sampled_from(["missed", "reauthorizationRequired"]), hostile_text),
    },
)


def nested(depth: int, opener: str) -> str:
    """A batch whose one notification is ``depth`` arrays or objects deep."""
    inner = '{"a":' * depth + "1" + "}" * depth if opener == "{" else "[" * depth + "]" * depth
    return '{"value": [' + inner + "]}"


bodies = st.one_of(
    st.builds(lambda items: json.dumps({"value": items}), st.lists(notifications, max_size=6)),
    st.builds(json.dumps, json_values),
    st.builds(nested, st.integers(1, 5000), st.sampled_from(["[", "{"])),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


@pytest.mark.slow
@pytest.mark.parametrize("path", WEBHOOKS)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_no_webhook_body_reaches_a_5xx(queues, path: str, body: Any) -> None:
    raw = body.encode("utf-8", "surrogatepass")
    response = queues.request("POST", path, body=raw, headers={"content-type": "application/json"})
    assert response.status < 500, response.body[:300]
    if response.status >= 400:
        assert response.json()["error"]["code"]
