"""The draw of a joint task, whole: inputs + seed + date → entities, forms, visits, teams.

The one definition of the draw. Its two phases are separate functions because the team
inputs (register rows, inspector conflicts, earlier inspections) are read for the drawn
entities only:

* ``select_entities`` — the entity draw over the frozen population (``entity_draw``);
* ``assign_teams`` — one merged form per entity kind and industry, a visit per drawn entity,
  a team per visit (``team_draw``), and what the joint visits save.

``draw`` is the two in a row, for inputs that are all known (``verify-draw`` replays a frozen
draw with it); the draw command calls the phases with a read in between; the census calls
``census``, the draw's own counting and allocation without a seed. docs/draw-spec.md states
every rule so that an independent implementation gives the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.vocabulary import EntityKind
from planning.checklist import ChecklistItem, MergedChecklist, merge_checklist
from planning.entity_draw import (
    Census,
    EntityDraw,
    SamplingPlan,
    Stratum,
    allocate,
    draw_entities,
)
from planning.entity_draw import census as count
from planning.inspector_pool import Inspector
from planning.population import Population
from planning.savings import Savings, savings
from planning.team_draw import TeamDraw, Visit, draw_teams


@dataclass(frozen=True, slots=True)
class Rules:
    """The task's rules of the draw besides its items: the sampling plan and the teams."""

    plan: SamplingPlan
    team_size: int
    lead_department: str


@dataclass(frozen=True, slots=True)
class Place:
    """What the team draw needs to know of a drawn entity (from the register)."""

    kind: str
    industry: str
    district: str

    @property
    def shape(self) -> tuple[str, str]:
        """Entities of one kind and industry share one merged form."""
        return (self.kind, self.industry)


@dataclass(frozen=True, slots=True)
class TeamInputs:
    """What the team draw reads, for the drawn entities: where they are, the inspector pools
    (with declared conflicts), and who inspected each of them last time."""

    places: Mapping[str, Place]
    inspectors: Sequence[Inspector]
    previous: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class DrawInputs:
    population: Population
    items: Sequence[ChecklistItem]
    teams: TeamInputs
    rules: Rules


@dataclass(frozen=True, slots=True)
class Draw:
    """Everything a draw decides. ``visits`` and ``teams.teams`` are in entity-rank order."""

    entities: EntityDraw
    forms: dict[tuple[str, str], MergedChecklist]  # by (kind, industry)
    visits: tuple[Visit, ...]
    teams: TeamDraw
    savings: Savings


def select_entities(
    population: Population, plan: SamplingPlan, seed: bytes, today: date
) -> EntityDraw:
    """Phase one: the drawn entities, ranked, with the counts that explain them."""
    return draw_entities(population, plan, seed, today)


def assign_teams(
    entities: EntityDraw,
    items: Sequence[ChecklistItem],
    inputs: TeamInputs,
    rules: Rules,
    seed: bytes,
) -> Draw:
    """Phase two: a merged form, a visit and a team for every drawn entity.

    Shortfalls (seats nobody can fill) are part of the answer (``Draw.teams.shortfalls``);
    the caller decides that a draw with shortfalls is not frozen.
    """
    forms: dict[tuple[str, str], MergedChecklist] = {}
    visits = []
    for drawn in entities.drawn:
        place = inputs.places.get(drawn.uscc)
        if place is None:
            raise ValueError(f"{drawn.uscc} was drawn but is missing from the register")
        form = forms.get(place.shape)
        if form is None:
            form = forms[place.shape] = merge_checklist(
                EntityKind(place.kind), place.industry, items
            )
        previous = inputs.previous.get(drawn.uscc, frozenset())
        visits.append(Visit(drawn.uscc, place.district, form, previous))
    teams = draw_teams(
        visits,
        inputs.inspectors,
        seed,
        team_size=rules.team_size,
        lead_department=rules.lead_department,
    )
    return Draw(entities, forms, tuple(visits), teams, savings(teams.teams))


def draw(inputs: DrawInputs, seed: bytes, today: date) -> Draw:
    """The whole draw from inputs that are all known (a frozen draw, a test)."""
    entities = select_entities(inputs.population, inputs.rules.plan, seed, today)
    return assign_teams(entities, inputs.items, inputs.teams, inputs.rules, seed)


def census(
    population: Population, plan: SamplingPlan, today: date
) -> tuple[Census, dict[Stratum, int]]:
    """What a plan would draw from a population before any seed exists: the eligible count
    and the allocation per stratum, with the exclusions."""
    counted = count(population, plan, today)
    return counted, allocate(plan, counted.population)
