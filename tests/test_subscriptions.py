"""Subscriptions over both standard transports against a real server: graphql-transport-ws on
a WebSocket and GraphQL over SSE, with the same credentials, permissions and limits as
queries, tokens that expire, and events made in one hub process reaching subscribers of
another."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from demo.vocab import DISTRICTS
from gateway.app import create_app
from tests.browser import serve
from tests.conftest import AUTH, PLANNER, Hub, token
from tests.live_clients import SSE, WS
from tests.test_joint_tasks import (
    DRAW,
    RECORD,
    REVIEW,
    SUBSTITUTE,
    create,
    drawn_task,
    inspector_of,
    outcomes,
    reviewer,
)

PROGRESS = """subscription($t: ID!) { taskProgress(taskId: $t) {
  eventId at taskId status visits published latePublications visitCounts { state count } } }"""
VISIT = """subscription($v: ID!, $after: ID) { visitChanged(visitId: $v, after: $after) {
  eventId visitId taskId uscc change state resultVersion team { inspectorId department } } }"""
MINE = """subscription($after: ID) { myAssignments(after: $after) {
  eventId change taskId visitId uscc entityName windowStart windowEnd
  team { inspectorId department role } } }"""


def bearer(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def inspector_token(dept: str, inspector_id: str, ttl: int = 3600) -> str:
    return token(dept, ("officer", "inspector"), sub=inspector_id, ttl=ttl)


@pytest.fixture(scope="module")
async def live(settings) -> AsyncIterator[str]:
    """A second hub on a real port: events made through the `hub` fixture reach it only
    through the store's outbox and NOTIFY, as between two processes."""
    async with serve(create_app(settings, AUTH)) as url:
        yield url


async def last_event(hub: Hub) -> str:
    conn = await asyncpg.connect(hub.app.state.store.dsn)
    try:
        return str(await conn.fetchval("SELECT coalesce(max(id), 0) FROM event"))
    finally:
        await conn.close()


async def enter_result(hub: Hub, visit: dict) -> None:
    body = await hub.gql(
        RECORD,
        {
            "input": {
                "visitId": visit["id"],
                "category": "NO_PROBLEM",
                "entries": outcomes(visit, bad=0),
                "concludedOn": date.today().isoformat(),
            }
        },
        headers=inspector_of(visit),
    )
    assert "errors" not in body, body


async def next_data(ws: WS, op: str) -> dict:
    message = await ws.receive()
    assert message["type"] == "next" and message["id"] == op, message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]


# -- WebSocket ---------------------------------------------------------------------------------
async def test_task_progress_over_websocket_follows_draw_and_results(hub: Hub, live: str) -> None:
    task = await create(hub)
    async with WS.open(live, bearer(token())) as ws:
        await ws.ack()
        await ws.subscribe("p", PROGRESS, {"t": task["id"]})
        now = (await next_data(ws, "p"))["taskProgress"]
        assert now["status"] == "DRAFT" and now["visits"] == 0 and now["visitCounts"] == []
        drawn = await hub.gql(DRAW, {"id": task["id"]})
        visits = drawn["data"]["drawJointInspection"]["visits"]
        after_draw = (await next_data(ws, "p"))["taskProgress"]
        assert after_draw["status"] == "DRAWN" and after_draw["visits"] == len(visits)
        assert after_draw["visitCounts"] == [{"state": "NOT_ENTERED", "count": len(visits)}]
        assert int(after_draw["eventId"]) > int(now["eventId"])
        await enter_result(hub, visits[0])
        entered = (await next_data(ws, "p"))["taskProgress"]
        counts = {c["state"]: c["count"] for c in entered["visitCounts"]}
        assert counts == {"NOT_ENTERED": len(visits) - 1, "PENDING_REVIEW": 1}
        await ws.send({"id": "p", "type": "complete"})


async def test_websocket_credentials_are_checked_at_connection_init(live: str) -> None:
    async with WS.open(live, {}) as ws:
        code, reason = await ws.closed()
    assert code == 4403 and "sign in" in reason
    async with WS.open(live, bearer("not-a-token")) as ws:
        code, reason = await ws.closed()
    assert (code, reason) == (4403, "malformed token")
    expired = token(ttl=-AUTH.leeway - 60)
    async with WS.open(live, bearer(expired)) as ws:
        code, reason = await ws.closed()
    assert (code, reason) == (4403, "token expired")
    async with WS.open(live, {"X-API-Key": "jsh_nope_nope"}) as ws:
        code, reason = await ws.closed()
    assert (code, reason) == (4403, "malformed API key (expected jsh_<id>_<secret>)")


async def test_websocket_closes_with_4401_when_the_token_expires(hub: Hub, live: str) -> None:
    task = await create(hub)
    # Valid for about three more seconds: its exp is past, within the tolerated clock skew.
    short = token(ttl=-AUTH.leeway + 3)
    async with WS.open(live, bearer(short)) as ws:
        await ws.ack()
        await ws.subscribe("p", PROGRESS, {"t": task["id"]})
        assert (await next_data(ws, "p"))["taskProgress"]["status"] == "DRAFT"
        code, reason = await ws.closed()
    assert (code, reason) == (4401, "token expired")


async def test_subscribe_is_admitted_like_a_request(hub: Hub, live: str) -> None:
    task = await create(hub)
    aliases = " ".join(f"a{i}: visits" for i in range(40))
    async with WS.open(live, bearer(token())) as ws:
        await ws.ack()
        await ws.subscribe(
            "a", f'subscription {{ taskProgress(taskId: "{task["id"]}") {{ {aliases} }} }}'
        )
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["id"] == "a"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
        await ws.subscribe("q", "{ departments { code } }")
        query = await ws.receive()
        assert query["type"] == "error"
        assert query["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        await ws.subscribe("v", "subscription { taskProgress(taskId: 1) { nope } }")
        invalid = await ws.receive()
        assert invalid["type"] == "error"
        assert invalid["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        await ws.subscribe("n", PROGRESS, {"t": str(uuid.uuid4())})
        missing = await ws.receive()
        assert missing["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert await ws.receive() == {"id": "n", "type": "complete"}
        await ws.subscribe("p", PROGRESS, {"t": task["id"]})  # the connection still serves
        assert (await next_data(ws, "p"))["taskProgress"]["taskId"] == task["id"]


async def test_connections_and_subscriptions_count_against_the_rate(
    hub: Hub, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await create(hub)
    monkeypatch.setenv("HUB_RATE_OFFICER", "2/60")  # read when the app starts
    async with serve(create_app(settings, AUTH)) as strict:
        officer = bearer(token("fire", ("officer",), sub=f"rate-{uuid.uuid4().hex}"))
        async with WS.open(strict, officer) as ws:
            await ws.ack()  # the first request of the minute
            await ws.subscribe("p", PROGRESS, {"t": task["id"]})  # the second
            assert (await next_data(ws, "p"))["taskProgress"]["taskId"] == task["id"]
            await ws.subscribe("q", PROGRESS, {"t": task["id"]})
            refused = await ws.receive()
            assert refused["type"] == "error" and refused["id"] == "q"
            assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        async with WS.open(strict, officer) as ws:
            code, reason = await ws.closed()
        assert (code, reason) == (4429, "too many requests; retry later")


async def test_partner_keys_run_registered_subscriptions_only(hub: Hub, live: str) -> None:
    from store import access

    key = await access.create_key(hub.app.state.store.pool, "portal", ["results:read"])
    async with WS.open(live, {"X-API-Key": key}) as ws:
        await ws.ack()
        await ws.subscribe("p", PROGRESS, {"t": str(uuid.uuid4())})
        refused = await ws.receive()
        assert refused["payload"][0]["extensions"]["code"] == "OPERATION_NOT_REGISTERED"


async def test_a_subscription_over_plain_http_says_where_to_send_it(hub: Hub) -> None:
    task = await create(hub)
    r = await hub.client.post("/graphql", json={"query": PROGRESS, "variables": {"t": task["id"]}})
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and "WebSocket" in error["message"]


# -- SSE ---------------------------------------------------------------------------------------
async def test_visit_changes_over_sse_live_and_resumed(hub: Hub, live: str) -> None:
    task = await drawn_task(hub)
    visit = task["visits"][0]
    start = await last_event(hub)
    async with SSE.open(live, VISIT, {"v": visit["id"], "after": start}, PLANNER) as sse:
        assert sse.response.status_code == 200
        assert sse.response.headers["content-type"].startswith("text/event-stream")
        await enter_result(hub, visit)
        kind, payload = await sse.event()
        assert kind == "next", payload
        entered = payload["data"]["visitChanged"]
        assert entered["change"] == "RESULT_ENTERED" and entered["state"] == "PENDING_REVIEW"
        assert entered["resultVersion"] == 1 and entered["uscc"] == visit["uscc"]
        returned = await hub.gql(
            REVIEW, {"v": visit["id"], "ok": False, "c": "补充照片"}, headers=reviewer()
        )
        assert "errors" not in returned
        kind, payload = await sse.event()
        assert payload["data"]["visitChanged"]["change"] == "RETURNED"
    # Reconnecting after the first event replays what came after it, in order.
    after = entered["eventId"]
    async with SSE.open(live, VISIT, {"v": visit["id"], "after": after}, PLANNER) as sse:
        kind, payload = await sse.event()
        assert payload["data"]["visitChanged"]["change"] == "RETURNED"
        out = visit["team"][-1]["inspectorId"]
        body = await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": out, "r": "另有任务"})
        assert body["errors"][0]["extensions"]["code"] == "INVALID_STATE"  # result entered


async def test_sse_requests_pass_the_door_and_expire(hub: Hub, live: str) -> None:
    task = await create(hub)
    async with SSE.open(live, PROGRESS, {"t": task["id"]}, {}) as sse:
        assert sse.response.status_code == 401
    bad = {"authorization": "Bearer nope"}
    async with SSE.open(live, PROGRESS, {"t": task["id"]}, bad) as sse:
        assert sse.response.status_code == 401
    async with SSE.open(live, "{ departments { code } }", {}, PLANNER) as sse:
        assert sse.response.status_code == 400
        body = await sse.response.aread()
        assert b"BAD_REQUEST" in body
    short = {"authorization": f"Bearer {token(ttl=-AUTH.leeway + 3)}"}
    async with SSE.open(live, PROGRESS, {"t": task["id"]}, short) as sse:
        kind, payload = await sse.event()
        assert payload["data"]["taskProgress"]["status"] == "DRAFT"
        kind, payload = await sse.event()
        assert kind == "next" and payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert payload["errors"][0]["message"] == "token expired"
        assert (await sse.event())[0] == "complete"


# -- assignments -------------------------------------------------------------------------------
async def test_my_assignments_drawn_substituted_and_only_mine(hub: Hub, live: str) -> None:
    start = await last_event(hub)
    task = await drawn_task(hub)
    visit = task["visits"][0]
    leaver, stayer = visit["team"][-1], visit["team"][0]
    dept_l, id_l = leaver["department"]["code"], leaver["inspectorId"]
    dept_s, id_s = stayer["department"]["code"], stayer["inspectorId"]
    mine = {v["id"] for v in task["visits"] for m in v["team"] if m["inspectorId"] == id_s}
    async with WS.open(live, bearer(inspector_token(dept_s, id_s))) as ws:
        await ws.ack()
        await ws.subscribe("m", MINE, {"after": start})
        replayed = []
        for _ in mine:  # the draw's notices for the stayer's visits, replayed
            replayed.append((await next_data(ws, "m"))["myAssignments"])
        assert {n["visitId"] for n in replayed} == mine
        assert all(n["change"] == "DRAWN" and n["taskId"] == task["id"] for n in replayed)
        assert all(any(s["inspectorId"] == id_s for s in n["team"]) for n in replayed)
        body = await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": id_l, "r": "病假"})
        assert "errors" not in body, body
        live_notice = (await next_data(ws, "m"))["myAssignments"]
        assert live_notice["change"] == "TEAMMATE_CHANGED" and live_notice["visitId"] == visit["id"]
        assert id_l not in {s["inspectorId"] for s in live_notice["team"]}
    incoming = next(
        m["inspectorId"]
        for m in body["data"]["substituteInspector"]["team"]
        if m["inspectorId"] not in {t["inspectorId"] for t in visit["team"]}
    )
    # The one who left hears it; the one who came too (resumed from before the draw).
    async with WS.open(live, bearer(inspector_token(dept_l, id_l))) as ws:
        await ws.ack()
        await ws.subscribe("m", MINE, {"after": start})
        changes = []
        while True:
            n = (await next_data(ws, "m"))["myAssignments"]
            changes.append((n["visitId"], n["change"]))
            if n["change"] == "SUBSTITUTED_OFF":
                break
        assert changes[-1] == (visit["id"], "SUBSTITUTED_OFF")
        assert (visit["id"], "DRAWN") in changes
    async with WS.open(live, bearer(inspector_token(dept_l, incoming))) as ws:
        await ws.ack()
        await ws.subscribe("m", MINE, {"after": start})
        n = (await next_data(ws, "m"))["myAssignments"]
        while n["visitId"] != visit["id"]:
            n = (await next_data(ws, "m"))["myAssignments"]
        assert n["change"] == "SUBSTITUTED_ON"
        assert incoming in {s["inspectorId"] for s in n["team"]}


async def test_only_an_inspector_has_assignments(live: str) -> None:
    for credential in (
        token("market", ("officer",), sub="SJ3702020001"),  # an officer, not an inspector
        token("market", ("planner",)),
    ):
        async with WS.open(live, bearer(credential)) as ws:
            await ws.ack()
            await ws.subscribe("m", MINE)
            message = await ws.receive()
            errors = (
                message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            )
            assert errors[0]["extensions"]["code"] == "FORBIDDEN", message


async def test_an_inspector_never_hears_of_others_assignments(hub: Hub, live: str) -> None:
    start = await last_event(hub)
    task = await drawn_task(hub)
    visit = task["visits"][0]
    seats = {(m["department"]["code"], m["inspectorId"]) for v in task["visits"] for m in v["team"]}
    # Another inspector of a department on the task, drawn onto none of its teams.
    dept = visit["team"][0]["department"]["code"]
    others = [
        i for d in DISTRICTS for i in await inspectors(hub, dept, d.code) if (dept, i) not in seats
    ]
    async with WS.open(live, bearer(inspector_token(dept, others[0]))) as ws:
        await ws.ack()
        await ws.subscribe("m", MINE, {"after": start})
        heard = []
        with pytest.raises(TimeoutError):  # replayed and live: nothing of this task
            while True:
                heard.append((await ws.receive(timeout=3))["payload"]["data"]["myAssignments"])
        assert all(n["taskId"] != task["id"] for n in heard), heard
        assert all(any(s["inspectorId"] == others[0] for s in n["team"]) for n in heard)


async def inspectors(hub: Hub, dept: str, district: str) -> list[str]:
    body = await hub.gql(
        "query($x: String!) { departments { code inspectors(district: $x) { id } } }",
        {"x": district},
    )
    return [
        i["id"]
        for d in body["data"]["departments"]
        if d["code"] == dept
        for i in d["inspectors"] or []
    ]


# -- across processes --------------------------------------------------------------------------
async def test_an_event_made_in_one_process_reaches_subscribers_of_another(prefix, seeded) -> None:
    from tests.test_crash import CREATE, Server

    one, two = Server(prefix), Server(prefix)
    await one.start()
    await two.start()
    try:
        made = await one.gql(CREATE, {"k": uuid.uuid4().hex})
        task_id = made["data"]["createJointInspectionTask"]["id"]
        async with (
            WS.open(two.url, bearer(token())) as ws,
            SSE.open(two.url, PROGRESS, {"t": task_id}, PLANNER) as sse,
        ):
            await ws.ack()
            await ws.subscribe("p", PROGRESS, {"t": task_id})
            assert (await next_data(ws, "p"))["taskProgress"]["status"] == "DRAFT"
            assert (await sse.event())[1]["data"]["taskProgress"]["status"] == "DRAFT"
            drawn = await one.gql(DRAW, {"id": task_id}, PLANNER)
            n = len(drawn["data"]["drawJointInspection"]["visits"])
            over_ws = (await next_data(ws, "p"))["taskProgress"]
            over_sse = (await sse.event())[1]["data"]["taskProgress"]
            for progress in (over_ws, over_sse):
                assert progress["status"] == "DRAWN" and progress["visits"] == n
    finally:
        await one.stop()
        await two.stop()
