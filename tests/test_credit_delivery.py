"""Credit feedback without a person: published results reach the credit platform from the
delivery worker inside the hub, survive the platform being down (its database stopped for
real) and catch up when it returns; dead letters are listed and replayed from the shell."""

from __future__ import annotations

import uuid
from datetime import date

from tests.conftest import Hub
from tests.test_joint_tasks import (
    PUBLISH,
    RECORD,
    REVIEW,
    drawn_task,
    inspector_of,
    outcomes,
    reviewer,
)
from tests.test_partial import stopped
from tests.test_webhooks import cli, eventually


async def approved_task(hub: Hub) -> tuple[dict, dict]:
    """A drawn task with its first visit's result entered and approved."""
    task = await drawn_task(hub)
    visit = task["visits"][0]
    entry = {
        "visitId": visit["id"],
        "category": "PROBLEM_CORRECTED",
        "entries": outcomes(visit),
        "concludedOn": date.today().isoformat(),
    }
    assert "errors" not in await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
    approve = {"v": visit["id"], "ok": True, "c": ""}
    assert "errors" not in await hub.gql(REVIEW, approve, headers=reviewer())
    return task, visit


async def publish(hub: Hub, task: dict) -> None:
    body = await hub.gql(PUBLISH, {"t": task["id"], "close": True, "reason": "窗口期结束"})
    assert body["data"]["publishTaskResults"]["status"] == "PUBLISHED", body


async def credit_row(hub: Hub, visit: dict) -> dict:
    row = await hub.app.state.store.pool.fetchrow(
        "SELECT d.* FROM event_delivery d JOIN event e ON e.id = d.event_id"
        " WHERE d.consumer = 'credit' AND e.visit_id = $1",
        uuid.UUID(visit["id"]),
    )
    return dict(row)


async def inspection_records(hub: Hub, uscc: str) -> int:
    body = await hub.gql(
        "query($u: String!) { entity(uscc: $u) { creditRecords(kinds: [INSPECTION_RESULT]) "
        "{ id } } }",
        {"u": uscc},
    )
    return len(body["data"]["entity"]["creditRecords"] or [])


async def test_credit_feedback_waits_out_a_platform_outage(hub: Hub, prefix: str) -> None:
    task, visit = await approved_task(hub)
    before = await inspection_records(hub, visit["uscc"])
    async with stopped(f"{prefix}credit"):
        await publish(hub, task)  # publication does not need the platform

        async def tried() -> bool:
            return (await credit_row(hub, visit))["attempts"] >= 2

        await eventually(tried, "delivery attempted while the platform is down")
        row = await credit_row(hub, visit)
        assert row["delivered_at"] is None and row["dead_at"] is None
        assert "credit platform unavailable" in row["last_error"]

    async def delivered() -> bool:
        return (await credit_row(hub, visit))["delivered_at"] is not None

    await eventually(delivered, "caught up once the platform is back")
    assert await inspection_records(hub, visit["uscc"]) == before + 1
    # Delivered once: another round changes nothing at the platform.
    await hub.app.state.store.pool.execute(
        "UPDATE event_delivery SET delivered_at = NULL WHERE consumer = 'credit' AND event_id = $1",
        row["event_id"],
    )
    await eventually(delivered, "redelivered")
    assert await inspection_records(hub, visit["uscc"]) == before + 1


async def test_credit_dead_letters_from_the_shell(hub: Hub, prefix: str) -> None:
    task, visit = await approved_task(hub)
    async with stopped(f"{prefix}credit"):
        await publish(hub, task)

        async def dead() -> bool:
            # A delivery run that gives up after one attempt turns it into a dead letter.
            await cli(prefix, "deliver-credit", HUB_CREDIT_MAX_ATTEMPTS="1")
            return (await credit_row(hub, visit))["dead_at"] is not None

        await eventually(dead, "a dead letter")
        code, out, _ = await cli(prefix, "deliver-credit", "--dead")
        assert code == 0 and visit["id"] in out and "credit platform unavailable" in out
    code, out, err = await cli(prefix, "deliver-credit", "--replay")
    assert code == 0 and "dead letter(s) pending again" in out, (out, err)

    async def delivered() -> bool:
        return (await credit_row(hub, visit))["delivered_at"] is not None

    await eventually(delivered, "delivered after replay")
    code, out, _ = await cli(prefix, "deliver-credit", "--dead")
    assert visit["id"] not in out
