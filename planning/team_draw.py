"""Team draw: which inspectors go to each drawn entity (the second "random").

For each visit the team gets, in order:

* the seats departments must fill: one inspector of every department with a non-delegable
  requirement on the form (more when ``department_minimums`` asks), the lead department's
  first so that its inspector leads;
* then seats up to ``team_size`` (at least two), each from the department with items on the
  form that has the fewest inspectors on the team so far, aiming at the form's tags no one
  on the team covers yet. A department whose items are all delegable may have no inspector
  of its own: another department's inspector checks them (cross-authorised inspection),
  which is what lets a joint team be smaller than one pair per department.

Each seat is filled by ``InspectorPools.pick`` (avoidance, availability, local pool first,
rotation, workload band, tags, workload, keyed rank). Visits are processed in entity-rank
order, so the workload balancing, like everything else, depends on the seed and not on
input order. A seat no one can fill becomes a ``Shortfall`` on the team, never a silent gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from planning.checklist import MergedChecklist
from planning.inspector_pool import DEFAULT_LOAD_SLACK, Inspector, InspectorPools, Pick
from planning.ranking import KeyedHash, rank_hex, seat_offset, seed_commitment

MIN_TEAM_SIZE = 2


class Role(StrEnum):
    LEADER = "leader"
    MEMBER = "member"


_LEADER, _MEMBER = Role.LEADER, Role.MEMBER  # looked up once: a draw takes a seat 100,000 times


class ShortfallReason(StrEnum):
    NO_ELIGIBLE_INSPECTOR = "NO_ELIGIBLE_INSPECTOR"  # a department's seat cannot be filled
    TEAM_TOO_SMALL = "TEAM_TOO_SMALL"  # no one at all is left to reach the team size
    EMPTY_FORM = "EMPTY_FORM"  # no item applies to the entity: nobody to send


@dataclass(frozen=True, slots=True)
class Visit:
    """One drawn entity to be visited, with its merged form."""

    uscc: str
    district: str
    checklist: MergedChecklist
    previous_inspectors: frozenset[str] = frozenset()  # ids on its previous inspection


@dataclass(frozen=True, slots=True)
class Assignment:
    inspector_id: str
    department: str
    role: Role
    wider_pool: bool  # drawn from another district of the department: no local staff left
    rank_hex: str  # the inspector's keyed rank for this seat
    seat: int  # n-th seat of this department on the team: fixes the ranking (and substitutes)


@dataclass(frozen=True, slots=True)
class Shortfall:
    uscc: str
    department: str | None
    reason: ShortfallReason


@dataclass(frozen=True, slots=True)
class Team:
    uscc: str
    district: str
    members: tuple[Assignment, ...]
    form_departments: tuple[str, ...]  # every department with items on the form
    covered_departments: tuple[str, ...]  # represented, or all items delegated
    delegated_departments: tuple[str, ...]  # covered only by cross-authorised inspection
    uncovered_tags: frozenset[str]  # form tags no member carries
    shortfalls: tuple[Shortfall, ...] = ()

    @property
    def inspector_ids(self) -> tuple[str, ...]:
        return tuple(m.inspector_id for m in self.members)


class TeamDrawError(ValueError):
    """Seats that could not be filled, raised when the caller requires complete teams."""

    def __init__(self, shortfalls: Iterable[Shortfall]) -> None:
        self.shortfalls = tuple(shortfalls)
        listed = "; ".join(
            f"{s.uscc}: {s.department or 'any department'} ({s.reason})" for s in self.shortfalls
        )
        super().__init__(f"{len(self.shortfalls)} seat(s) could not be filled: {listed}")


@dataclass(frozen=True, slots=True)
class TeamDraw:
    teams: tuple[Team, ...]  # in draw order (ascending entity rank)
    loads: dict[str, int]  # seats per inspector over the whole task (on-duty inspectors)
    seed_commitment: str  # sha256 of the seed: published before, checked after the draw

    @property
    def shortfalls(self) -> tuple[Shortfall, ...]:
        return tuple(s for t in self.teams for s in t.shortfalls)

    def require_complete(self) -> TeamDraw:
        if self.shortfalls:
            raise TeamDrawError(self.shortfalls)
        return self


def draw_teams(
    visits: Iterable[Visit],
    inspectors: Iterable[Inspector],
    seed: bytes,
    *,
    team_size: int = MIN_TEAM_SIZE,
    lead_department: str | None = None,
    department_minimums: Mapping[str, int] | None = None,
    load_slack: int = DEFAULT_LOAD_SLACK,
) -> TeamDraw:
    """Draw a team for every visit of a task.

    ``team_size`` is the minimum size of every team (never below two); a form needing more
    departments than that gets a larger team. ``department_minimums`` lets a department
    require more than one of its inspectors whenever it has items on a form.
    ``load_slack`` bounds how far ahead of the least-loaded colleague a tag-matching
    inspector may be drawn (``inspector_pool``: 0 balances strictly, larger favours tags).
    """
    if team_size < MIN_TEAM_SIZE:
        raise ValueError(f"a team has at least {MIN_TEAM_SIZE} inspectors")
    hasher = KeyedHash(seed)
    pools = InspectorPools(inspectors, hasher, load_slack=load_slack)
    ordered = sorted(visits, key=lambda v: hasher.text(v.uscc))
    if len({v.uscc for v in ordered}) != len(ordered):
        raise ValueError("a task visits each entity once: duplicate USCC among the visits")
    teams = tuple(
        _draw_team(v, pools, team_size, lead_department, department_minimums or {}) for v in ordered
    )
    return TeamDraw(teams, dict(pools.load), seed_commitment(seed))


def _draw_team(
    visit: Visit,
    pools: InspectorPools,
    team_size: int,
    lead_department: str | None,
    minimums: Mapping[str, int],
) -> Team:
    form = visit.checklist
    departments = form.departments
    if not departments:
        empty = Shortfall(visit.uscc, None, ShortfallReason.EMPTY_FORM)
        return build_team(visit, [], [empty], frozenset())
    required = set(form.non_delegable_departments)
    seats = {d: max(1 if d in required else 0, minimums.get(d, 0)) for d in departments}
    members: list[Assignment] = []
    shortfalls: list[Shortfall] = []
    exclude = set(pools.conflicted_with(visit.uscc))
    held = dict.fromkeys(departments, 0)  # seats taken per department
    own_tags: dict[str, frozenset[str]] = dict.fromkeys(departments, frozenset())
    team_tags: frozenset[str] = frozenset()

    def take(department: str, pick: Pick) -> None:
        nonlocal team_tags
        role = _MEMBER if members else _LEADER
        ins = pick.inspector
        members.append(
            Assignment(
                ins.id, department, role, pick.wider_pool, rank_hex(pick.rank), held[department]
            )
        )
        held[department] += 1
        own_tags[department] |= ins.tags
        team_tags |= ins.tags
        exclude.add(ins.id)
        pools.assign(ins.id)

    for department in sorted(departments, key=lambda d: (d != lead_department, d)):
        for _ in range(seats[department]):
            needed = form.tags_for(department) - own_tags[department]
            pick = _pick_seat(pools, visit, department, held[department], needed, exclude)
            if pick is None:
                shortfalls.append(
                    Shortfall(visit.uscc, department, ShortfallReason.NO_ELIGIBLE_INSPECTOR)
                )
                break
            take(department, pick)

    target = max(team_size, sum(seats.values()))
    while len(members) < target:
        uncovered = form.tags - team_tags
        best: tuple[tuple[bool, int, bool, int, int, int], str, Pick] | None = None
        for department in departments:
            pick = _pick_seat(pools, visit, department, held[department], uncovered, exclude)
            if pick is None:
                continue
            key = (
                pick.wider_pool,
                held[department],
                pick.previous,
                -pick.tag_score,
                pick.load,
                pick.rank,
            )
            if best is None or key < best[0]:
                best = (key, department, pick)
        if best is None:
            shortfalls.append(Shortfall(visit.uscc, None, ShortfallReason.TEAM_TOO_SMALL))
            break
        take(best[1], best[2])
    return build_team(visit, members, shortfalls, team_tags)


def _pick_seat(
    pools: InspectorPools,
    visit: Visit,
    department: str,
    seat: int,
    needed: frozenset[str],
    exclude: set[str],
) -> Pick | None:
    return pools.pick(
        department=department,
        district=visit.district,
        offset=seat_offset(pools.hasher, visit.uscc, department, seat),
        needed=needed,
        exclude=exclude,
        previous=visit.previous_inspectors,
    )


def build_team(
    visit: Visit,
    members: Iterable[Assignment],
    shortfalls: Iterable[Shortfall],
    member_tags: frozenset[str],
) -> Team:
    """Assemble a Team and derive what it covers; ``member_tags`` is the union of the
    members' business tags."""
    members = tuple(members)
    form = visit.checklist
    represented = {m.department for m in members}
    must_send = set(form.non_delegable_departments)
    delegated = tuple(
        d for d in form.departments if d not in represented and d not in must_send and members
    )
    covered = tuple(d for d in form.departments if d in represented or d in delegated)
    return Team(
        uscc=visit.uscc,
        district=visit.district,
        members=members,
        form_departments=form.departments,
        covered_departments=covered,
        delegated_departments=delegated,
        uncovered_tags=form.tags - member_tags,
        shortfalls=tuple(shortfalls),
    )
