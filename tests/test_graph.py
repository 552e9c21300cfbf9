"""The unified schema: one entity across departments, pages of the register, departments."""

from __future__ import annotations

import asyncpg

from tests.conftest import Hub

FULL = """
query($u: String!) {
  entity(uscc: $u) {
    uscc name kind status registeredOn address
    district { code name } industry { code name } location { longitude latitude }
    permits { id number name status validFrom validTo department { code } }
    penalties { id decisionNumber kind fine decidedOn serious department { code } }
    inspections { id inspectedOn result department { code } }
    creditRecords { id kind title decidedOn sourceDepartment department { code } }
    credit { grade score lists { kind since until } }
  }
}"""


async def test_entity_has_records_from_every_inspecting_department(hub: Hub, seeded) -> None:
    body = await hub.gql(FULL, {"u": seeded.sample_uscc})
    assert "errors" not in body, body
    e = body["data"]["entity"]
    assert e["uscc"] == seeded.sample_uscc and e["name"]
    permit_departments = {p["department"]["code"] for p in e["permits"]}
    assert permit_departments >= {"market", "ecology", "emergency", "culture", "fire", "health"}
    assert len({p["department"]["code"] for p in e["penalties"]}) >= 2
    assert e["credit"]["grade"] in {"A", "B", "C", "D"}
    assert all(r["department"]["code"] == "credit" for r in e["creditRecords"])


async def test_lower_case_uscc_is_accepted(hub: Hub, seeded) -> None:
    body = await hub.gql(
        "query($u:String!){ entity(uscc:$u){ uscc } }", {"u": seeded.sample_uscc.lower()}
    )
    assert body["data"]["entity"]["uscc"] == seeded.sample_uscc


async def test_malformed_uscc_is_bad_user_input_not_null(hub: Hub) -> None:
    for bad in ["914403001922038217", "123", "9144030019220382I6"]:
        body = await hub.gql("query($u:String!){ entity(uscc:$u){ name } }", {"u": bad})
        assert body["data"] is None or body["data"]["entity"] is None
        (err,) = body["errors"]
        assert err["extensions"]["code"] == "BAD_USER_INPUT"
        assert err["extensions"]["reason"] == "INVALID_USCC"


async def test_valid_but_unregistered_uscc_is_null(hub: Hub) -> None:
    body = await hub.gql('{ entity(uscc: "914403001922038216") { name } }')
    assert body == {"data": {"entity": None}}


async def test_unknown_department_argument_is_an_error(hub: Hub, seeded) -> None:
    body = await hub.gql(
        'query($u:String!){ entity(uscc:$u){ permits(department: "nowhere") { id } } }',
        {"u": seeded.sample_uscc},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["reason"] == "UNKNOWN_DEPARTMENT"


async def test_permits_filtered_by_department_and_date(hub: Hub, seeded) -> None:
    body = await hub.gql(
        "query($u:String!){ entity(uscc:$u){ all: permits { id } "
        'fire: permits(department: "fire") { department { code } } '
        'today: permits(validOn: "2026-11-24") { validFrom validTo status } } }',
        {"u": seeded.sample_uscc},
    )
    e = body["data"]["entity"]
    assert e["fire"] and all(p["department"]["code"] == "fire" for p in e["fire"])
    for p in e["today"]:
        assert p["validFrom"] <= "2026-11-24" and (
            p["validTo"] is None or p["validTo"] >= "2026-11-24"
        )
        assert p["status"] not in ("REVOKED", "CANCELLED")
    assert len(e["today"]) <= len(e["all"])


PAGE = """
query($f: EntityFilter, $first: Int, $after: String) {
  entities(filter: $f, first: $first, after: $after) {
    totalCount
    edges { cursor node { uscc name kind district { code } industry { code } credit { grade } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_pagination_walks_the_register_once(hub: Hub, seeded) -> None:
    seen: list[str] = []
    after = None
    while True:
        body = await hub.gql(PAGE, {"first": 100, "after": after})
        conn = body["data"]["entities"]
        seen += [e["node"]["uscc"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == conn["totalCount"]
    assert seen == sorted(seen)


async def test_filters_by_district_kind_industry_grade_name(hub: Hub, dept_dsn) -> None:
    f = {"district": ["370202"], "kind": ["INDIVIDUAL_BUSINESS"], "industry": ["H"]}
    body = await hub.gql(PAGE, {"f": f, "first": 50})
    nodes = [e["node"] for e in body["data"]["entities"]["edges"]]
    assert nodes
    for n in nodes:
        assert (n["district"]["code"], n["kind"], n["industry"]["code"]) == (
            "370202",
            "INDIVIDUAL_BUSINESS",
            "H",
        )
    graded = await hub.gql(PAGE, {"f": {"creditGrade": ["C", "D"]}, "first": 20})
    grades = [e["node"]["credit"]["grade"] for e in graded["data"]["entities"]["edges"]]
    assert grades and set(grades) <= {"C", "D"}
    # The name filter is a case-insensitive fragment, compared with the register itself.
    conn = await asyncpg.connect(dept_dsn("market"))
    try:
        name = await conn.fetchval("SELECT qymc FROM scztdj ORDER BY tyshxydm LIMIT 1")
        expected = await conn.fetchval(
            "SELECT count(*) FROM scztdj WHERE strpos(qymc, $1) > 0", name[2:5]
        )
    finally:
        await conn.close()
    named = await hub.gql(PAGE, {"f": {"nameContains": name[2:5]}, "first": 100})
    assert named["data"]["entities"]["totalCount"] == expected


async def test_page_size_above_maximum_is_refused(hub: Hub) -> None:
    body = await hub.gql(PAGE, {"first": 101})
    err = body["errors"][0]
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert err["extensions"]["reason"] == "PAGE_SIZE_EXCEEDED"
    assert err["extensions"]["max"] == 100


async def test_bad_cursor_is_refused(hub: Hub) -> None:
    body = await hub.gql(PAGE, {"first": 5, "after": "not-a-cursor"})
    assert body["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"


async def test_departments_with_health(hub: Hub) -> None:
    body = await hub.gql("{ departments { code name nameEn health { status latencyMs } } }")
    deps = {d["code"]: d for d in body["data"]["departments"]}
    assert set(deps) == {"market", "ecology", "emergency", "culture", "fire", "credit", "health"}
    assert all(d["health"]["status"] == "UP" for d in deps.values())


async def test_checklist_items_carry_standard_codes(hub: Hub) -> None:
    body = await hub.gql(
        "{ departments { code checklistItems "
        "{ code legalBasis standardCode delegable tags kinds } } }"
    )
    std: dict[str, set[str]] = {}
    for d in body["data"]["departments"]:
        for item in d["checklistItems"]:
            assert item["legalBasis"] and item["kinds"]
            if item["standardCode"]:
                std.setdefault(item["standardCode"], set()).add(d["code"])
    assert any(len(deps) >= 2 for deps in std.values())
