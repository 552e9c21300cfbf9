"""Error messages say what happened in words, never the name of an exception class (issue 11,
item 7): `department 'market' is unavailable: database not accepting connections`, not
`…: ObjectNotInPrerequisiteStateError`; the class goes to the log."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.conftest import Hub
from tests.test_joint_tasks import CREATE, task_input
from tests.test_partial import QUERY, own_hub, stopped, unreachable

CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception|Refused|Timeout)\b")


def _messages(body: dict[str, Any]) -> list[str]:
    messages = [e["message"] for e in body.get("errors", [])]
    assert messages, body
    for m in messages:
        assert not CLASS_NAME.search(m), m
    return messages


async def test_a_stopped_department_is_named_in_words(settings, seeded, prefix) -> None:
    async with own_hub(settings) as hub, stopped(f"{prefix}market"):
        body = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        assert (
            "department 'market' is unavailable: database not accepting connections"
            in _messages(body)
        )
        health = {d["code"]: d["health"] for d in body["data"]["departments"]}
        assert not CLASS_NAME.search(health["market"]["reason"] or "")


async def test_a_refused_connection_is_named_in_words(settings, seeded) -> None:
    async with own_hub(unreachable(settings, "fire")) as hub:
        body = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        assert "department 'fire' is unavailable: connection refused" in _messages(body)


async def test_a_stopped_hub_store_is_named_in_words(hub: Hub, prefix) -> None:
    async with stopped(f"{prefix}hub"):
        created = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex)})
        read = await hub.gql("{ publishedResults(first: 1) { edges { cursor } } }")
    for body in (created, read):
        (message,) = _messages(body)
        assert body["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE", body
        assert message.startswith("the hub store is unavailable"), message


async def test_a_partner_key_that_cannot_be_checked_is_named_in_words(hub: Hub, prefix) -> None:
    async with stopped(f"{prefix}hub"):
        r = await hub.raw.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"x-api-key": "jsh_0123456789ab_" + "x" * 32},
        )
    assert r.status_code == 401
    (message,) = _messages(r.json())
    assert message.startswith("API keys cannot be checked now ("), message
