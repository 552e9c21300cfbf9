"""The inspector pool (the second "pool" of 一单两库) indexed for drawing teams.

Choosing an inspector for one seat of one visit follows, in this order of precedence:

1. hard rules: the seat's department, on duty (``available``), no declared conflict with the
   entity (avoidance), not already on the team, not excluded by the caller;
2. the local district's pool; the department's inspectors of other districts only when no
   local inspector passes (1) — the assignment then records ``wider_pool``;
3. rotation: within that pool, not an inspector of the entity's previous inspection when
   anyone else passes (1); a wider pool is for missing staff, not for rotation;
4. workload band: only inspectors holding at most ``load_slack`` seats more than the
   least-loaded eligible one, so that no expert is worn out while colleagues sit idle;
5. expertise: most of the seat's needed business tags;
6. workload: fewest seats already held in this task;
7. chance: lowest keyed rank for the seat (``ranking.seat_rank``).

With the default slack of 1, tag-matching inspectors go first in every round, and nobody
gets more than two seats ahead of the least-loaded inspector of the pool.

Each pool keeps its members in ring order, so that a set of members is an integer bit mask
(bit i: the i-th member by position): the members at each load, and — per set of needed tags
it has been asked for — the members by tag score. A seat costs a few mask operations and one
binary search; a seat taken moves one bit between two load masks in each of the inspector's
two pools (its district's and its department's).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from planning.ranking import KeyedHash, inspector_position, seat_rank

DEFAULT_LOAD_SLACK = 1


@dataclass(frozen=True, slots=True)
class Inspector:
    """A certified law-enforcement officer of one department, tagged by business function."""

    id: str
    department: str
    name: str
    certificate: str
    tags: frozenset[str] = frozenset()
    district: str = ""
    available: bool = True  # on duty for this task
    conflicts: frozenset[str] = frozenset()  # USCCs the inspector declared a conflict with


class Pick(NamedTuple):
    """The inspector chosen for a seat and why it won (a NamedTuple: one is made per seat
    of every visit, and it never leaves the draw)."""

    inspector: Inspector
    wider_pool: bool
    previous: bool  # was on the entity's previous inspection (no one else was eligible)
    tag_score: int
    load: int  # seats held before this one
    rank: int


class _Pool:
    """One department's on-duty inspectors in one district, or in all districts, in ring
    order: bit i of every mask stands for ``members[i]``."""

    __slots__ = ("everyone", "index", "levels", "members", "partitions", "positions")

    def __init__(self, members: list[tuple[int, Inspector]], loads: Mapping[str, int]) -> None:
        members.sort(key=lambda pm: pm[0])
        self.positions = [p for p, _ in members]
        self.members = [ins for _, ins in members]
        self.index = {ins.id: i for i, ins in enumerate(self.members)}
        self.everyone = (1 << len(members)) - 1
        self.levels: dict[int, int] = {}  # load -> members holding that many seats
        for i, ins in enumerate(self.members):
            load = loads.get(ins.id, 0)
            self.levels[load] = self.levels.get(load, 0) | 1 << i
        # needed tags -> (tag score, members with that score), the highest score first
        self.partitions: dict[frozenset[str], tuple[tuple[int, int], ...]] = {}

    def mask(self, ids: Iterable[str]) -> int:
        out = 0
        for i in ids:
            bit = self.index.get(i)
            if bit is not None:
                out |= 1 << bit
        return out

    def move(self, inspector_id: str, load: int) -> None:
        bit = 1 << self.index[inspector_id]
        rest = self.levels[load] & ~bit
        if rest:
            self.levels[load] = rest
        else:
            del self.levels[load]
        self.levels[load + 1] = self.levels.get(load + 1, 0) | bit

    def partition(self, needed: frozenset[str]) -> tuple[tuple[int, int], ...]:
        """The members by tag score for these needed tags, made on first use (forms repeat
        across a task, so a pool is asked for few distinct tag sets)."""
        found = self.partitions.get(needed)
        if found is None:
            classes: dict[int, int] = {}
            for i, ins in enumerate(self.members):
                score = len(needed & ins.tags)
                classes[score] = classes.get(score, 0) | 1 << i
            found = self.partitions[needed] = tuple(sorted(classes.items(), reverse=True))
        return found


def _first_from(mask: int, start: int) -> int:
    """The first member of a non-empty mask at or after index ``start``, going round."""
    high = mask >> start
    if high:
        return start + (high & -high).bit_length() - 1
    return (mask & -mask).bit_length() - 1


class InspectorPools:
    """Mutable state of one task's inspector draw: the index and every inspector's load.

    ``loads`` seeds the workload (e.g. seats already held when a substitution is made).
    Inspectors not on duty are left out entirely, so nothing can ever draw them.
    """

    def __init__(
        self,
        inspectors: Iterable[Inspector],
        hasher: KeyedHash,
        loads: Mapping[str, int] | None = None,
        load_slack: int = DEFAULT_LOAD_SLACK,
    ) -> None:
        if load_slack < 0:
            raise ValueError("load_slack must not be negative")
        loads = loads or {}
        self.hasher = hasher
        self.load_slack = load_slack
        self.load: dict[str, int] = {}
        self._by_id: dict[str, Inspector] = {}
        self._department_of: dict[str, str] = {}  # on-duty inspectors only
        self._conflicts: dict[str, set[str]] = {}
        local: dict[tuple[str, str], list[tuple[int, Inspector]]] = {}
        department: dict[str, list[tuple[int, Inspector]]] = {}
        for ins in inspectors:
            if ins.id in self._by_id:
                raise ValueError(f"inspector {ins.id!r} appears twice in the pool")
            self._by_id[ins.id] = ins
            if not ins.available:
                continue
            position = inspector_position(hasher, ins.department, ins.id)
            self.load[ins.id] = loads.get(ins.id, 0)
            self._department_of[ins.id] = ins.department
            local.setdefault((ins.department, ins.district), []).append((position, ins))
            department.setdefault(ins.department, []).append((position, ins))
            for uscc in ins.conflicts:
                self._conflicts.setdefault(uscc, set()).add(ins.id)
        self._local = {k: _Pool(v, self.load) for k, v in local.items()}
        self._department = {k: _Pool(v, self.load) for k, v in department.items()}

    def inspector(self, inspector_id: str) -> Inspector:
        return self._by_id[inspector_id]

    def tags_of(self, inspector_id: str) -> frozenset[str]:
        """An inspector's tags; none for an id this pool does not know."""
        ins = self._by_id.get(inspector_id)
        return ins.tags if ins is not None else frozenset()

    def conflicted_with(self, uscc: str) -> set[str]:
        return self._conflicts.get(uscc, set())

    def _first(
        self, pool: _Pool, start: int, needed: frozenset[str], excluded: int
    ) -> tuple[int, int, int] | None:
        """(member index, tag score, load) of the pool's best member not excluded, or None."""
        eligible = pool.everyone & ~excluded
        if not eligible:
            return None
        levels = pool.levels
        for least in sorted(levels):  # a handful of loads: the pool stays within a band
            if levels[least] & eligible:
                break
        for score, group in pool.partition(needed):
            group &= eligible
            for load in range(least, least + self.load_slack + 1):
                members = levels.get(load, 0) & group
                if members:
                    return _first_from(members, start), score, load
        raise AssertionError("the least-loaded eligible inspector belongs to some class")

    def pick(
        self,
        *,
        department: str,
        district: str,
        offset: int,
        needed: frozenset[str],
        exclude: set[str],
        previous: frozenset[str] = frozenset(),
    ) -> Pick | None:
        """The best inspector for one seat (precedence in the module docstring), or None."""
        tiers = (
            (self._local.get((department, district)), False),
            (self._department.get(department), True),
        )
        dept = self._department_of
        hard_ids = [i for i in exclude if dept.get(i) == department]
        previous_ids = [i for i in previous if dept.get(i) == department]
        for pool, wider in tiers:
            if pool is None:
                continue
            hard = pool.mask(hard_ids)
            rotated = hard | pool.mask(previous_ids)
            start = bisect_left(pool.positions, offset)
            for excluded in (rotated, hard) if rotated != hard else (hard,):
                found = self._first(pool, start, needed, excluded)
                if found is not None:
                    at, score, load = found
                    ins = pool.members[at]
                    return Pick(
                        inspector=ins,
                        wider_pool=wider and ins.district != district,
                        previous=ins.id in previous,
                        tag_score=score,
                        load=load,
                        rank=seat_rank(pool.positions[at], offset),
                    )
        return None

    def assign(self, inspector_id: str) -> None:
        """Count one more seat for the inspector: it moves up a load level in its pools."""
        load = self.load[inspector_id]
        ins = self._by_id[inspector_id]
        self._local[ins.department, ins.district].move(inspector_id, load)
        self._department[ins.department].move(inspector_id, load)
        self.load[inspector_id] = load + 1
