"""The frozen inputs of a draw as stored data, and back: what verify-draw, substitution and
the public draw record read.

The format is the one draws have been frozen in since the first release (a draw made then
still verifies: tests/test_draw_record.py replays one): ``drawnOn``, ``plan``, ``teamSize``,
``lead``, ``candidates`` (the population's columns), ``items``, ``entities`` (kind, industry,
district of each drawn entity), ``inspectors`` (ids, never names) and ``previous``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.vocabulary import EntityKind
from planning.checklist import ChecklistItem
from planning.draw import DrawInputs, Place, Rules, TeamInputs
from planning.inspector_pool import Inspector
from planning.population import Population
from tasks.common import plan_from_data


def item_to_data(i: ChecklistItem) -> dict[str, Any]:
    return {
        "department": i.department,
        "code": i.code,
        "name": i.name,
        "legalBasis": i.legal_basis,
        "kinds": sorted(k.value for k in i.kinds),
        "industries": sorted(i.industries),
        "standardCode": i.standard_code,
        "delegable": i.delegable,
        "tags": sorted(i.tags),
    }


def item_from_data(d: dict[str, Any]) -> ChecklistItem:
    return ChecklistItem(
        d["department"],
        d["code"],
        d["name"],
        d["legalBasis"],
        frozenset(EntityKind(k) for k in d["kinds"]),
        frozenset(d["industries"]),
        d["standardCode"],
        d["delegable"],
        frozenset(d["tags"]),
    )


def inspector_to_data(i: Inspector) -> list[Any]:
    # Names and certificates are not needed to replay a draw: the snapshot keeps ids only.
    return [i.id, i.department, sorted(i.tags), i.district, i.available, sorted(i.conflicts)]


def inspector_from_data(d: list[Any]) -> Inspector:
    return Inspector(
        id=d[0],
        department=d[1],
        name="",
        certificate="",
        tags=frozenset(d[2]),
        district=d[3],
        available=d[4],
        conflicts=frozenset(d[5]),
    )


def to_data(
    inputs: DrawInputs, plan_data: dict[str, Any], drawn_on: date, drawn: list[str]
) -> dict[str, Any]:
    """The snapshot of a draw's inputs; ``drawn`` are the USCCs drawn (the team inputs are
    kept for those only)."""
    teams = inputs.teams
    places = teams.places
    return {
        "drawnOn": drawn_on.isoformat(),
        "plan": plan_data,
        "teamSize": inputs.rules.team_size,
        "lead": inputs.rules.lead_department,
        "candidates": inputs.population.to_data(),
        "items": [item_to_data(i) for i in inputs.items],
        "entities": {u: [places[u].kind, places[u].industry, places[u].district] for u in drawn},
        "inspectors": [inspector_to_data(i) for i in teams.inspectors],
        "previous": {u: sorted(teams.previous[u]) for u in drawn if u in teams.previous},
    }


def from_data(snapshot: dict[str, Any]) -> tuple[DrawInputs, date]:
    """The inputs a frozen draw was computed from, and its date."""
    rules = Rules(plan_from_data(snapshot["plan"]), snapshot["teamSize"], snapshot["lead"])
    teams = TeamInputs(
        places={u: Place(k, i, d) for u, (k, i, d) in snapshot["entities"].items()},
        inspectors=[inspector_from_data(i) for i in snapshot["inspectors"]],
        previous={u: frozenset(ids) for u, ids in snapshot["previous"].items()},
    )
    inputs = DrawInputs(
        population=Population.from_data(snapshot["candidates"]),
        items=[item_from_data(i) for i in snapshot["items"]],
        teams=teams,
        rules=rules,
    )
    return inputs, date.fromisoformat(snapshot["drawnOn"])
