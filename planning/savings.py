"""What joint visits save compared with each department going alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from planning.team_draw import MIN_TEAM_SIZE, Team


@dataclass(frozen=True, slots=True)
class Savings:
    visits: int  # joint visits made
    dispatches: int  # inspector dispatches on those visits
    separate_visits: int  # visits the departments would have made alone
    separate_dispatches: int  # dispatches those separate visits would have needed
    separate_visits_avoided: int
    dispatches_avoided: int


def savings(
    teams: Iterable[Team],
    *,
    separate_team_size: int = MIN_TEAM_SIZE,
    department_minimums: Mapping[str, int] | None = None,
) -> Savings:
    """Compare the joint visits with each department inspecting on its own.

    For every team that goes (has members), with F = the departments with items on its form:

    * visits += 1, dispatches += number of members;
    * separate_visits += |F| (each department would visit the entity itself);
    * separate_dispatches += sum over d in F of max(separate_team_size, minimum of d)
      (each separate visit needs a team of its own of at least two);
    * separate_visits_avoided = separate_visits - visits;
    * dispatches_avoided = separate_dispatches - dispatches.
    """
    minimums = department_minimums or {}
    visits = dispatches = separate_visits = separate_dispatches = 0
    for team in teams:
        if not team.members:
            continue
        visits += 1
        dispatches += len(team.members)
        separate_visits += len(team.form_departments)
        separate_dispatches += sum(
            max(separate_team_size, minimums.get(d, 0)) for d in team.form_departments
        )
    return Savings(
        visits=visits,
        dispatches=dispatches,
        separate_visits=separate_visits,
        separate_dispatches=separate_dispatches,
        separate_visits_avoided=separate_visits - visits,
        dispatches_avoided=separate_dispatches - dispatches,
    )
