"""Limits checked before execution, against the real schema (no databases: no fixtures used)."""

from __future__ import annotations

import time

import pytest
from graphql import GraphQLSchema, GraphQLSyntaxError, get_introspection_query, validate

from gateway.limits import (
    BODY_TOO_LARGE,
    LIMITS_BY_CLIENT,
    MAX_NESTING,
    QUERY_TOO_COMPLEX,
    QUERY_TOO_DEEP,
    TOO_MANY_ALIASES,
    TOO_MANY_TOKENS,
    LimitExceeded,
    Limits,
    Measures,
    check,
    check_body_size,
    limits_for,
    measure,
    parse_limited,
)
from schemas.schema import schema
from tests.test_graph import FULL

SCHEMA: GraphQLSchema = schema._schema
PUBLIC = LIMITS_BY_CLIENT["public"]
OFFICER = LIMITS_BY_CLIENT["officer"]
PARTNER = LIMITS_BY_CLIENT["partner"]
PLANNER = LIMITS_BY_CLIENT["planner"]
USCC = "91370202MA3C4N5X2Q"

# An officer's entity page: every department's records.
ENTITY_PAGE = FULL

PUBLISHED_PAGE = """
{ publishedResults(first: 20) {
    edges { cursor node { uscc entityName taskId taskTitle departments concludedOn
                          publishedOn category } }
    pageInfo { hasNextPage endCursor } } }"""

TASK_VISITS = """
query($id: ID!) { jointInspectionTask(id: $id) { id title status windowStart windowEnd
  visitCounts { state count }
  visits(first: 100) { id uscc entityName district grade state
    entity { name credit { grade } }
    team { inspectorId role department { code name } } } } }"""

# Nested lists under a 100-entity page: 100 × 2 × 20 × 50 checklist items.
COST_BOMB = """
{ entities(first: 100) { edges { node {
    permits { department { checklistItems { code name legalBasis } } }
    penalties { department { checklistItems { code name legalBasis } } } } } } }"""


def measured(source: str, variables: dict | None = None, name: str | None = None) -> Measures:
    document = parse_limited(source, PLANNER)
    assert validate(SCHEMA, document) == [], "test queries must be valid against the schema"
    return measure(document, SCHEMA, variables, name)


def refused(source: str, limits: Limits, variables: dict | None = None) -> LimitExceeded:
    document = parse_limited(source, limits)
    with pytest.raises(LimitExceeded) as info:
        check(document, SCHEMA, variables, None, limits)
    return info.value


def test_normal_officer_queries_are_accepted() -> None:
    for source in (ENTITY_PAGE, TASK_VISITS, PUBLISHED_PAGE):
        document = parse_limited(source, OFFICER)
        m = check(document, SCHEMA, {"u": USCC, "id": "t"}, None, OFFICER)
        assert 0 < m.cost <= OFFICER.max_cost and m.depth <= OFFICER.max_depth
    # 1 entity + 3 objects + 20 permits/penalties/inspections (+ department each) + 50 credit
    # records (+ department) + credit with 4 lists
    assert measured(ENTITY_PAGE) == Measures(depth=4, aliases=0, cost=229)


def test_deep_query_is_refused() -> None:
    deep = "{ entities { edges { node { penalties { department { health { status } } } } } } }"
    assert measured(deep).depth == 7
    error = refused(deep, PUBLIC)
    assert (error.code, error.limit, error.actual) == (QUERY_TOO_DEEP, 6, 7)
    # Introspection loops count too (__typename does not); validation would also refuse this
    # one (MaxIntrospectionDepthRule), but only after the fact.
    loop = "{ __schema { types { " + "fields { type { " * 8 + "name __typename" + " } }" * 8
    loop += " } } }"
    assert measure(parse_limited(loop, PLANNER), SCHEMA, None, None).depth == 19
    assert refused(loop, PLANNER).code == QUERY_TOO_DEEP


def test_standard_introspection_passes_for_graphiql_users_only() -> None:
    source = get_introspection_query()
    m = measured(source)
    assert m.depth == 15
    for limits in (OFFICER, PLANNER):
        check(parse_limited(source, limits), SCHEMA, None, None, limits)
    assert refused(source, PUBLIC).code == QUERY_TOO_DEEP


def test_aliases_are_counted_per_fragment_use() -> None:
    parents = " ".join(f'e{i}: entity(uscc: "{USCC}") {{ ...Five }}' for i in range(10))
    five = "fragment Five on Entity { a: uscc b: name c: kind d: status e: address }"
    source = f"{{ {parents} }} {five}"
    assert source.count(":") - 10 == 15  # the text holds 15 aliases (10 parents, 5 in Five)…
    assert measured(source).aliases == 60  # …but it asks for 10 + 10 × 5
    error = refused(source, PLANNER)
    assert (error.code, error.limit, error.actual) == (TOO_MANY_ALIASES, 30, 60)


def test_cost_bomb_is_refused_before_execution() -> None:
    m = measured(COST_BOMB)
    assert m.depth <= PLANNER.max_depth and m.aliases == 0
    assert m.cost == 1 + 100 * (1 + 1 + 2 * 20 * (1 + 1 + 50))
    error = refused(COST_BOMB, PLANNER)
    assert error.code == QUERY_TOO_COMPLEX and error.actual == m.cost
    assert "208201" in str(error) and "50000" in str(error)


def test_connection_page_size_multiplies_edges_also_through_fragments() -> None:
    inline = "{ entities(first: 7) { edges { node { permits { id } } } pageInfo { hasNextPage } } }"
    spread = (
        "{ entities(first: 7) { ...Page } } "
        "fragment Page on EntityConnection { edges { node { permits { id } } } "
        "pageInfo { endCursor } }"
    )
    expected = 1 + 7 * (1 + 1 + 20) + 1
    assert measured(inline).cost == measured(spread).cost == expected


def test_variables_for_first_are_honoured() -> None:
    source = """query($n: Int) { entities(first: $n) {
        edges { node { permits { id department { code } } } } } }"""
    assert measured(source, {"n": 5}).cost == 1 + 5 * (1 + 1 + 20 * 2)
    check(parse_limited(source, PUBLIC), SCHEMA, {"n": 5}, None, PUBLIC)
    assert refused(source, PUBLIC, {"n": 100}).code == QUERY_TOO_COMPLEX
    # Absent or null: the resolver's page size (100).
    assert measured(source, {}).cost == measured(source, {"n": None}).cost == 1 + 100 * 42
    with_default = source.replace("$n: Int)", "$n: Int = 3)")
    assert measured(with_default, {}).cost == 1 + 3 * 42
    assert measured(with_default, {"n": 2}).cost == 1 + 2 * 42


def test_schema_default_of_first_is_used() -> None:
    # JointInspectionTask.visits(first: Int! = 100); JointVisit.team has a static size of 6.
    source = '{ jointInspectionTask(id: "t") { visits { id team { inspectorId } } } }'
    assert measured(source).cost == 1 + 100 * (1 + 6)
    assert measured(source.replace("visits", "visits(first: 10)")).cost == 1 + 10 * (1 + 6)


def test_limits_differ_by_client_kind() -> None:
    assert measured(TASK_VISITS).cost == 1507
    check(parse_limited(TASK_VISITS, PLANNER), SCHEMA, None, None, PLANNER)
    assert refused(TASK_VISITS, PUBLIC).code == QUERY_TOO_COMPLEX
    assert limits_for("planner") is PLANNER
    assert limits_for("someone") is PUBLIC and limits_for(None) is PUBLIC
    # Public is the strictest and planners the most generous, on every limit.
    for limits in LIMITS_BY_CLIENT.values():
        for field in Limits.__dataclass_fields__:
            assert getattr(PUBLIC, field) <= getattr(limits, field) <= getattr(PLANNER, field)


def test_token_bomb_is_refused_while_parsing() -> None:
    for limits in (PUBLIC, PLANNER):  # small enough in bytes to pass the body limit
        bomb = "{ departments { " + "code " * (limits.max_tokens + 1) + "} }"
        assert len(bomb) <= limits.max_body_bytes
        with pytest.raises(LimitExceeded) as info:
            parse_limited(bomb, limits)
        assert info.value.code == TOO_MANY_TOKENS and info.value.limit == limits.max_tokens
    # Comments are tokens too, so a comment flood is no way around it.
    with pytest.raises(LimitExceeded):
        parse_limited("#\n" * 1000 + "{ departments { code } }", PUBLIC)


def test_other_syntax_errors_propagate_unchanged() -> None:
    with pytest.raises(GraphQLSyntaxError) as info:
        parse_limited("{ entity(uscc: ", PUBLIC)
    assert not isinstance(info.value, LimitExceeded)
    assert info.value.message == "Syntax Error: Unexpected <EOF>."


def test_body_size() -> None:
    check_body_size(PUBLIC.max_body_bytes, PUBLIC)
    with pytest.raises(LimitExceeded) as info:
        check_body_size(PUBLIC.max_body_bytes + 1, PUBLIC)
    assert info.value.code == BODY_TOO_LARGE
    with pytest.raises(LimitExceeded):
        parse_limited(" " * (PUBLIC.max_body_bytes + 1) + "{ departments { code } }", PUBLIC)


def test_fragment_cycles_do_not_hang() -> None:
    source = f"""{{ entity(uscc: "{USCC}") {{ ...A }} }}
        fragment A on Entity {{ name ...B }}
        fragment B on Entity {{ a: uscc ...A ...C }}
        fragment C on Entity {{ ...C status }}"""
    m = measure(parse_limited(source, PLANNER), SCHEMA, None, None)
    assert m == Measures(depth=2, aliases=1, cost=1)


def test_fragment_fan_out_is_measured_without_expanding_it() -> None:
    # Each fragment spreads the next twice: 2**40 expansions, counted in linear time.
    levels = 40
    fragments = " ".join(
        f"fragment F{i} on Entity {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    last = f"fragment F{levels} on Entity {{ x: name }}"
    source = f'{{ entity(uscc: "{USCC}") {{ ...F0 }} }} {fragments} {last}'
    start = time.perf_counter()
    m = measure(parse_limited(source, PLANNER), SCHEMA, None, None)
    assert time.perf_counter() - start < 0.5
    assert m.aliases == 2**levels


def test_chains_of_fragments_cannot_exhaust_the_stack() -> None:
    # The parser refuses literal nesting past 200 levels; spreads hide nesting from it.
    levels = 600
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(levels))
    source = f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ departments {{ code }} }}"
    document = parse_limited(source, Limits(16, 30, 10_000, 50_000, 1 << 20))
    assert measure(document, SCHEMA, None, None) == Measures(MAX_NESTING + 1, 0, 0)
    with pytest.raises(LimitExceeded) as info:
        check(document, SCHEMA, None, None, Limits(1_000, 30, 10_000, 50_000, 1 << 20))
    assert (info.value.code, info.value.limit) == (QUERY_TOO_DEEP, MAX_NESTING)


def test_unknown_fields_count_one_and_keep_their_depth() -> None:
    source = "{ nowhere { deeper { deepest } } departments { code nonsense } }"
    m = measure(parse_limited(source, PLANNER), SCHEMA, None, None)
    assert m == Measures(depth=3, aliases=0, cost=3 + 10 * (1 + 1))


def test_the_operation_that_would_run_is_measured() -> None:
    source = f"""query Light {{ departments {{ code }} }}
        query Heavy {{ entities(first: 50) {{ edges {{ node {{ permits {{ id }} }} }} }} }}
        mutation Review {{ reviewVisitResult(visitId: "v", approve: true) {{
            team {{ inspectorId }} }} }}
        query Entity {{ entity(uscc: "{USCC}") {{ name }} }}"""
    document = parse_limited(source, PLANNER)
    assert measure(document, SCHEMA, None, "Light").cost == 10
    assert measure(document, SCHEMA, None, "Heavy").cost == 1 + 50 * 22
    assert measure(document, SCHEMA, None, "Review").cost == 1 + 6
    # Ambiguous or unknown: execution refuses it, so it costs nothing here.
    assert measure(document, SCHEMA, None, None) == Measures(0, 0, 0)
    assert measure(document, SCHEMA, None, "Nope") == Measures(0, 0, 0)


def test_error_carries_a_stable_code_for_the_response() -> None:
    error = refused(COST_BOMB, OFFICER).to_graphql_error()
    assert error.extensions == {"code": QUERY_TOO_COMPLEX, "limit": 20_000, "actual": 208_201}
    assert error.message.startswith("Query cost is 208201")


def test_a_cost_beyond_any_json_number_is_reported_as_the_largest_exact_one() -> None:
    bomb = "{ jointInspectionTasks(first: 99999999999) { nodes { visits(first: 99999999999)"
    error = refused(bomb + " { id } } } }", PLANNER).to_graphql_error()
    assert error.extensions["actual"] == 2**53 - 1  # the cost is 10^22: no 64-bit integer


def test_measuring_a_typical_query_is_fast() -> None:
    document = parse_limited(ENTITY_PAGE, OFFICER)
    check(document, SCHEMA, {"u": USCC}, None, OFFICER)  # builds the per-schema table once
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        check(document, SCHEMA, {"u": USCC}, None, OFFICER)
    per_query = (time.perf_counter() - start) / runs
    assert per_query < 0.001, f"{per_query * 1e6:.0f} µs per query"
