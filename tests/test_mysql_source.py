"""The MariaDB department (the health commission, kind = "mysql") against the real MariaDB
server: each mapping feature checked against its own rows, batching by key, the time budget,
the breaker and partial results with the department locked or unreachable, its change feed,
the entity's record across seven departments and joint tasks that include it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.breaker import BreakerState
from adapters.errors import DepartmentUnavailable
from adapters.mapping import load_mapping
from adapters.mysql import MySQLSource, Server, connect
from adapters.settings import database_dsn, load_departments
from tasks.verification import verify_draw
from tests.conftest import ADMIN_URL, MYSQL_URL, TEST_DEPARTMENTS, Hub, mariadb_rows
from tests.test_joint_tasks import DRAW, create
from tests.test_partial import own_hub

HEALTH = (
    "query($u: String!) { entity(uscc: $u) { name"
    ' permits(department: "health") { id number name status validFrom validTo }'
    ' penalties(department: "health") { id decisionNumber kind fine decidedOn violation serious }'
    ' inspections(department: "health") { id inspectedOn result } } }'
)
PARTIAL = (
    "query($u: String!) { entity(uscc: $u) { name permits { department { code } } "
    "penalties { department { code } } } }"
)


async def _sql(prefix: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of a statement in the seeded health database, straight from MariaDB."""
    return await mariadb_rows(f"{prefix}health", sql, *args)


def _health_at(settings: Any, dsn: str) -> Any:
    departments = tuple(
        dataclasses.replace(d, dsn=dsn) if d.code == "health" else d for d in settings.departments
    )
    return dataclasses.replace(settings, departments=departments)


# -- mapping features ---------------------------------------------------------------------------
async def test_health_mapping_features(hub: Hub, seeded, prefix) -> None:
    """Integer code maps, DECIMAL yuan to exact fen, DATETIME to dates, the unit-id crosswalk
    to the USCC: what GraphQL answers is the department's own rows, translated."""
    ((penalty_id, uscc),) = await _sql(
        prefix,
        "SELECT p.penalty_id, u.uscc FROM administrative_penalty p JOIN supervised_unit u"
        " USING (unit_id) ORDER BY p.penalty_id LIMIT 1",
    )
    # An odd amount, so that a yuan/fen mix-up or a binary float would show.
    await _sql(
        prefix,
        "UPDATE administrative_penalty SET fine_yuan = 12345.67, penalty_type_id = 2"
        " WHERE penalty_id = %s",
        penalty_id,
    )
    body = await hub.gql(HEALTH, {"u": uscc})
    assert "errors" not in body, body
    e = body["data"]["entity"]
    (p,) = [p for p in e["penalties"] if p["id"] == str(penalty_id)]
    ((decision_no, decided_at, violation, serious),) = await _sql(
        prefix,
        "SELECT decision_no, decided_at, violation_text, is_serious FROM administrative_penalty"
        " WHERE penalty_id = %s",
        penalty_id,
    )
    assert (p["kind"], p["fine"]) == ("FINE", "12345.67")
    assert p["decidedOn"] == decided_at.date().isoformat()
    assert (p["decisionNumber"], p["violation"], p["serious"]) == (
        decision_no,
        violation,
        bool(serious),
    )
    licences = await _sql(
        prefix,
        "SELECT licence_id, licence_no, licence_type, issued_at, expires_at, status_id"
        " FROM practice_licence JOIN supervised_unit USING (unit_id) WHERE uscc = %s",
        uscc,
    )
    status = {1: "VALID", 2: "SUSPENDED", 3: "EXPIRED", 4: "REVOKED", 5: "CANCELLED"}
    assert sorted(e["permits"], key=lambda x: int(x["id"])) == [
        {
            "id": str(lid),
            "number": number,
            "name": name,
            "status": status[state],
            "validFrom": issued.date().isoformat(),
            "validTo": expires.date().isoformat() if expires else None,
        }
        for lid, number, name, issued, expires, state in sorted(licences)
    ]


async def test_json_lists_and_code_lists(hub: Hub, seeded, prefix) -> None:
    """JSON arrays (inspectors' tags, items' kinds through a code map) become lists."""
    body = await hub.gql(
        "{ departments { code checklistItems { code kinds tags standardCode delegable } } }"
    )
    (health,) = [d for d in body["data"]["departments"] if d["code"] == "health"]
    items = {i["code"]: i for i in health["checklistItems"]}
    rows = await _sql(
        prefix, "SELECT item_code, entity_kind_ids, skill_tags, delegable FROM random_check_item"
    )
    kinds = ["ENTERPRISE", "INDIVIDUAL_BUSINESS", "FARMERS_COOPERATIVE", "PUBLIC_INSTITUTION"]
    kinds += ["SOCIAL_ORGANIZATION", "JUDICIAL_SERVICE"]
    assert set(items) == {code for code, *_ in rows}
    for code, kind_ids, tags, delegable in rows:
        assert items[code]["kinds"] == [kinds[k - 1] for k in orjson.loads(kind_ids)]
        assert items[code]["tags"] == orjson.loads(tags)
        assert items[code]["delegable"] is bool(delegable)
    # Two of its standard codes are market regulation's too: the joint form merges them.
    market = next(d for d in body["data"]["departments"] if d["code"] == "market")
    shared = {i["standardCode"] for i in market["checklistItems"]} & {
        i["standardCode"] for i in health["checklistItems"]
    }
    assert {"STD-LICENCE-DISPLAY", "STD-PRICE-DISPLAY"} <= shared


# -- batching -----------------------------------------------------------------------------------
async def test_a_batch_of_keys_is_one_parameterized_statement(hub: Hub, prefix) -> None:
    source = hub.registry.get("health")
    assert isinstance(source, MySQLSource)
    held = [u for (u,) in await _sql(prefix, "SELECT uscc FROM supervised_unit LIMIT 99")]
    hostile = "x') OR ('1'='1"  # a value, never SQL text
    before = source.statements
    grouped = await source.by_keys("permit", [*held, hostile])
    assert source.statements == before + 1
    assert grouped[hostile] == []
    (total,) = await _sql(
        prefix,
        "SELECT count(*) FROM practice_licence JOIN supervised_unit USING (unit_id)"
        f" WHERE uscc IN ({', '.join(['%s'] * len(held))})",
        *held,
    )
    assert sum(len(rows) for rows in grouped.values()) == total[0] > 0


# -- the time budget, the breaker, partial results ------------------------------------------------
@asynccontextmanager
async def locked(prefix: str, table: str) -> AsyncIterator[None]:
    """Hold a write lock on one of the department's tables: its readers wait, for real."""
    conn = await connect(Server.from_url(MYSQL_URL), 10, db=f"{prefix}health")
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(f"LOCK TABLES `{table}` WRITE")
            yield
            await cursor.execute("UNLOCK TABLES")
    finally:
        conn.close()


async def test_locked_department_is_a_partial_result_within_its_budget(
    settings, seeded, prefix
) -> None:
    async with own_hub(settings) as hub:
        warm = await hub.gql(PARTIAL, {"u": seeded.sample_uscc})
        assert "errors" not in warm
        health = hub.registry.get("health")
        async with locked(prefix, "practice_licence"):
            started = time.perf_counter()
            body = await hub.gql(PARTIAL, {"u": seeded.sample_uscc})
            elapsed = time.perf_counter() - started
            e = body["data"]["entity"]
            assert e["name"], "the register still answers"
            assert "health" not in {p["department"]["code"] for p in e["permits"]}
            assert "health" in {p["department"]["code"] for p in e["penalties"]}
            (err,) = [x for x in body["errors"] if x["extensions"]["department"] == "health"]
            assert err["extensions"]["code"] == "DEPARTMENT_UNAVAILABLE"
            assert err["path"] == ["entity", "permits"]
            # The budget is hard: the answer came after the mapping's 2 s, not the lock's end.
            assert health.timeout <= elapsed < health.timeout + 20
            # The statement cut short was stopped at the server too (KILL QUERY), while the
            # lock is still held.
            for _ in range(100):
                waiting = await _sql(
                    prefix,
                    "SELECT count(*) FROM information_schema.processlist WHERE db = %s"
                    " AND info LIKE %s AND id <> CONNECTION_ID()",
                    f"{prefix}health",
                    "%FROM `practice_licence`%",
                )
                if waiting[0][0] == 0:
                    break
                await asyncio.sleep(0.1)
            assert waiting[0][0] == 0, "the timed-out statement still runs on the server"
        assert health.breaker.failures == 1
        again = await hub.gql(PARTIAL, {"u": seeded.sample_uscc})
        assert "errors" not in again, "the same hub recovers by itself"
        assert health.breaker.state == BreakerState.CLOSED


async def test_unreachable_department_is_partial_and_its_breaker_opens(settings, seeded) -> None:
    # Port 9 (discard): nothing listens there.
    async with own_hub(_health_at(settings, "mysql://root@127.0.0.1:9/nowhere")) as hub:
        body = await hub.gql(PARTIAL, {"u": seeded.sample_uscc})
        e = body["data"]["entity"]
        assert e["name"] and {p["department"]["code"] for p in e["permits"]} >= {"market", "fire"}
        errors = [x for x in body["errors"] if x["extensions"]["department"] == "health"]
        assert {tuple(x["path"]) for x in errors} == {
            ("entity", "permits"),
            ("entity", "penalties"),
        }
        source = hub.registry.get("health")
        while source.breaker.state == BreakerState.CLOSED:
            with pytest.raises(DepartmentUnavailable):
                await source.by_keys("permit", [seeded.sample_uscc])
        assert source.breaker.state == BreakerState.OPEN
        sent = source.statements
        started = time.perf_counter()
        with pytest.raises(DepartmentUnavailable, match="circuit open"):
            await source.by_keys("permit", [seeded.sample_uscc])
        assert source.statements == sent, "an open breaker sends nothing"
        assert time.perf_counter() - started < 1
        health = await hub.gql("{ departments { code health { status } } }")
        status = {d["code"]: d["health"]["status"] for d in health["data"]["departments"]}
        assert status["health"] == "DOWN" and status["market"] == "UP"


async def test_input_errors_do_not_count_toward_the_breaker(prefix, seeded) -> None:
    """A value the server refuses for its type is the request's doing (reported as the
    department's refusal, the breaker untouched); a failing server counts."""
    source = MySQLSource(load_mapping("health"), database_dsn(MYSQL_URL, f"{prefix}health"))
    await source.open()
    try:
        for _ in range(source.breaker.failure_threshold + 1):
            with pytest.raises(DepartmentUnavailable, match="refused the request's values"):
                await source._fetch(
                    "SIGNAL SQLSTATE '22003' SET MYSQL_ERRNO = 1264,"
                    " MESSAGE_TEXT = 'Out of range value for column'"
                )
        assert source.breaker.failures == 0 and source.breaker.state == BreakerState.CLOSED
        with pytest.raises(DepartmentUnavailable):
            await source._fetch(
                "SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1205,"
                " MESSAGE_TEXT = 'Lock wait timeout exceeded'"
            )
        assert source.breaker.failures == 1
        assert await source.ping() > 0, "a server error leaves the connection usable"
    finally:
        await source.close()


# -- the change feed ------------------------------------------------------------------------------
async def test_change_table_invalidates_cached_rows(settings, seeded, prefix) -> None:
    async with own_hub(dataclasses.replace(settings, cache=True)) as hub:
        (poller,) = hub.app.state.listener.pollers
        for _ in range(100):  # connected: it knows where the change table ends
            if poller.last_id is not None:
                break
            await asyncio.sleep(0.1)
        cold = await hub.gql(HEALTH, {"u": seeded.sample_uscc})
        health = hub.registry.get("health")
        before = health.statements
        assert await hub.gql(HEALTH, {"u": seeded.sample_uscc}) == cold
        assert health.statements == before, "a warm read sends no statement"
        licence = cold["data"]["entity"]["permits"][0]
        await _sql(
            prefix,
            "UPDATE practice_licence SET licence_type = %s WHERE licence_id = %s",
            "公共场所卫生许可证（换证）",
            int(licence["id"]),
        )
        try:
            changed_at = time.perf_counter()
            seen = None
            while time.perf_counter() - changed_at < 15:
                body = await hub.gql(HEALTH, {"u": seeded.sample_uscc})
                names = {p["id"]: p["name"] for p in body["data"]["entity"]["permits"]}
                if names[licence["id"]] == "公共场所卫生许可证（换证）":
                    seen = time.perf_counter() - changed_at
                    break
                await asyncio.sleep(0.1)
            assert seen is not None, "the change did not reach the cache"
            assert poller.polls > 0
        finally:
            await _sql(
                prefix,
                "UPDATE practice_licence SET licence_type = %s WHERE licence_id = %s",
                licence["name"],
                int(licence["id"]),
            )


# -- the record and joint tasks -----------------------------------------------------------------
async def test_entity_record_spans_seven_departments(hub: Hub, seeded) -> None:
    body = await hub.gql(
        """query($u: String!) { entity(uscc: $u) {
             permits { department { code } } penalties { department { code } }
             inspections { department { code } } creditRecords { department { code } }
             credit { grade } } }""",
        {"u": seeded.sample_uscc},
    )
    assert "errors" not in body, body
    e = body["data"]["entity"]
    departments = {
        r["department"]["code"]
        for field in ("permits", "penalties", "inspections", "creditRecords")
        for r in e[field]
    }
    assert departments == {"market", "ecology", "emergency", "culture", "fire", "health", "credit"}
    assert {r["department"]["code"] for r in e["inspections"]} >= {"health"}
    assert e["credit"]["grade"]


async def test_joint_form_merges_health_and_market_items(hub: Hub, seeded) -> None:
    body = await hub.gql(
        """query($u: String!) { checklistPreview(departments: ["market", "health"], uscc: $u) {
             form { rawCount mergedCount entries { key requirements { department { code } } } }
           } }""",
        {"u": seeded.sample_uscc},
    )
    form = body["data"]["checklistPreview"]["form"]
    merged = {
        e["key"]: {r["department"]["code"] for r in e["requirements"]}
        for e in form["entries"]
        if len(e["requirements"]) > 1
    }
    assert merged.get("STD-LICENCE-DISPLAY") == {"market", "health"}
    assert form["mergedCount"] < form["rawCount"]


async def test_joint_task_with_health_draws_and_verifies(hub: Hub) -> None:
    task = await create(
        hub,
        title="2026年第四季度宾馆、医疗机构联合抽查",
        departments=["health", "fire"],
        scope={"industry": ["H", "Q"]},
    )
    body = await hub.gql(DRAW, {"id": task["id"]})
    assert "errors" not in body, body
    drawn = body["data"]["drawJointInspection"]
    visits = drawn["visits"]
    assert visits
    health_visits = [v for v in visits if "health" in v["form"]["departments"]]
    assert health_visits, "health's items apply to hotels and hospitals"
    for v in health_visits:
        team = {m["department"]["code"] for m in v["team"]}
        assert "health" in team
        assert all(
            m["inspectorId"].startswith("WJ")
            for m in v["team"]
            if m["department"]["code"] == "health"
        )
    check = await verify_draw(hub.app.state.store.pool, uuid.UUID(drawn["id"]))
    assert check.ok, check.problems


# -- configuration first --------------------------------------------------------------------------
HOUSING_MAPPING = """
code = "housing_my"
name = "住房和城乡建设局"
name_en = "Housing and construction"
[codes.permit_status]
"1" = "VALID"
[records.permit]
table = "JZ_XKZ"
key = "TYSHXYDM"
[records.permit.fields]
uscc = "TYSHXYDM"
id = "ZSBH"
number = "ZSBH"
name = "GCMC"
valid_from = { column = "FZRQ", type = "date" }
status = { column = "ZT", codes = "permit_status" }
"""


async def test_a_mysql_department_needs_only_a_mapping_and_a_line(
    tmp_path: Path, settings, seeded, prefix
) -> None:
    """Upper-case names taken exactly as written (MariaDB's table names are case-sensitive)."""
    server = Server.from_url(MYSQL_URL)
    conn = await connect(server, 10, db=None)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(f"CREATE DATABASE `{prefix}housing_my`")
            await cursor.execute(f"USE `{prefix}housing_my`")
            await cursor.execute(
                "CREATE TABLE JZ_XKZ (ZSBH VARCHAR(20) PRIMARY KEY, TYSHXYDM CHAR(18),"
                " GCMC VARCHAR(100), FZRQ DATE, ZT TINYINT)"
            )
            await cursor.execute(
                "INSERT INTO JZ_XKZ VALUES ('JZ-001', %s, '青岛某小区二期', '2024-03-01', 1)",
                (seeded.sample_uscc,),
            )
    finally:
        conn.close()
    (tmp_path / "housing.toml").write_text(HOUSING_MAPPING)
    config = TEST_DEPARTMENTS.read_text()
    config += (
        f'housing_my = {{ kind = "mysql", mapping = "{tmp_path / "housing.toml"}",'
        ' database = "housing_my" }\n'
    )
    (tmp_path / "departments.toml").write_text(config)
    departments = load_departments(tmp_path / "departments.toml", ADMIN_URL, prefix, MYSQL_URL)
    async with own_hub(dataclasses.replace(settings, departments=departments)) as hub:
        body = await hub.gql(
            'query($u:String!){ entity(uscc:$u){ permits(department: "housing_my") '
            "{ number name status validFrom department { code nameEn } } } }",
            {"u": seeded.sample_uscc},
        )
        assert hub.registry.get("housing_my").kind == "mysql"
    assert body["data"]["entity"]["permits"] == [
        {
            "number": "JZ-001",
            "name": "青岛某小区二期",
            "status": "VALID",
            "validFrom": "2024-03-01",
            "department": {"code": "housing_my", "nameEn": "Housing and construction"},
        }
    ]
