"""Team draw, substitution and savings: one named test per rule of drawing inspectors."""

import random

import pytest

from domain.vocabulary import EntityKind
from planning.checklist import ChecklistItem, merge_checklist
from planning.inspector_pool import Inspector
from planning.savings import savings
from planning.substitution import substitute
from planning.team_draw import (
    Role,
    ShortfallReason,
    Team,
    TeamDrawError,
    Visit,
    draw_teams,
)

SEED = b"team-draw-seed-0123456789abcdefgh"
HOME, AWAY = "370202", "370203"
MR, FR, CT = "market_regulation", "fire_rescue", "culture_tourism"


def item(dept, code, *, delegable=False, tags=(), standard=None):
    return ChecklistItem(
        dept,
        code,
        f"{dept} {code}",
        f"basis of {dept} {code}",
        standard_code=standard,
        delegable=delegable,
        tags=frozenset(tags),
    )


def form(*items):
    return merge_checklist(EntityKind.ENTERPRISE, "H", items)


def insp(id_, dept, district=HOME, *, tags=(), available=True, conflicts=()):
    return Inspector(
        id_,
        dept,
        f"name of {id_}",
        f"cert-{id_}",
        frozenset(tags),
        district,
        available,
        frozenset(conflicts),
    )


def visit(uscc="913702020000000001", checklist=None, district=HOME, previous=()):
    return Visit(uscc, district, checklist or form(item(MR, "M1")), frozenset(previous))


def pool(dept, n, district=HOME, prefix=None, **kw):
    prefix = prefix or f"{dept[:2]}-{district}-"
    return [insp(f"{prefix}{i}", dept, district, **kw) for i in range(n)]


def one_team(v, inspectors, seed=SEED, **kw):
    return draw_teams([v], inspectors, seed, **kw).teams[0]


def members_by_dept(team):
    out = {}
    for m in team.members:
        out.setdefault(m.department, []).append(m.inspector_id)
    return out


def test_team_has_at_least_two_inspectors():
    team = one_team(visit(), pool(MR, 5))
    assert len(team.members) == 2
    with pytest.raises(ValueError, match="at least 2"):
        draw_teams([visit()], pool(MR, 5), SEED, team_size=1)
    assert len(one_team(visit(), pool(MR, 5), team_size=3).members) == 3


def test_each_non_delegable_department_sends_its_own_inspector():
    f = form(item(MR, "M1"), item(FR, "F1"), item(CT, "C1"))
    team = one_team(visit(checklist=f), pool(MR, 3) + pool(FR, 3) + pool(CT, 3))
    assert sorted(members_by_dept(team)) == [CT, FR, MR]
    assert len(team.members) == 3  # more departments than the minimum size: team grows


def test_delegable_items_let_the_team_be_smaller():
    f = form(item(MR, "M1"), item(FR, "F1"), item(CT, "C1", delegable=True))
    team = one_team(visit(checklist=f), pool(MR, 3) + pool(FR, 3) + pool(CT, 3))
    assert sorted(members_by_dept(team)) == [FR, MR]
    assert team.delegated_departments == (CT,)
    assert team.covered_departments == (CT, FR, MR)


def test_inspector_matches_its_departments_tags():
    f = form(item(FR, "F1", tags={"fire"}), item(MR, "M1", tags={"food"}))
    fire = [insp("fr-plain-0", FR), insp("fr-plain-1", FR), insp("fr-fire", FR, tags={"fire"})]
    food = [insp("mr-plain", MR), insp("mr-food", MR, tags={"food"}), insp("mr-x", MR)]
    for seed in (SEED, SEED[::-1]):
        team = one_team(visit(checklist=f), fire + food, seed)
        assert set(team.inspector_ids) == {"fr-fire", "mr-food"}
        assert team.uncovered_tags == frozenset()


def test_extra_seat_covers_the_forms_remaining_tags():
    f = form(
        item(MR, "M1", delegable=True, tags={"food"}),
        item(MR, "M2", delegable=True, tags={"weights"}),
    )
    mrs = [
        insp("mr-food", MR, tags={"food"}),
        insp("mr-weights", MR, tags={"weights"}),
        insp("mr-a", MR),
        insp("mr-b", MR),
    ]
    team = one_team(visit(checklist=f), mrs)
    assert set(team.inspector_ids) == {"mr-food", "mr-weights"}


def test_avoidance_never_draws_conflicted_inspector():
    uscc = "913702020000000009"
    inspectors = [*pool(MR, 2), insp("mr-conflicted", MR, conflicts={uscc})]
    for i in range(20):
        seed = SEED + bytes([i])
        assert "mr-conflicted" not in one_team(visit(uscc), inspectors, seed).inspector_ids
    alone = one_team(visit(uscc), [insp("mr-conflicted", MR, conflicts={uscc})])
    assert alone.members == ()
    assert alone.shortfalls[0].reason is ShortfallReason.NO_ELIGIBLE_INSPECTOR


def test_rotation_avoids_previous_inspector_when_possible():
    inspectors = pool(MR, 3)
    previous = {inspectors[0].id, inspectors[1].id}
    for i in range(20):
        team = one_team(visit(previous=previous), inspectors, SEED + bytes([i]))
        assert inspectors[2].id in team.inspector_ids  # the only fresh face always goes
        assert len(set(team.inspector_ids) & previous) == 1  # one previous is unavoidable


def test_rotation_gives_way_when_only_previous_inspectors_are_left():
    inspectors = pool(MR, 2)
    team = one_team(visit(previous={i.id for i in inspectors}), inspectors)
    assert set(team.inspector_ids) == {i.id for i in inspectors}


def test_workload_spread_evenly():
    inspectors = pool(MR, 10)
    visits = [visit(f"91370202{n:010d}") for n in range(25)]
    draw = draw_teams(visits, inspectors, SEED)
    assert set(draw.loads.values()) == {5}  # 50 seats over 10 inspectors


def test_tag_matching_never_overloads_an_expert():
    f = form(item(FR, "F1", tags={"fire"}))
    inspectors = [insp("fr-expert", FR, tags={"fire"}), *pool(FR, 4)]
    visits = [visit(f"91370202{n:010d}", f) for n in range(20)]
    loads = draw_teams(visits, inspectors, SEED).loads
    assert loads["fr-expert"] == max(loads.values())  # the expert goes first in each round
    assert max(loads.values()) - min(loads.values()) <= 2  # but never runs far ahead
    strict = draw_teams(visits, inspectors, SEED, load_slack=0).loads
    assert max(strict.values()) - min(strict.values()) <= 1


def test_same_department_partners_are_not_fixed():
    inspectors = pool(MR, 6)
    visits = [visit(f"91370202{n:010d}") for n in range(30)]
    pairs = {frozenset(t.inspector_ids) for t in draw_teams(visits, inspectors, SEED).teams}
    assert len(pairs) > 6  # a fixed ring neighbour would give only 6 distinct pairs


def test_team_draw_replays_from_seed():
    f = form(item(MR, "M1"), item(FR, "F1"))
    inspectors = pool(MR, 7) + pool(FR, 5) + pool(FR, 4, AWAY)
    visits = [visit(f"91370202{n:010d}", f, previous={"ma-370202-1"}) for n in range(40)]
    first = draw_teams(visits, inspectors, SEED)
    rnd = random.Random(5)
    shuffled_visits, shuffled_inspectors = visits[:], inspectors[:]
    rnd.shuffle(shuffled_visits)
    rnd.shuffle(shuffled_inspectors)
    assert draw_teams(shuffled_visits, shuffled_inspectors, SEED) == first
    assert draw_teams(visits, inspectors, SEED[::-1]) != first


def test_wider_pool_only_when_local_cannot_cover():
    f = form(item(MR, "M1"), item(FR, "F1"))
    away_fire = pool(FR, 3, AWAY)
    team = one_team(visit(checklist=f), pool(MR, 3) + away_fire)
    fire = [m for m in team.members if m.department == FR]
    assert fire and all(m.wider_pool for m in fire)
    assert not any(m.wider_pool for m in team.members if m.department == MR)
    local = one_team(visit(checklist=f), pool(MR, 3) + pool(FR, 1) + away_fire)
    assert not any(m.wider_pool for m in local.members)


def test_unavailable_inspector_never_drawn():
    inspectors = [*pool(MR, 2), insp("mr-off-duty", MR, available=False)]
    for i in range(20):
        team = one_team(visit(), inspectors, SEED + bytes([i]))
        assert "mr-off-duty" not in team.inspector_ids


def test_uncoverable_department_reported_as_shortfall():
    f = form(item(MR, "M1"), item(FR, "F1"))
    draw = draw_teams([visit(checklist=f)], pool(MR, 3), SEED)
    (short,) = draw.shortfalls
    assert (short.department, short.reason) == (FR, ShortfallReason.NO_ELIGIBLE_INSPECTOR)
    assert FR not in draw.teams[0].covered_departments
    assert len(draw.teams[0].members) == 2  # the team is still as large as it can be
    with pytest.raises(TeamDrawError, match="fire_rescue"):
        draw.require_complete()


def test_team_too_small_reported_as_shortfall():
    draw = draw_teams([visit()], pool(MR, 1), SEED)
    assert [s.reason for s in draw.shortfalls] == [ShortfallReason.TEAM_TOO_SMALL]


def test_empty_form_reported_as_shortfall():
    empty = visit(checklist=form())
    assert draw_teams([empty], pool(MR, 3), SEED).shortfalls[0].reason is ShortfallReason.EMPTY_FORM


def test_lead_department_inspector_leads():
    f = form(item(MR, "M1"), item(FR, "F1"))
    team = one_team(visit(checklist=f), pool(MR, 3) + pool(FR, 3), lead_department=FR)
    assert team.members[0].department == FR and team.members[0].role is Role.LEADER
    assert all(m.role is Role.MEMBER for m in team.members[1:])


def test_department_minimum_seats():
    f = form(item(MR, "M1"), item(FR, "F1"))
    team = one_team(visit(checklist=f), pool(MR, 3) + pool(FR, 3), department_minimums={FR: 2})
    assert len(members_by_dept(team)[FR]) == 2 and len(team.members) == 3


def test_duplicate_inspector_or_visit_refused():
    with pytest.raises(ValueError, match="twice"):
        draw_teams([visit()], pool(MR, 2) + pool(MR, 1), SEED)
    with pytest.raises(ValueError, match="duplicate"):
        draw_teams([visit(), visit()], pool(MR, 2), SEED)


def test_savings_against_separate_visits():
    def team(departments, size):
        members = one_team(visit(), pool(MR, size), team_size=size).members
        return Team("x", HOME, members, departments, departments, (), frozenset())

    result = savings([team((CT, FR, MR), 3), team((FR, MR), 2)])
    assert (result.visits, result.dispatches) == (2, 5)
    assert (result.separate_visits, result.separate_dispatches) == (5, 10)
    assert (result.separate_visits_avoided, result.dispatches_avoided) == (3, 5)


# Substitution ---------------------------------------------------------------------------


def drawn_pair():
    f = form(item(MR, "M1"), item(FR, "F1", tags={"fire"}))
    v = visit("913702020000000077", f)
    inspectors = (
        pool(MR, 4)
        + pool(FR, 3, tags={"fire"})
        + [
            insp("fr-conflicted", FR, tags={"fire"}, conflicts={v.uscc}),
            insp("fr-off", FR, tags={"fire"}, available=False),
        ]
    )
    draw = draw_teams([v], inspectors, SEED)
    return v, inspectors, draw


def test_substitution_keeps_rules_and_records_reason():
    v, inspectors, draw = drawn_pair()
    team = draw.teams[0]
    out = next(m for m in team.members if m.department == FR)
    new_team, record = substitute(team, v, inspectors, SEED, out.inspector_id, "  sick leave ")
    incoming = next(m for m in new_team.members if m.department == FR)
    assert incoming.inspector_id not in {out.inspector_id, "fr-conflicted", "fr-off"}
    assert incoming.inspector_id not in team.inspector_ids
    assert (incoming.role, incoming.seat) == (out.role, out.seat)
    assert new_team.covered_departments == team.covered_departments
    assert (record.out_id, record.in_id, record.reason) == (
        out.inspector_id,
        incoming.inspector_id,
        "sick leave",
    )
    assert record.department == FR and record.rank_hex == incoming.rank_hex
    assert out in team.members  # the original draw is untouched


def test_substitution_requires_reason():
    v, inspectors, draw = drawn_pair()
    team = draw.teams[0]
    with pytest.raises(ValueError, match="reason"):
        substitute(team, v, inspectors, SEED, team.members[0].inspector_id, "   ")


def test_substitution_is_the_next_in_the_same_ranking():
    v, inspectors, draw = drawn_pair()
    team = draw.teams[0]
    out = next(m for m in team.members if m.department == FR)
    new_team, _ = substitute(team, v, inspectors, SEED, out.inspector_id, "court hearing")
    without = [i for i in inspectors if i.id != out.inspector_id]
    assert draw_teams([v], without, SEED).teams[0].members == new_team.members


def test_substitution_without_candidate_raises():
    v, inspectors, draw = drawn_pair()
    team = draw.teams[0]
    out = next(m for m in team.members if m.department == FR)
    others = [i.id for i in inspectors if i.department == FR and i.id != out.inspector_id]
    with pytest.raises(TeamDrawError):
        substitute(team, v, inspectors, SEED, out.inspector_id, "injured", exclude=others)
    with pytest.raises(ValueError, match="not on the team"):
        substitute(team, v, inspectors, SEED, "nobody", "injured")
