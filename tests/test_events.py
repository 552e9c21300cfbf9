"""The event outbox: written in the transaction of the change, so a rolled-back change emits
nothing and wakes nobody; ids in commit order; every process's feed catches up exactly after
losing its connection; old credit feedback migrated; old events pruned."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date

import asyncpg
import orjson

from adapters.settings import database_dsn
from store import events
from store.events import Event, Kind
from store.feed import NAME, EventFeed, task_topic
from store.migrate import migrate, migrations
from tests.conftest import ADMIN_URL, Hub, drop_databases
from tests.test_joint_tasks import RECORD, drawn_task, inspector_of, outcomes


async def _listener(dsn: str) -> tuple[asyncpg.Connection, list[str]]:
    heard: list[str] = []
    conn = await asyncpg.connect(dsn)
    await conn.add_listener(events.CHANNEL, lambda *args: heard.append(args[-1]))
    return conn, heard


async def test_a_change_that_rolls_back_emits_nothing(hub: Hub) -> None:
    task = await drawn_task(hub)
    visit = task["visits"][0]
    dsn = hub.app.state.store.dsn
    listener, heard = await _listener(dsn)
    admin = await asyncpg.connect(dsn)
    # The store refuses the commit of this visit's result entry (a deferred check fails at
    # COMMIT), after the command has written the result, its audit entry and its events.
    await admin.execute(
        "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'commit refused'; END $$"
    )
    await admin.execute(
        f"CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON result DEFERRABLE"
        f" INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.visit_id = '{visit['id']}')"
        f" EXECUTE FUNCTION refuse_commit()"
    )
    try:
        before = await admin.fetchval("SELECT max(id) FROM event")
        entry = {
            "visitId": visit["id"],
            "category": "NO_PROBLEM",
            "entries": outcomes(visit, bad=0),
            "concludedOn": date.today().isoformat(),
        }
        body = await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
        assert body["errors"], body
        await asyncio.sleep(1)  # a NOTIFY would have arrived by now
        assert await admin.fetchval("SELECT max(id) FROM event") == before
        assert heard == []
        state = await admin.fetchval(
            "SELECT state FROM visit WHERE id = $1", uuid.UUID(visit["id"])
        )
        assert state == "NOT_ENTERED"
    finally:
        await admin.execute("DROP TRIGGER refuse_commit ON result")
        await admin.execute("DROP FUNCTION refuse_commit()")
    # The same command, committed, emits its events and wakes the listeners.
    body = await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
    assert "errors" not in body, body
    rows = await admin.fetch(
        "SELECT id, kind FROM event WHERE id > $1 AND task_id = $2 ORDER BY id",
        before,
        uuid.UUID(task["id"]),
    )
    assert [r["kind"] for r in rows] == ["visit.state", "task.progress"]
    for _ in range(100):
        if heard:
            break
        await asyncio.sleep(0.05)
    assert str(rows[-1]["id"]) in heard
    await listener.close()
    await admin.close()


async def test_event_ids_follow_commit_order(hub: Hub) -> None:
    """A transaction that emits later but commits earlier never gets the smaller id: ids are
    handed out under a lock held to commit, so 'after id N' never skips a late commit."""
    pool = hub.app.state.store.pool
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> int:
        async with pool.acquire() as conn, conn.transaction():
            await events.emit(conn, Event(Kind.TASK_PROGRESS, {"n": 1}, uuid.uuid4()))
            first_in.set()
            await release.wait()
            return await conn.fetchval("SELECT max(id) FROM event")

    async def fast() -> int:
        await first_in.wait()
        async with pool.acquire() as conn, conn.transaction():
            await events.emit(conn, Event(Kind.TASK_PROGRESS, {"n": 2}, uuid.uuid4()))
            return await conn.fetchval("SELECT max(id) FROM event")

    slow_task, fast_task = asyncio.create_task(slow()), asyncio.create_task(fast())
    await first_in.wait()
    await asyncio.sleep(0.3)
    assert not fast_task.done(), "the second emitter waits for the first to commit"
    release.set()
    slow_id, fast_id = await slow_task, await fast_task
    assert slow_id < fast_id


async def test_the_feed_catches_up_exactly_after_losing_its_connection(hub: Hub) -> None:
    store = hub.app.state.store
    feed = EventFeed(store.dsn, poll=0.2)
    await feed.start()
    await asyncio.wait_for(feed.connected.wait(), 30)
    topic_task = uuid.uuid4()
    sub = feed.subscribe([task_topic(topic_task)])

    async def emit(n: int) -> None:
        async with store.transaction() as conn:
            await events.emit(conn, Event(Kind.TASK_PROGRESS, {"n": n}, topic_task))

    try:
        await emit(0)
        assert (await sub.get(30)).data == {"n": 0}
        admin = await asyncpg.connect(ADMIN_URL)
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = $2",
            NAME,
            store.dsn.rsplit("/", 1)[1],
        )
        await admin.close()
        assert killed >= 1
        for n in range(1, 6):  # while it reconnects
            await emit(n)
        got = [(await sub.get(30)).data["n"] for _ in range(5)]
        assert got == [1, 2, 3, 4, 5]
        assert await sub.get(0.5) is None, "nothing twice"
    finally:
        feed.unsubscribe(sub)
        await feed.stop()


async def test_pending_credit_feedback_moves_into_the_outbox(prefix: str) -> None:
    name = f"{prefix}migration"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = database_dsn(ADMIN_URL, name)
    outbox = next(v for v, file, _ in migrations() if file.endswith("_events.sql"))
    earlier = [m for m in migrations() if m[0] < outbox]  # the store before the outbox
    conn = await asyncpg.connect(dsn)
    try:
        for _, _, sql in earlier:
            await conn.execute(sql)
        pending, delivered = uuid.uuid4(), uuid.uuid4()
        payload = {
            "taskId": str(uuid.uuid4()),
            "uscc": "91370283405536858D",
            "departments": ["fire", "market"],
            "concludedOn": "2026-11-02",
            "decidedOn": "2026-11-20",
            "category": "NO_PROBLEM",
            "entries": [],
        }
        await conn.execute(
            "INSERT INTO credit_outbox (id, uscc, payload, delivered_at) VALUES"
            " ($1, $3, $4, NULL), ($2, $3, $4, now())",
            pending,
            delivered,
            payload["uscc"],
            orjson.dumps(payload).decode(),
        )
        # An approved credit repair still pending, and one delivered before.
        repair, repaired = uuid.uuid4(), uuid.uuid4()
        fix = {"kind": "REPAIR", "uscc": payload["uscc"], "department": "credit", "withdraw": []}
        for ident, record, at in ((repair, "r1", None), (repaired, "r2", "now()")):
            await conn.execute(
                "INSERT INTO credit_repair (id, uscc, record_id, record_kind, record_title,"
                " publicity_class, decided_on, reason, applied_by, applied_subject,"
                " applied_department, applied_on, review_due, review_due_provisional, state)"
                " VALUES ($1, $2, $3, 'PENALTY_PUBLICITY', 'x', 'GENERAL', '2026-01-05', 'y',"
                " 'a', 'a', 'credit', '2026-11-02', '2026-11-16', false, 'APPROVED')",
                ident,
                payload["uscc"],
                record,
            )
            await conn.execute(
                "INSERT INTO credit_outbox (id, uscc, payload, delivered_at)"
                f" VALUES ($1, $2, $3, {at or 'NULL'})",
                ident,
                payload["uscc"],
                orjson.dumps(fix).decode(),
            )
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " sha256 text NOT NULL, applied_at timestamptz DEFAULT now())"
        )
        for version, file, sql in earlier:
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                version,
                file,
                hashlib.sha256(sql.encode()).hexdigest(),
            )
        await migrate(dsn)
        rows = await conn.fetch(
            "SELECT e.kind, e.visit_id, e.departments, e.data, d.consumer FROM event e"
            " JOIN event_delivery d ON d.event_id = e.id ORDER BY e.id"
        )
        assert len(rows) == 2
        result, fixed = rows
        assert (result["kind"], result["visit_id"], result["consumer"]) == (
            "result.published",
            pending,
            "credit",
        )
        assert result["departments"] == ["fire", "market"]
        assert orjson.loads(result["data"]) == {**payload, "visitId": str(pending)}
        assert (fixed["kind"], fixed["consumer"], fixed["departments"]) == (
            "credit.repair",
            "credit",
            ["credit"],
        )
        assert orjson.loads(fixed["data"]) == {**fix, "repairId": str(repair)}
        sent = await conn.fetch("SELECT id, delivered_at FROM credit_repair ORDER BY record_id")
        assert [(r["id"], r["delivered_at"] is not None) for r in sent] == [
            (repair, False),
            (repaired, True),
        ]
        gone = await conn.fetchval("SELECT to_regclass('credit_outbox')")
        assert gone is None
    finally:
        await conn.close()
        await drop_databases(ADMIN_URL, name)


async def test_old_delivered_events_are_pruned_pending_ones_kept(hub: Hub) -> None:
    store = hub.app.state.store
    async with store.transaction() as conn:
        await events.emit(
            conn,
            Event(Kind.TASK_PROGRESS, {"old": True}, uuid.uuid4()),
            Event(Kind.RESULT_PUBLISHED, {"old": True}, uuid.uuid4(), uuid.uuid4()),
        )
        ids = [r[0] for r in await conn.fetch("SELECT id FROM event ORDER BY id DESC LIMIT 2")]
        await conn.execute(
            "UPDATE event SET at = now() - interval '40 days' WHERE id = ANY($1)", ids
        )
        # Keep the credit delivery pending: nobody may take it during the test.
        await conn.execute(
            "UPDATE event_delivery SET next_at = now() + interval '1 hour'"
            " WHERE event_id = ANY($1)",
            ids,
        )
    await events.prune(store.pool, 30)
    left = await store.pool.fetch("SELECT kind FROM event WHERE id = ANY($1)", ids)
    assert [r["kind"] for r in left] == ["result.published"]
    await store.pool.execute("DELETE FROM event WHERE id = ANY($1)", ids)
