"""Batch by key: a page of 100 entities costs one statement per department per record kind,
the MariaDB department (health, kind = "mysql") counted like the PostgreSQL ones."""

from __future__ import annotations

from tests.conftest import Hub

PAGE = """
{ entities(first: 100) {
    edges { node {
      uscc name
      permits { id department { code } }
      penalties { id fine }
      inspections { id result }
      credit { grade lists { kind } }
      creditRecords { id }
    } }
} }"""


async def test_page_of_100_costs_one_statement_per_department_per_kind(hub: Hub) -> None:
    before = hub.registry.statements()
    body = await hub.gql(PAGE)
    after = hub.registry.statements()
    assert "errors" not in body
    assert len(body["data"]["entities"]["edges"]) == 100
    spent = {code: after[code] - before[code] for code in after}
    # market: the register page + permits + penalties + inspections
    assert spent["market"] == 4
    # the other inspecting departments: permits + penalties + inspections
    for code in ("ecology", "emergency", "culture", "fire", "health"):
        assert spent[code] == 3, (code, spent)
    assert hub.registry.get("health").kind == "mysql"
    # credit platform: ratings + records (shared by `credit` and `creditRecords`)
    assert spent["credit"] == 2
    assert sum(spent.values()) == 21


async def test_statement_count_does_not_grow_with_page_size(hub: Hub) -> None:
    counts = []
    for n in (10, 100):
        before = sum(hub.registry.statements().values())
        await hub.gql(PAGE.replace("first: 100", f"first: {n}"))
        counts.append(sum(hub.registry.statements().values()) - before)
    assert counts[0] == counts[1]
