"""Issue 11, item 5: nobody can grow /metrics by inventing operation names, and requests that
fail before execution are counted under their own codes."""

from __future__ import annotations

import re
import uuid

from store import access
from tests.conftest import Hub


def _counter(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", metrics, re.M)
    return float(match.group(1)) if match else 0.0


async def test_unique_operation_names_leave_metrics_bounded(hub: Hub) -> None:
    await hub.raw.post("/graphql", json={"query": "query Warm { __typename }"})
    before = (await hub.client.get("/metrics")).text
    for i in range(500):
        r = await hub.raw.post("/graphql", json={"query": f"query Op{i} {{ __typename }}"})
        assert r.status_code == 200
    after = (await hub.client.get("/metrics")).text
    print(f"/metrics {len(before)} B before 500 new names, {len(after)} B after")
    assert len(after) - len(before) < 4_000, len(after) - len(before)
    assert "Op499" not in after and "Op0" not in after
    assert _counter(after, "jsh_requests_total", operation="other", status="ok") >= 500 + (
        _counter(before, "jsh_requests_total", operation="other", status="ok")
    )


async def test_registered_operations_keep_their_names_and_anonymous_is_one_series(
    hub: Hub,
) -> None:
    pool = hub.app.state.store.pool
    document = (
        f"# {uuid.uuid4().hex}\n"
        "query Latest { publishedResults(first: 1) { edges { cursor } } }"
    )
    digest = await access.register_operation(pool, "latest-results", document, [])
    r = await hub.client.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    )
    assert r.status_code == 200 and "errors" not in r.json()
    await hub.client.post("/graphql", json={"query": "{ __typename }"})
    metrics = (await hub.client.get("/metrics")).text
    assert _counter(metrics, "jsh_requests_total", operation="latest-results", status="ok") >= 1
    assert _counter(metrics, "jsh_requests_total", operation="anonymous", status="ok") >= 1


async def test_parse_and_validation_failures_are_counted_under_their_codes(hub: Hub) -> None:
    before = (await hub.client.get("/metrics")).text
    await hub.client.post("/graphql", json={"query": "{ departments { code }"})
    await hub.client.post("/graphql", json={"query": "{ nosuchfield }"})
    after = (await hub.client.get("/metrics")).text
    for code in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"):
        assert _counter(after, "jsh_graphql_errors_total", code=code) == 1 + _counter(
            before, "jsh_graphql_errors_total", code=code
        ), code
    assert _counter(after, "jsh_graphql_errors_total", code="NONE") == _counter(
        before, "jsh_graphql_errors_total", code="NONE"
    )
