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

Each pool is partitioned, per set of needed tags it has been asked for, into classes by tag
score; each class keeps its members by load with their ring positions sorted, so a seat costs
a few dictionary steps and binary searches instead of a pass over the pool.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from planning.ranking import KeyedHash, inspector_position, seat_rank

DEFAULT_LOAD_SLACK = 1
_NOTHING: frozenset[str] = frozenset()


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


class _Group:
    """Members of one class, by current load, ring positions sorted within each load."""

    __slots__ = ("levels",)

    def __init__(self) -> None:
        self.levels: dict[int, list[int]] = {}

    def add(self, position: int, load: int) -> None:
        insort(self.levels.setdefault(load, []), position)

    def move(self, position: int, load: int) -> None:
        level = self.levels[load]
        del level[bisect_left(level, position)]
        if not level:
            del self.levels[load]
        self.add(position, load + 1)

    def first(self, load: int, offset: int, excluded: set[int]) -> int | None:
        level = self.levels.get(load)
        return _next_on_ring(level, offset, excluded) if level else None


class _Pool:
    """One department's on-duty inspectors in one district, or in all districts."""

    __slots__ = ("members", "partitions")

    def __init__(self) -> None:
        self.members: list[Inspector] = []
        # needed tags -> classes (tag score, members) with the highest score first
        self.partitions: dict[frozenset[str], tuple[tuple[int, _Group], ...]] = {}


def _next_on_ring(level: list[int], offset: int, excluded: set[int]) -> int | None:
    """The first position at or after `offset` going round, skipping excluded ones."""
    n = len(level)
    start = bisect_left(level, offset)
    for step in range(n):
        p = level[(start + step) % n]
        if p not in excluded:
            return p
    return None


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
        self._position: dict[str, int] = {}
        self._at: dict[tuple[str, int], Inspector] = {}  # (department, position) -> inspector
        self._local: dict[tuple[str, str], _Pool] = {}
        self._department: dict[str, _Pool] = {}
        self._classes: dict[str, list[_Group]] = {}  # every class an inspector is a member of
        self._conflicts: dict[str, set[str]] = {}
        for ins in inspectors:
            if ins.id in self._by_id:
                raise ValueError(f"inspector {ins.id!r} appears twice in the pool")
            self._by_id[ins.id] = ins
            if not ins.available:
                continue
            position = inspector_position(hasher, ins.department, ins.id)
            self.load[ins.id] = loads.get(ins.id, 0)
            self._position[ins.id] = position
            self._at[ins.department, position] = ins
            self._classes[ins.id] = []
            self._local.setdefault((ins.department, ins.district), _Pool()).members.append(ins)
            self._department.setdefault(ins.department, _Pool()).members.append(ins)
            for uscc in ins.conflicts:
                self._conflicts.setdefault(uscc, set()).add(ins.id)

    def inspector(self, inspector_id: str) -> Inspector:
        return self._by_id[inspector_id]

    def tags_of(self, inspector_id: str) -> frozenset[str]:
        """An inspector's tags; none for an id this pool does not know."""
        ins = self._by_id.get(inspector_id)
        return ins.tags if ins is not None else frozenset()

    def conflicted_with(self, uscc: str) -> set[str]:
        return self._conflicts.get(uscc, set())

    def _partition(self, pool: _Pool, needed: frozenset[str]) -> tuple[tuple[int, _Group], ...]:
        """The pool's classes by tag score for these needed tags, made on first use (forms
        repeat across a task, so a pool is asked for few distinct tag sets)."""
        found = pool.partitions.get(needed)
        if found is None:
            classes: dict[int, _Group] = {}
            for ins in pool.members:
                score = len(needed & ins.tags)
                group = classes.get(score)
                if group is None:
                    group = classes[score] = _Group()
                group.add(self._position[ins.id], self.load[ins.id])
                self._classes[ins.id].append(group)
            found = pool.partitions[needed] = tuple(sorted(classes.items(), reverse=True))
        return found

    def _first(
        self, pool: _Pool, offset: int, needed: frozenset[str], excluded: set[int]
    ) -> tuple[int, int, int] | None:
        """(position, tag score, load) of the pool's best member not excluded, or None."""
        ((_, everyone),) = self._partition(pool, _NOTHING)
        for least in sorted(everyone.levels):
            if everyone.first(least, offset, excluded) is not None:
                break
        else:
            return None
        for score, group in self._partition(pool, needed):
            for load in range(least, least + self.load_slack + 1):
                position = group.first(load, offset, excluded)
                if position is not None:
                    return position, score, load
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
        hard = self._positions(department, exclude)
        rotated = hard | self._positions(department, previous)
        for pool, wider in tiers:
            if pool is None:
                continue
            passes = (rotated, hard) if len(rotated) > len(hard) else (hard,)
            for excluded in passes:
                found = self._first(pool, offset, needed, excluded)
                if found is not None:
                    position, score, load = found
                    ins = self._at[department, position]
                    return Pick(
                        inspector=ins,
                        wider_pool=wider and ins.district != district,
                        previous=ins.id in previous,
                        tag_score=score,
                        load=load,
                        rank=seat_rank(position, offset),
                    )
        return None

    def _positions(self, department: str, ids: Iterable[str]) -> set[int]:
        out = set()
        for i in ids:
            ins = self._by_id.get(i)
            if ins is not None and ins.department == department and i in self._position:
                out.add(self._position[i])
        return out

    def assign(self, inspector_id: str) -> None:
        """Count one more seat for the inspector: it moves up a load level in every class."""
        load = self.load[inspector_id]
        position = self._position[inspector_id]
        for group in self._classes[inspector_id]:
            group.move(position, load)
        self.load[inspector_id] = load + 1
