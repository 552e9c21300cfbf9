"""Entity draw: one named test per rule of drawing entities (domain/rules.md)."""

import dataclasses
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.vocabulary import CreditGrade
from planning.entity_draw import (
    STRATA,
    Candidate,
    CapPolicy,
    ExclusionReason,
    SamplingPlan,
    Stratum,
    allocate,
    census,
    draw_entities,
    draw_shard,
    merge_top_k,
)
from planning.ranking import rank_key, seed_commitment

A, B, C, D = CreditGrade.A, CreditGrade.B, CreditGrade.C, CreditGrade.D
SEED = b"entity-draw-seed-0123456789abcdef"
OTHER_SEED = b"another-seed-fedcba9876543210xyz"
TODAY = date(2024, 6, 3)
ALL = {A: 1, B: 1, C: 1, D: 1}


def population(counts, *, abnormal=0, start=0):
    """Candidates per grade: {grade: n}; the first `abnormal` of each grade are listed."""
    out = []
    n = start
    for grade, count in counts.items():
        for i in range(count):
            out.append(Candidate(f"9137020{n:011d}", grade, True, None, i < abnormal))
            n += 1
    return out


def drawn_codes(draw):
    return {e.uscc for e in draw.drawn}


def test_draw_replays_bit_for_bit_from_seed():
    pop = population({A: 300, B: 200, C: 80, D: 20}, abnormal=5)
    plan = SamplingPlan({A: "0.03", B: "0.1", C: "0.2", D: 1}, floor=10, cap=200)
    first = draw_entities(pop, plan, SEED, TODAY)
    shuffled = pop[:]
    random.Random(7).shuffle(shuffled)
    again = draw_entities(shuffled, plan, SEED, TODAY)
    assert again == first
    assert first.seed_commitment == seed_commitment(SEED)
    for e in first.drawn:  # every rank is checkable from the revealed seed
        assert e.rank_hex == rank_key(SEED, e.uscc).hex()
    assert [e.rank_hex for e in first.drawn] == sorted(e.rank_hex for e in first.drawn)


def test_draw_changes_with_the_seed():
    pop = population({B: 1000})
    plan = SamplingPlan({B: "0.05"})
    assert drawn_codes(draw_entities(pop, plan, SEED, TODAY)) != drawn_codes(
        draw_entities(pop, plan, OTHER_SEED, TODAY)
    )


def test_draw_excludes_deregistered_and_recent():
    active = population({B: 10})
    gone = [Candidate(f"DEREG{i:013d}", B, False) for i in range(4)]
    recent = [Candidate(f"RECENT{i:012d}", B, True, TODAY - timedelta(days=30)) for i in range(3)]
    long_ago = [
        Candidate(f"OLD{i:015d}", B, True, TODAY - timedelta(days=3 * 365)) for i in range(2)
    ]
    plan = SamplingPlan({B: 1}, exclusion_days=365)
    draw = draw_entities(active + gone + recent + long_ago, plan, SEED, TODAY)
    assert drawn_codes(draw) == {c.uscc for c in active + long_ago}
    assert draw.excluded == {ExclusionReason.INACTIVE: 4, ExclusionReason.RECENTLY_INSPECTED: 3}
    assert draw.population_by_grade[B] == 12


def test_recent_exclusion_window_is_a_task_setting_with_exact_boundary():
    edge = Candidate("EDGE00000000000000", B, True, TODAY - timedelta(days=1095))
    inside = Candidate("INSIDE000000000000", B, True, TODAY - timedelta(days=1094))
    three_years = SamplingPlan({B: 1}, exclusion_days=1095)
    assert drawn_codes(draw_entities([edge, inside], three_years, SEED, TODAY)) == {edge.uscc}
    no_window = SamplingPlan({B: 1})
    assert len(draw_entities([edge, inside], no_window, SEED, TODAY).drawn) == 2


def test_stratum_quota_is_ceiling_of_ratio():
    assert allocate(SamplingPlan({B: "0.15"}), {Stratum(B, False): 10})[Stratum(B, False)] == 2
    assert allocate(SamplingPlan({B: "0.03"}), {Stratum(B, False): 1})[Stratum(B, False)] == 1


def test_float_ratio_is_read_as_its_decimal():
    # Fraction(0.1) is slightly above 1/10: read naively, 0.1 of 1,000 would be 101.
    size = {Stratum(C, False): 1000}
    assert allocate(SamplingPlan({C: 0.1}), size)[Stratum(C, False)] == 100
    assert allocate(SamplingPlan({C: Decimal("0.1")}), size)[Stratum(C, False)] == 100


def test_poor_credit_sampled_more():
    pop = population({A: 1000, B: 1000, C: 1000, D: 1000})
    plan = SamplingPlan({A: "0.03", B: "0.10", C: "0.20", D: 1})  # one province's tiers
    draw = draw_entities(pop, plan, SEED, TODAY)
    assert draw.drawn_by_grade == {D: 1000, C: 200, B: 100, A: 30}


def test_grade_without_ratio_is_not_drawn():
    # Risk class A: no proactive on-site checks.
    draw = draw_entities(population({A: 50, D: 5}), SamplingPlan({D: 1}), SEED, TODAY)
    assert draw.drawn_by_grade[A] == 0
    assert draw.drawn_by_grade[D] == 5


def test_full_ratio_has_no_upper_limit():
    draw = draw_entities(population({D: 721}), SamplingPlan({D: 1}), SEED, TODAY)
    assert len(draw.drawn) == 721


def test_listed_entities_sampled_more_heavily():
    pop = population({B: 200}, abnormal=100)
    draw = draw_entities(pop, SamplingPlan({B: "0.1"}), SEED, TODAY)
    assert draw.allocation[Stratum(B, True)] == 20  # 0.1 × multiplier 2
    assert draw.allocation[Stratum(B, False)] == 10
    listed = draw_entities(pop, SamplingPlan({B: "0.1"}, always_include_abnormal=True), SEED, TODAY)
    assert listed.allocation[Stratum(B, True)] == 100
    assert sum(e.abnormal for e in listed.drawn) == 100


def test_cap_and_floor():
    pop = population({A: 100, B: 100, C: 100, D: 100})
    small = SamplingPlan({A: "0.01", B: "0.01", C: "0.01", D: "0.01"}, floor=10)
    assert len(draw_entities(pop, small, SEED, TODAY).drawn) == 10
    capped = SamplingPlan({A: 1, B: 1, C: 1, D: 1}, cap=50)
    assert len(draw_entities(pop, capped, SEED, TODAY).drawn) == 50
    both = SamplingPlan({C: "0.5"}, floor=20, cap=30)
    assert len(draw_entities(pop, both, SEED, TODAY).drawn) == 30
    # A floor larger than the eligible population takes everyone it may, and no more.
    tiny = SamplingPlan({C: "0.1"}, floor=500)
    assert len(draw_entities(pop, tiny, SEED, TODAY).drawn) == 100


def test_floor_tops_up_from_highest_risk_first():
    size = {Stratum(A, False): 100, Stratum(B, False): 100, Stratum(D, False): 3}
    take = allocate(SamplingPlan({A: "0.01", B: "0.01", D: "0.34"}, floor=10), size)
    # D's quota is 2; it tops up to all 3, then B (next risk with a ratio) takes the rest.
    assert take[Stratum(D, False)] == 3
    assert take[Stratum(B, False)] == 6
    assert take[Stratum(A, False)] == 1


def test_cap_keeps_higher_risk_share_first():
    size = {Stratum(g, False): 100 for g in (A, B, C, D)}
    take = allocate(SamplingPlan(ALL, cap=150), size)
    assert take[Stratum(D, False)] == 100
    assert take[Stratum(C, False)] == 50
    assert take[Stratum(B, False)] == take[Stratum(A, False)] == 0
    listed = {**size, Stratum(A, True): 10}
    first = allocate(SamplingPlan(ALL, cap=105), listed)
    assert first[Stratum(A, True)] == 10  # listed entities are cut last


def test_proportional_cap_scales_every_stratum():
    size = {Stratum(A, False): 1000, Stratum(B, False): 1000, Stratum(D, False): 100}
    plan = SamplingPlan({A: "0.03", B: "0.1", D: 1}, cap=115, cap_policy=CapPolicy.PROPORTIONAL)
    take = allocate(plan, size)  # quotas 30 + 100 + 100 = 230, halved
    assert take[Stratum(A, False)] == 15
    assert take[Stratum(B, False)] == 50
    assert take[Stratum(D, False)] == 50
    assert sum(take.values()) == 115


def test_plan_refuses_inconsistent_settings():
    with pytest.raises(ValueError):
        SamplingPlan({A: "1.5"})
    with pytest.raises(ValueError):
        SamplingPlan({A: "0.1"}, floor=10, cap=5)
    with pytest.raises(ValueError):
        SamplingPlan({A: "0.1"}, abnormal_multiplier="0.5")
    with pytest.raises(ValueError):
        SamplingPlan({"E": "0.1"})  # type: ignore[dict-item]


def test_unknown_grade_in_population_refused():
    bad = Candidate("BAD000000000000000", "E", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown credit grade"):
        draw_entities([bad], SamplingPlan(ALL), SEED, TODAY)


def test_drawn_list_is_frozen():
    draw = draw_entities(population({B: 5}), SamplingPlan({B: 1}), SEED, TODAY)
    assert isinstance(draw.drawn, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        draw.drawn = ()  # type: ignore[misc]


def test_entity_drawn_twice_is_refused():
    twice = population({B: 3}) * 2
    with pytest.raises(ValueError, match="drawn twice"):
        draw_entities(twice, SamplingPlan({B: 1}), SEED, TODAY)


def sharded(shards, plan):
    counts = [census(s, plan, TODAY) for s in shards]
    total = {s: sum(c.population[s] for c in counts) for s in STRATA}
    limits = allocate(plan, total)
    return merge_top_k([draw_shard(s, plan, SEED, TODAY, limits) for s in shards], plan)


def test_merge_top_k_equals_global_draw():
    pop = population({A: 500, B: 300, C: 120, D: 40}, abnormal=7)
    pop += [Candidate(f"DEREG{i:013d}", C, False) for i in range(9)]
    plan = SamplingPlan({A: "0.02", B: "0.1", C: "0.25", D: 1}, floor=5, cap=150)
    whole = draw_entities(pop, plan, SEED, TODAY)
    rnd = random.Random(3)
    shards: list[list[Candidate]] = [[], [], []]
    for c in pop:
        shards[rnd.randrange(3)].append(c)
    assert sharded(shards, plan) == whole


def test_merge_top_k_refuses_truncated_shard():
    pop = population({B: 100})
    plan = SamplingPlan({B: "0.2"})
    shard = draw_shard(pop, plan, SEED, TODAY, {Stratum(B, False): 5})  # 20 are needed
    with pytest.raises(ValueError, match="returned 5"):
        merge_top_k([shard], plan)


def test_merge_top_k_refuses_mixed_seeds():
    plan = SamplingPlan({B: "0.2"})
    limits = {Stratum(B, False): 10}
    one = draw_shard(population({B: 20}), plan, SEED, TODAY, limits)
    two = draw_shard(population({B: 20}, start=20), plan, OTHER_SEED, TODAY, limits)
    with pytest.raises(ValueError, match="different seeds"):
        merge_top_k([one, two], plan)
