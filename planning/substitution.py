"""Substitution (递补): an inspector who cannot go is replaced by the next one drawn.

The replacement comes from the same department and the same seat ranking as the original
draw (``Assignment.seat`` fixes it), under the same rules: on duty, no conflict, not on the
team, local pool first, rotation, tags, workload. The original Team is never changed: the
caller keeps it and the ``Substitution`` record, so the first draw stays in the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from planning.inspector_pool import DEFAULT_LOAD_SLACK, Inspector, InspectorPools
from planning.ranking import KeyedHash, rank_hex, seat_offset
from planning.team_draw import Shortfall, ShortfallReason, Team, TeamDrawError, Visit, build_team


@dataclass(frozen=True, slots=True)
class Substitution:
    uscc: str
    department: str
    out_id: str
    in_id: str
    reason: str
    wider_pool: bool
    rank_hex: str


def substitute(
    team: Team,
    visit: Visit,
    inspectors: Iterable[Inspector],
    seed: bytes,
    out_id: str,
    reason: str,
    *,
    loads: Mapping[str, int] | None = None,
    exclude: Iterable[str] = (),
    load_slack: int = DEFAULT_LOAD_SLACK,
) -> tuple[Team, Substitution]:
    """Replace ``out_id`` on ``team`` and say why.

    ``loads`` are the seats each inspector already holds in the task (``TeamDraw.loads``,
    which the caller keeps up to date: one seat more for the substitute, one less for the
    inspector replaced), so substitutes spread like the first draw; ``exclude``
    names inspectors who must not come back (e.g. those substituted out of this visit
    before). Raises ``ValueError`` without a reason or when ``out_id`` is not on the team,
    and ``TeamDrawError`` when no eligible inspector is left.
    """
    if not reason or not reason.strip():
        raise ValueError("a substitution must record its reason")
    if visit.uscc != team.uscc:
        raise ValueError(f"team of {team.uscc} does not belong to visit {visit.uscc}")
    index = next((i for i, m in enumerate(team.members) if m.inspector_id == out_id), None)
    if index is None:
        raise ValueError(f"inspector {out_id!r} is not on the team of {team.uscc}")
    out = team.members[index]

    hasher = KeyedHash(seed)
    pools = InspectorPools(inspectors, hasher, loads, load_slack)
    others = [m for m in team.members if m is not out]
    own_tags = frozenset(
        t for m in others if m.department == out.department for t in pools.tags_of(m.inspector_id)
    )
    pick = pools.pick(
        department=out.department,
        district=visit.district,
        offset=seat_offset(hasher, visit.uscc, out.department, out.seat),
        needed=visit.checklist.tags_for(out.department) - own_tags,
        exclude={*team.inspector_ids, *pools.conflicted_with(visit.uscc), *exclude},
        previous=visit.previous_inspectors,
    )
    if pick is None:
        raise TeamDrawError(
            [Shortfall(visit.uscc, out.department, ShortfallReason.NO_ELIGIBLE_INSPECTOR)]
        )
    incoming = replace(
        out,
        inspector_id=pick.inspector.id,
        wider_pool=pick.wider_pool,
        rank_hex=rank_hex(pick.rank),
    )
    members = (*team.members[:index], incoming, *team.members[index + 1 :])
    tags = frozenset(t for m in members for t in pools.tags_of(m.inspector_id))
    new_team = build_team(visit, members, team.shortfalls, tags)
    record = Substitution(
        uscc=team.uscc,
        department=out.department,
        out_id=out_id,
        in_id=pick.inspector.id,
        reason=reason.strip(),
        wider_pool=pick.wider_pool,
        rank_hex=incoming.rank_hex,
    )
    return new_team, record
