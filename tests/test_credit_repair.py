"""Credit under the 2026 rules through the hub (rules.md, Results, publicity, credit): repair
applications once the minimum period has passed, filed by an officer of the credit platform or
of the deciding department, reviewed by another person of the platform within 10 working days;
an approval withdraws the record and lifts the lists it founded at the platform, is itself a
record there, and reaches consumers through the platform's change notification; records past
their maximum drop off by themselves; the read graph's flags follow the same classes."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg

from adapters.settings import publicity_rules
from domain.vocabulary import PublicityClass
from planning.calendar import official_calendar
from planning.credit_lists import is_publicized, penalty_class, publicity
from store import audit_verify
from tests.conftest import Hub
from tests.test_joint_tasks import as_, store_conn
from tests.test_partial import own_hub, stopped

APPLY = """mutation($i: ApplyCreditRepairInput!) { applyCreditRepair(input: $i) {
  id state recordKind publicityClass reviewDue { date provisional } auditTrailId } }"""
REVIEW = """mutation($id: ID!, $ok: Boolean!, $c: String, $k: String) {
  reviewCreditRepair(id: $id, approve: $ok, comment: $c, idempotencyKey: $k) {
    id state reviewedBy delivered shareBy { date provisional } } }"""
PENDING = """query($u: String) { creditRepairs(state: [PENDING], uscc: $u) {
  id uscc recordId state overdue reviewDue { date provisional } } }"""
RECORDS = """query($u: String!) { entity(uscc: $u) {
  credit { grade score lists { kind } }
  creditRecords { id kind publicized withdrawnOn publicityClass publicUntil repairableFrom
                  repairsId basisId deduction } } }"""

CREDIT_OFFICER = as_("credit", "officer-credit", "officer")
CREDIT_REVIEWER = as_("credit", "reviewer-credit", "officer", "reviewer")
CAL = official_calendar()
TODAY = date.today()


@dataclasses.dataclass
class Planted:
    uscc: str
    general: str  # a general penalty's publicity, past its minimum, with two lists on it
    lists: tuple[str, str]
    early: str  # a general penalty decided 30 days ago
    warning: str  # a warning: never published
    expired: str  # a serious penalty decided four years ago


_used: set[str] = set()


async def plant(dept_dsn: Any) -> Planted:
    """Records of an entity of the seeded register that no other test touches and that is on no
    list, written at the credit platform as its departments report them; the entity is rated D
    at 40 points."""
    conn = await asyncpg.connect(dept_dsn("credit"))
    try:
        uscc = await conn.fetchval(
            "SELECT uscc FROM credit_rating r WHERE uscc <> ALL($1::text[]) AND NOT EXISTS"
            " (SELECT 1 FROM credit_record c WHERE c.uscc = r.uscc"
            "  AND c.type_code IN ('JY01', 'YW01', 'HB01')) ORDER BY uscc DESC LIMIT 1",
            list(_used),
        )
        _used.add(uscc)
        base = 9_000_000_000 + uuid.uuid4().int % 1_000_000_000 * 10
        rows = [
            (base, "CF01", "行政处罚：测试一般处罚", "market", 200, 365, 10, "YB", None),
            (base + 1, "HB01", "测试黑名单", "market", 190, 1000, 50, None, base),
            (base + 2, "YW01", "测试严重违法失信名单", "market", 190, 1000, 40, None, base),
            (base + 3, "CF01", "行政处罚：测试近期处罚", "fire", 30, 365, 10, "YB", None),
            (base + 4, "CF01", "行政处罚：测试警告", "market", 100, None, 5, "JG", None),
            (base + 5, "CF01", "行政处罚：测试严重处罚", "fire", 1500, 1095, 30, "YZ", None),
        ]
        for ident, code, title, dept, ago, days, deduction, severity, basis in rows:
            decided = TODAY - timedelta(days=ago)
            await conn.execute(
                "INSERT INTO credit_record (record_id, uscc, type_code, title, source_dept,"
                " decided_on, effective_to, deduction, severity, basis_record_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                ident,
                uscc,
                code,
                title,
                dept,
                decided,
                None if days is None else decided + timedelta(days=days),
                deduction,
                severity,
                basis,
            )
        await conn.execute("UPDATE credit_rating SET grade = 'D', score = 40 WHERE uscc = $1", uscc)
    finally:
        await conn.close()
    ids = [str(r[0]) for r in rows]
    return Planted(uscc, ids[0], (ids[1], ids[2]), ids[3], ids[4], ids[5])


def application(p: Planted, record: str, reason: str = "已整改到位并缴清罚款") -> dict:
    return {"i": {"uscc": p.uscc, "recordId": record, "reason": reason}}


def error(body: dict) -> dict:
    return body["errors"][0]["extensions"]


async def platform_rows(dept_dsn: Any, uscc: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dept_dsn("credit"))
    try:
        rows = await conn.fetch("SELECT * FROM credit_record WHERE uscc = $1", uscc)
        rating = await conn.fetchrow("SELECT * FROM credit_rating WHERE uscc = $1", uscc)
    finally:
        await conn.close()
    return {"records": {str(r["record_id"]): r for r in rows}, "rating": rating}


async def repairs_of(hub: Hub, uscc: str) -> int:
    conn = await store_conn(hub)
    try:
        return await conn.fetchval("SELECT count(*) FROM credit_repair WHERE uscc = $1", uscc)
    finally:
        await conn.close()


async def test_a_repair_is_applied_for_only_between_the_minimum_and_the_maximum(
    hub: Hub, dept_dsn
) -> None:
    p = await plant(dept_dsn)
    early = error(await hub.gql(APPLY, application(p, p.early), headers=CREDIT_OFFICER))
    period = publicity(PublicityClass.GENERAL, TODAY - timedelta(days=30))
    assert (early["code"], early["reason"]) == ("BAD_USER_INPUT", "REPAIR_TOO_EARLY")
    assert early["repairableFrom"] == period.repairable_from.isoformat()
    for record in (p.warning, p.expired):
        refused = error(await hub.gql(APPLY, application(p, record), headers=CREDIT_OFFICER))
        assert (refused["code"], refused["reason"]) == ("BAD_USER_INPUT", "NOT_PUBLICIZED")
    unknown = error(await hub.gql(APPLY, application(p, "1"), headers=CREDIT_OFFICER))
    assert unknown["code"] == "NOT_FOUND"
    blank = error(await hub.gql(APPLY, application(p, p.general, " "), headers=CREDIT_OFFICER))
    assert blank["reason"] == "REASON_REQUIRED"
    assert await repairs_of(hub, p.uscc) == 0, "refusals store nothing"


async def test_an_officer_of_the_platform_or_of_the_deciding_department_files_it(
    hub: Hub, dept_dsn
) -> None:
    p = await plant(dept_dsn)
    planner = error(await hub.gql(APPLY, application(p, p.general)))
    assert (planner["code"], planner["reason"]) == ("FORBIDDEN", "NOT_AN_OFFICER")
    other = as_("ecology", "officer-eco", "officer")
    wrong = error(await hub.gql(APPLY, application(p, p.general), headers=other))
    assert (wrong["code"], wrong["reason"]) == ("FORBIDDEN", "WRONG_DEPARTMENT")
    deciding = as_("market", "officer-market", "officer")
    body = await hub.gql(APPLY, application(p, p.general), headers=deciding)
    repair = body["data"]["applyCreditRepair"]
    assert repair["state"] == "PENDING" and repair["publicityClass"] == "GENERAL"
    again = error(await hub.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER))
    assert (again["code"], again["reason"]) == ("INVALID_STATE", "REPAIR_EXISTS")


async def test_pending_repairs_are_listed_with_their_review_deadlines(hub: Hub, dept_dsn) -> None:
    p = await plant(dept_dsn)
    key = uuid.uuid4().hex
    first = await hub.gql(
        APPLY, {"i": {**application(p, p.general)["i"], "idempotencyKey": key}},
        headers=CREDIT_OFFICER,
    )  # fmt: skip
    retried = await hub.gql(
        APPLY, {"i": {**application(p, p.general)["i"], "idempotencyKey": key}},
        headers=CREDIT_OFFICER,
    )  # fmt: skip
    assert retried["data"]["applyCreditRepair"]["id"] == first["data"]["applyCreditRepair"]["id"]
    due = CAL.add_working_days(TODAY, 10)
    (listed,) = (await hub.gql(PENDING, {"u": p.uscc}))["data"]["creditRepairs"]
    assert listed["reviewDue"] == {"date": due.date.isoformat(), "provisional": due.provisional}
    assert listed["recordId"] == p.general and not listed["overdue"]
    assert await repairs_of(hub, p.uscc) == 1


async def delivered(hub: Hub, repair_id: str) -> None:
    """Until the delivery worker has taken the approval to the platform."""
    query = "query($id: ID!) { creditRepair(id: $id) { delivered } }"
    for _ in range(600):
        if (await hub.gql(query, {"id": repair_id}))["data"]["creditRepair"]["delivered"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"repair {repair_id} did not reach the credit platform")


async def test_an_approval_withdraws_the_record_lifts_its_lists_and_is_a_record(
    hub: Hub, dept_dsn
) -> None:
    p = await plant(dept_dsn)
    applied = (await hub.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER))["data"]
    repair = applied["applyCreditRepair"]
    approve = {"id": repair["id"], "ok": True, "c": "材料齐全", "k": uuid.uuid4().hex}
    # Four eyes: not whoever filed it, and the platform reviews (Credit China's role).
    same = as_("credit", "officer-credit", "officer", "reviewer")
    assert error(await hub.gql(REVIEW, approve, headers=same))["reason"] == "SAME_PERSON"
    fire = as_("fire", "reviewer-fire", "officer", "reviewer")
    assert error(await hub.gql(REVIEW, approve, headers=fire))["reason"] == "WRONG_DEPARTMENT"
    assert error(await hub.gql(REVIEW, approve))["reason"] == "NOT_A_REVIEWER"

    done = (await hub.gql(REVIEW, approve, headers=CREDIT_REVIEWER))["data"]["reviewCreditRepair"]
    share = CAL.add_working_days(TODAY, 3)
    assert done["state"] == "APPROVED"
    await delivered(hub, repair["id"])  # by the delivery worker, from the outbox
    assert done["shareBy"] == {"date": share.date.isoformat(), "provisional": share.provisional}
    replay = (await hub.gql(REVIEW, approve, headers=CREDIT_REVIEWER))["data"]
    assert replay["reviewCreditRepair"]["id"] == repair["id"]
    twice = error(await hub.gql(REVIEW, {**approve, "k": None}, headers=CREDIT_REVIEWER))
    assert twice["code"] == "INVALID_STATE"

    platform = await platform_rows(dept_dsn, p.uscc)
    records = platform["records"]
    for ident in (p.general, *p.lists):
        assert records[ident]["withdrawn_on"] == TODAY, "withdrawn, never deleted"
    assert records[p.early]["withdrawn_on"] is None
    (fix,) = [r for r in records.values() if r["type_code"] == "XF01"]
    assert str(fix["ref_record_id"]) == p.general and fix["decided_on"] == TODAY
    assert fix["deduction"] == -(10 + 50 + 40)  # what the withdrawn records had deducted
    assert (platform["rating"]["score"], platform["rating"]["grade"].strip()) == (100, "A")

    graph = (await hub.gql(RECORDS, {"u": p.uscc}))["data"]["entity"]
    by_id = {r["id"]: r for r in graph["creditRecords"]}
    assert not by_id[p.general]["publicized"] and by_id[p.general]["withdrawnOn"]
    assert by_id[p.early]["publicized"]
    assert {x["kind"] for x in graph["credit"]["lists"]}.isdisjoint({"BLACK_LIST"})
    assert by_id[str(fix["record_id"])]["repairsId"] == p.general

    store = hub.app.state.store
    check = await audit_verify.verify(
        store.pool, uuid.UUID(repair["auditTrailId"]), store.trusted_keys
    )
    assert check.ok and check.entries >= 2


async def test_consumers_are_told_through_the_platforms_change_notification(
    settings, dept_dsn
) -> None:
    async with own_hub(dataclasses.replace(settings, cache=True)) as hub:
        await asyncio.sleep(0.2)  # the change listeners connect
        p = await plant(dept_dsn)
        before = (await hub.gql(RECORDS, {"u": p.uscc}))["data"]["entity"]  # now cached
        assert {r["id"]: r for r in before["creditRecords"]}[p.general]["publicized"]
        body = await hub.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER)
        repair_id = body["data"]["applyCreditRepair"]["id"]
        await hub.gql(REVIEW, {"id": repair_id, "ok": True, "c": ""}, headers=CREDIT_REVIEWER)
        approved_at = time.perf_counter()
        seen = False
        while time.perf_counter() - approved_at < 10 and not seen:
            graph = (await hub.gql(RECORDS, {"u": p.uscc}))["data"]["entity"]
            seen = not {r["id"]: r for r in graph["creditRecords"]}[p.general]["publicized"]
            await asyncio.sleep(0.05)
        assert seen, "the repair did not reach the cached read graph"


async def test_a_rejection_needs_a_comment_and_leaves_the_record_public(hub: Hub, dept_dsn) -> None:
    p = await plant(dept_dsn)
    body = await hub.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER)
    repair_id = body["data"]["applyCreditRepair"]["id"]
    bare = error(await hub.gql(REVIEW, {"id": repair_id, "ok": False}, headers=CREDIT_REVIEWER))
    assert bare["reason"] == "COMMENT_REQUIRED"
    rejected = await hub.gql(
        REVIEW, {"id": repair_id, "ok": False, "c": "整改证明不全"}, headers=CREDIT_REVIEWER
    )
    assert rejected["data"]["reviewCreditRepair"]["state"] == "REJECTED"
    assert rejected["data"]["reviewCreditRepair"]["shareBy"] is None
    records = (await platform_rows(dept_dsn, p.uscc))["records"]
    assert records[p.general]["withdrawn_on"] is None
    assert not [r for r in records.values() if r["type_code"] == "XF01"]
    refiled = await hub.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER)
    assert refiled["data"]["applyCreditRepair"]["state"] == "PENDING"


async def test_a_review_while_the_platform_is_down_changes_nothing(
    hub: Hub, dept_dsn, prefix
) -> None:
    p = await plant(dept_dsn)
    body = await hub.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER)
    repair_id = body["data"]["applyCreditRepair"]["id"]
    async with stopped(f"{prefix}credit"):
        down = await hub.gql(REVIEW, {"id": repair_id, "ok": True}, headers=CREDIT_REVIEWER)
    assert (error(down)["code"], error(down)["department"]) == ("DEPARTMENT_UNAVAILABLE", "credit")
    still = (await hub.gql(PENDING, {"u": p.uscc}))["data"]["creditRepairs"]
    assert [r["id"] for r in still] == [repair_id]


async def test_the_read_graph_flags_follow_the_classes(hub: Hub) -> None:
    """One computation: each penalty's class and flag, and each classed platform record's,
    are the planning rules applied to what the departments hold (the whole test register)."""
    query = """query($after: String) { entities(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor } edges { node {
        penalties { kind fine serious decidedOn publicityClass publicized }
        creditRecords { decidedOn withdrawnOn publicityClass publicized } } } } }"""
    rules = publicity_rules()
    seen: dict[str, int] = {}
    after = None
    for _ in range(10):
        page = (await hub.gql(query, {"after": after}))["data"]["entities"]
        for edge in page["edges"]:
            for pen in edge["node"]["penalties"]:
                fine = None if pen["fine"] is None else round(float(pen["fine"]) * 100)
                cls = penalty_class(pen["kind"], fine, pen["serious"], rules)
                decided = date.fromisoformat(pen["decidedOn"])
                assert pen["publicityClass"] == cls.value
                assert pen["publicized"] == is_publicized(cls, decided, TODAY, None, rules)
                seen[cls.value] = seen.get(cls.value, 0) + 1
            for rec in edge["node"]["creditRecords"]:
                if rec["publicityClass"] is None:
                    continue
                withdrawn = rec["withdrawnOn"] and date.fromisoformat(rec["withdrawnOn"])
                expected = is_publicized(
                    PublicityClass(rec["publicityClass"]),
                    date.fromisoformat(rec["decidedOn"]),
                    TODAY,
                    withdrawn or None,
                    rules,
                )
                assert rec["publicized"] == expected
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) >= 3, seen
