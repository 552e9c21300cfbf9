"""Properties over generated inputs: order independence, sharded = global, plan invariants."""

from datetime import date, timedelta

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from domain.vocabulary import CreditGrade, EntityKind  # noqa: E402
from planning.calendar import WorkingCalendar, YearSchedule  # noqa: E402
from planning.checklist import ChecklistItem, merge_checklist  # noqa: E402
from planning.entity_draw import (  # noqa: E402
    STRATA,
    Candidate,
    CapPolicy,
    SamplingPlan,
    allocate,
    census,
    draw_entities,
    draw_shard,
    merge_top_k,
)
from planning.inspector_pool import Inspector  # noqa: E402
from planning.team_draw import Visit, draw_teams  # noqa: E402

FAST = settings(max_examples=25, deadline=None, database=None)  # no .hypothesis/ folder
TODAY = date(2024, 6, 3)
SEEDS = st.binary(min_size=16, max_size=32)
GRADES = st.sampled_from(list(CreditGrade))
RATIOS = st.sampled_from(["0", "0.03", "0.1", "0.2", "0.5", "1"])


ROWS = st.tuples(GRADES, st.integers(0, 9), st.none() | st.integers(0, 800), st.booleans())


def candidates(rows):
    # Codes are numbered, so they are unique; one in ten is deregistered.
    return [
        Candidate(
            f"9137{i:014d}",
            grade,
            status != 0,
            None if days is None else TODAY - timedelta(days=days),
            listed,
        )
        for i, (grade, status, days, listed) in enumerate(rows)
    ]


populations = (
    st.integers(0, 150).flatmap(lambda n: st.lists(ROWS, min_size=n, max_size=n)).map(candidates)
)


@st.composite
def plans(draw):
    floor = draw(st.integers(0, 30))
    cap = draw(st.none() | st.integers(floor, 80))
    return SamplingPlan(
        {g: draw(RATIOS) for g in CreditGrade},
        floor=floor,
        cap=cap,
        exclusion_days=draw(st.none() | st.integers(0, 400)),
        abnormal_multiplier=draw(st.sampled_from([1, 2, 3])),
        always_include_abnormal=draw(st.booleans()),
        cap_policy=draw(st.sampled_from(list(CapPolicy))),
    )


@FAST
@given(populations, plans(), SEEDS, st.randoms(use_true_random=False))
def test_draw_is_independent_of_input_order(pop, plan, seed, rnd):
    shuffled = pop[:]
    rnd.shuffle(shuffled)
    assert draw_entities(shuffled, plan, seed, TODAY) == draw_entities(pop, plan, seed, TODAY)


@FAST
@given(populations, plans(), SEEDS, st.integers(1, 5), st.randoms(use_true_random=False))
def test_merge_top_k_equals_global_draw_for_any_split(pop, plan, seed, k, rnd):
    shards: list[list[Candidate]] = [[] for _ in range(k)]
    for c in pop:
        shards[rnd.randrange(k)].append(c)
    counts = [census(s, plan, TODAY) for s in shards]
    limits = allocate(plan, {s: sum(c.population[s] for c in counts) for s in STRATA})
    merged = merge_top_k([draw_shard(s, plan, seed, TODAY, limits) for s in shards], plan)
    assert merged == draw_entities(pop, plan, seed, TODAY)


@FAST
@given(st.dictionaries(st.sampled_from(STRATA), st.integers(0, 300)), plans())
def test_allocation_respects_sizes_floor_and_cap(sizes, plan):
    take = allocate(plan, sizes)
    assert all(0 <= take[s] <= sizes.get(s, 0) for s in STRATA)
    total = sum(take.values())
    if plan.cap is not None:
        assert total <= plan.cap
    reachable = sum(sizes.get(s, 0) for s in STRATA if plan.ratio(s) > 0)
    assert total >= min(plan.floor, reachable)


ITEMS = st.builds(
    ChecklistItem,
    department=st.sampled_from(["mr", "fr", "ct", "ee"]),
    code=st.sampled_from(["01", "02", "03"]),
    name=st.just("item"),
    legal_basis=st.just("basis"),
    kinds=st.frozensets(st.sampled_from(list(EntityKind)), max_size=2),
    industries=st.frozensets(st.sampled_from(["C", "F", "H"]), max_size=2),
    standard_code=st.none() | st.sampled_from(["S1", "S2"]),
    delegable=st.booleans(),
    tags=st.frozensets(st.sampled_from(["fire", "food", "safety"]), max_size=2),
)


def unique_items(items):
    seen = {}
    for i in items:
        seen.setdefault((i.department, i.code), i)
    return list(seen.values())


@FAST
@given(st.lists(ITEMS, max_size=12).map(unique_items), st.randoms(use_true_random=False))
def test_merge_is_independent_of_input_order(items, rnd):
    shuffled = items[:]
    rnd.shuffle(shuffled)
    one = merge_checklist(EntityKind.ENTERPRISE, "H", items)
    assert merge_checklist(EntityKind.ENTERPRISE, "H", shuffled) == one
    assert sum(len(e.requirements) for e in one.entries) == one.raw_count


@st.composite
def inspector_pools(draw):
    out = []
    for i in range(draw(st.integers(0, 25))):
        out.append(
            Inspector(
                f"i{i}",
                draw(st.sampled_from(["mr", "fr", "ct"])),
                "n",
                "c",
                draw(st.frozensets(st.sampled_from(["fire", "food", "safety"]), max_size=2)),
                draw(st.sampled_from(["370202", "370203"])),
                draw(st.booleans()) or i % 3 != 0,
                frozenset({"E1"}) if draw(st.booleans()) and i % 2 else frozenset(),
            )
        )
    return out


@FAST
@given(
    st.lists(ITEMS, max_size=8).map(unique_items),
    inspector_pools(),
    SEEDS,
    st.randoms(use_true_random=False),
)
def test_team_draw_rules_hold_for_any_pool(items, inspectors, seed, rnd):
    form = merge_checklist(EntityKind.ENTERPRISE, "H", items)
    visits = [Visit(f"E{n}", "370202", form, frozenset({"i1"})) for n in range(1, 6)]
    draw = draw_teams(visits, inspectors, seed)
    by_id = {i.id: i for i in inspectors}
    for team in draw.teams:
        ids = team.inspector_ids
        assert len(set(ids)) == len(ids)
        for m in team.members:
            ins = by_id[m.inspector_id]
            assert ins.available and team.uscc not in ins.conflicts
            assert ins.department == m.department
        missing = set(form.non_delegable_departments) - {m.department for m in team.members}
        assert {s.department for s in team.shortfalls} >= missing
        if form.entries and not team.shortfalls:
            assert len(team.members) >= 2
    shuffled_v, shuffled_i = visits[:], inspectors[:]
    rnd.shuffle(shuffled_v)
    rnd.shuffle(shuffled_i)
    assert draw_teams(shuffled_v, shuffled_i, seed) == draw


@FAST
@given(
    st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    st.integers(0, 40),
    st.frozensets(st.dates(date(2020, 1, 1), date(2030, 3, 1)), max_size=20),
)
def test_add_working_days_counts_exactly_n_working_days(start, n, holidays):
    years = {
        y: YearSchedule(y, frozenset(d for d in holidays if d.year == y)) for y in range(2020, 2031)
    }
    calendar = WorkingCalendar(years)
    end = calendar.add_working_days(start, n)
    days = [start + timedelta(d) for d in range(1, (end.date - start).days + 1)]
    assert sum(calendar.is_working_day(d) for d in days) == n
    assert n == 0 or calendar.is_working_day(end.date)
    assert not end.provisional
