"""Entity draw: which market entities a task inspects (the first "random").

The eligible population is stratified by credit grade and by whether the entity is on the
abnormal-operation or serious-violation list. Each stratum gets a quota from the plan's
ratio; the quota is then raised to the plan's floor or cut to its cap (``allocate``); each
stratum draws the entities with the lowest keyed-hash rank (``ranking.rank_key``).

Because the outcome depends only on the seed and on which entities are eligible, never on
input order, a large population can be drawn in pieces: each source counts its strata
(``census``), the counts are added up and allocated, each source returns its lowest-ranked
candidates per stratum (``draw_shard``), and ``merge_top_k`` merges them into exactly the
draw a single pass over the union would make (``draw_entities``).

Plan choices, documented here because the rules leave them to the task:

* ``floor`` is a minimum for the task's **total**, not per stratum. Missing entities are
  added in priority order (below) from strata with a positive ratio; a stratum whose ratio
  is zero (e.g. risk class A: no proactive checks) is never used to reach a floor.
* ``cap`` is a hard maximum for the total. ``CapPolicy.RISK_FIRST`` (default) fills strata
  in priority order, so higher-risk strata keep their whole quota and the cut falls on the
  lowest-risk ones; ``CapPolicy.PROPORTIONAL`` scales every quota by the same factor
  (largest remainder, ties to the higher-risk stratum).
* Priority: listed (abnormal) strata first, D, C, B, A; then the unlisted ones, D, C, B, A.
  A listed entity "must be sampled more heavily": its ratio is the grade's ratio times
  ``abnormal_multiplier`` (at most 1), or 1 with ``always_include_abnormal``.
* Recent inspection: with ``exclusion_days = n``, an entity last inspected after
  ``today - n days`` is excluded; one inspected exactly n days ago is eligible again.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from domain.vocabulary import CreditGrade
from planning.population import Candidate, Population
from planning.ranking import KeyedHash, seed_commitment

RISK_ORDER = (CreditGrade.D, CreditGrade.C, CreditGrade.B, CreditGrade.A)


class Stratum(NamedTuple):
    # A NamedTuple rather than a dataclass: the draw looks strata up a million times with
    # plain (grade, abnormal) tuples, which hash and compare equal to these.
    grade: CreditGrade
    abnormal: bool


# Every stratum, highest priority first (see the module docstring).
STRATA = tuple(Stratum(g, True) for g in RISK_ORDER) + tuple(Stratum(g, False) for g in RISK_ORDER)


class ExclusionReason(StrEnum):
    INACTIVE = "INACTIVE"  # deregistered, revoked (or otherwise not active)
    RECENTLY_INSPECTED = "RECENTLY_INSPECTED"


class CapPolicy(StrEnum):
    RISK_FIRST = "RISK_FIRST"
    PROPORTIONAL = "PROPORTIONAL"


Ratio = Decimal | float | int | str | Fraction


def exact_ratio(value: Ratio) -> Fraction:
    """Read a ratio exactly; a float is read as the decimal it prints as, so that 0.1 of
    1,000 entities is 100 and not 101."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Fraction(value)


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """The task's rule of the entity draw (一细则). A grade absent from ``ratio_by_grade``
    has ratio 0: none of its (unlisted) entities are drawn."""

    ratio_by_grade: Mapping[CreditGrade, Ratio]
    floor: int = 0
    cap: int | None = None
    exclusion_days: int | None = None
    abnormal_multiplier: Ratio = 2
    always_include_abnormal: bool = False
    cap_policy: CapPolicy = CapPolicy.RISK_FIRST

    def __post_init__(self) -> None:
        # A private read-only copy: the caller's dict changing later cannot change the plan.
        object.__setattr__(self, "ratio_by_grade", MappingProxyType(dict(self.ratio_by_grade)))
        for grade, value in self.ratio_by_grade.items():
            if grade not in RISK_ORDER:
                raise ValueError(f"unknown credit grade {grade!r}")
            if not 0 <= exact_ratio(value) <= 1:
                raise ValueError(f"ratio for grade {grade} must lie in [0, 1], got {value}")
        if self.floor < 0:
            raise ValueError("floor must not be negative")
        if self.cap is not None and self.cap < self.floor:
            raise ValueError(f"cap {self.cap} is below floor {self.floor}")
        if self.exclusion_days is not None and self.exclusion_days < 0:
            raise ValueError("exclusion_days must not be negative")
        if exact_ratio(self.abnormal_multiplier) < 1:
            raise ValueError(
                "abnormal_multiplier must be at least 1 (listed entities are "
                "sampled more heavily, never less)"
            )

    def ratio(self, stratum: Stratum) -> Fraction:
        base = exact_ratio(self.ratio_by_grade.get(stratum.grade, 0))
        if not stratum.abnormal:
            return base
        if self.always_include_abnormal:
            return Fraction(1)
        return min(Fraction(1), base * exact_ratio(self.abnormal_multiplier))

    def cutoff(self, today: date) -> date | None:
        """Entities last inspected after this date are excluded (None: no window)."""
        if self.exclusion_days is None:
            return None
        return today - timedelta(days=self.exclusion_days)


def allocate(plan: SamplingPlan, population: Mapping[Stratum, int]) -> dict[Stratum, int]:
    """How many entities each stratum draws, given the eligible count of each stratum.

    Quota = ceil(ratio × stratum size), then floor and cap as in the module docstring.
    """
    size = {s: population.get(s, 0) for s in STRATA}
    ratio = {s: plan.ratio(s) for s in STRATA}
    take = {s: math.ceil(ratio[s] * size[s]) for s in STRATA}

    missing = plan.floor - sum(take.values())
    for s in STRATA:
        if missing <= 0:
            break
        if ratio[s] > 0:
            extra = min(size[s] - take[s], missing)
            take[s] += extra
            missing -= extra

    total = sum(take.values())
    if plan.cap is not None and total > plan.cap:
        if plan.cap_policy == CapPolicy.RISK_FIRST:
            room = plan.cap
            for s in STRATA:
                take[s] = min(take[s], room)
                room -= take[s]
        else:
            scaled = {s: Fraction(take[s] * plan.cap, total) for s in STRATA}
            take = {s: math.floor(v) for s, v in scaled.items()}
            short = plan.cap - sum(take.values())
            by_remainder = sorted(STRATA, key=lambda s: -(scaled[s] - take[s]))  # stable sort
            for s in by_remainder[:short]:
                take[s] += 1
    return take


@dataclass(frozen=True, slots=True)
class DrawnEntity:
    uscc: str
    grade: CreditGrade
    abnormal: bool
    rank_hex: str  # HMAC-SHA256(seed, uscc) in hex: anyone with the seed can check it


@dataclass(frozen=True, slots=True)
class Census:
    """What a source reports before the draw: eligible counts and exclusions."""

    population: dict[Stratum, int]
    excluded: dict[ExclusionReason, int]


@dataclass(frozen=True, slots=True)
class EntityDraw:
    """The frozen drawn list (ascending rank) with the counts that explain it."""

    drawn: tuple[DrawnEntity, ...]
    population: dict[Stratum, int]  # eligible entities per stratum
    allocation: dict[Stratum, int]  # drawn per stratum
    excluded: dict[ExclusionReason, int]
    seed_commitment: str

    @property
    def population_by_grade(self) -> dict[CreditGrade, int]:
        return _by_grade(self.population)

    @property
    def drawn_by_grade(self) -> dict[CreditGrade, int]:
        return _by_grade(self.allocation)


@dataclass(frozen=True, slots=True)
class ShardDraw:
    """One source's part of a pushed-down draw: its census and, per stratum, its
    lowest-ranked candidates in ascending order (at least as many as the stratum's global
    allocation, or all it has)."""

    census: Census
    ranked: dict[Stratum, tuple[DrawnEntity, ...]]
    seed_commitment: str


def _by_grade(counts: Mapping[Stratum, int]) -> dict[CreditGrade, int]:
    out = dict.fromkeys(RISK_ORDER, 0)
    for s, n in counts.items():
        out[s.grade] += n
    return out


Entities = Population | Iterable[Candidate]


def _columns(entities: Entities) -> Population:
    return entities if isinstance(entities, Population) else Population.of(entities)


def census(entities: Entities, plan: SamplingPlan, today: date) -> Census:
    """Count eligible entities per stratum (phase one of a pushed-down draw, and the census a
    planner sees before saving a task)."""
    pop = _columns(entities)
    eligible, excluded = _eligible(pop, plan, today)
    population = {s: int(np.count_nonzero(_in(pop, s) & eligible)) for s in STRATA}
    return Census(population, excluded)


def _in(pop: Population, s: Stratum) -> np.ndarray:
    return (pop.grades == s.grade.value.encode()) & (pop.listed == s.abnormal)


def _eligible(
    pop: Population, plan: SamplingPlan, today: date
) -> tuple[np.ndarray, dict[ExclusionReason, int]]:
    """Who may be drawn, and how many are left out for each reason. An inactive entity counts
    as inactive even when it was also inspected recently."""
    inactive = ~pop.active
    cutoff = plan.cutoff(today)
    recent = np.zeros(len(pop), dtype=bool)
    if cutoff is not None:
        recent = pop.active & (pop.last > cutoff.toordinal())
    excluded = {
        ExclusionReason.INACTIVE: int(np.count_nonzero(inactive)),
        ExclusionReason.RECENTLY_INSPECTED: int(np.count_nonzero(recent)),
    }
    return ~(inactive | recent), excluded


def _rank_population(
    entities: Entities, plan: SamplingPlan, seed: bytes, today: date
) -> tuple[dict[Stratum, list[bytes]], Census]:
    """Filter, rank and bucket. Each bucket holds ``rank || uscc`` byte strings, which sort
    by rank (fixed 32 bytes) and then by code, and cost one object each."""
    pop = _columns(entities)
    eligible, excluded = _eligible(pop, plan, today)
    inner, outer = KeyedHash(seed).copiers()
    buckets: dict[Stratum, list[bytes]] = {}
    for s in STRATA:
        bucket: list[bytes] = []
        append = bucket.append
        # The hot loop of the whole package: HMAC inlined, nothing per entity but hashing.
        for code in pop.codes[_in(pop, s) & eligible].tolist():
            h = inner()
            h.update(code)
            o = outer()
            o.update(h.digest())
            append(o.digest() + code)
        buckets[s] = bucket
    return buckets, Census({s: len(b) for s, b in buckets.items()}, excluded)


def _lowest(keys: list[bytes], k: int) -> list[bytes]:
    """The k smallest keys, ascending.

    Ranks are uniform, so the k-th smallest lies near the fraction k/n of the range: a
    prefilter with a threshold six standard deviations above that keeps only a little more
    than k keys, and sorting those is far cheaper than a heap over all n. If the threshold
    ever falls short (odds below one in a billion) the full sort gives the same answer.
    """
    n = len(keys)
    if k <= 0 or n == 0:
        return []
    fraction = (k + 6 * math.sqrt(k) + 16) / n
    if fraction >= 0.25:
        return sorted(keys)[:k]
    threshold = int(fraction * (1 << 64)).to_bytes(8)
    small = [key for key in keys if key < threshold]
    if len(small) < k:
        small = keys[:]
    small.sort()
    return small[:k]


def _entity(stratum: Stratum, key: bytes) -> DrawnEntity:
    return DrawnEntity(key[32:].decode(), stratum.grade, stratum.abnormal, key[:32].hex())


def draw_entities(entities: Entities, plan: SamplingPlan, seed: bytes, today: date) -> EntityDraw:
    """Draw the task's entities from the whole population in one pass.

    The result depends on the seed and the set of entities only; the USCCs must be unique
    (the pool is keyed by them), and a code drawn twice is refused.
    """
    buckets, counted = _rank_population(entities, plan, seed, today)
    allocation = allocate(plan, counted.population)
    chosen: list[tuple[bytes, DrawnEntity]] = []
    for s in STRATA:
        chosen.extend((key, _entity(s, key)) for key in _lowest(buckets[s], allocation[s]))
    chosen.sort(key=lambda pair: pair[0])
    return _finish(chosen, counted, allocation, seed_commitment(seed))


def draw_shard(
    entities: Entities,
    plan: SamplingPlan,
    seed: bytes,
    today: date,
    limits: Mapping[Stratum, int],
) -> ShardDraw:
    """Phase two of a pushed-down draw on one source: its lowest ``limits[s]`` candidates
    per stratum, where ``limits = allocate(plan, summed census populations)``."""
    buckets, counted = _rank_population(entities, plan, seed, today)
    ranked = {
        s: tuple(_entity(s, key) for key in _lowest(buckets[s], limits.get(s, 0))) for s in STRATA
    }
    return ShardDraw(counted, ranked, seed_commitment(seed))


def merge_top_k(shards: Iterable[ShardDraw], plan: SamplingPlan) -> EntityDraw:
    """Merge per-source partial draws into the draw over their union.

    Each stratum takes its global allocation from the merged ascending streams. A shard
    that returned fewer candidates than it has and fewer than the allocation would hide
    someone who should be drawn, so it is refused rather than merged.
    """
    shards = list(shards)
    if not shards:
        raise ValueError("no shards to merge")
    commitments = {sh.seed_commitment for sh in shards}
    if len(commitments) != 1:
        raise ValueError("shards were drawn with different seeds")
    population = dict.fromkeys(STRATA, 0)
    inactive = recent = 0
    for sh in shards:
        for s, n in sh.census.population.items():
            population[s] += n
        inactive += sh.census.excluded.get(ExclusionReason.INACTIVE, 0)
        recent += sh.census.excluded.get(ExclusionReason.RECENTLY_INSPECTED, 0)
    allocation = allocate(plan, population)

    chosen: list[tuple[bytes, DrawnEntity]] = []
    for s in STRATA:
        k = allocation[s]
        for i, sh in enumerate(shards):
            have = len(sh.ranked.get(s, ()))
            if have < min(k, sh.census.population.get(s, 0)):
                raise ValueError(
                    f"shard {i} returned {have} candidates for {s.grade}/"
                    f"{'listed' if s.abnormal else 'unlisted'}, needs {k}"
                )
        streams = [sh.ranked.get(s, ()) for sh in shards]
        merged = heapq.merge(*streams, key=lambda e: (e.rank_hex, e.uscc))
        for _, e in zip(range(k), merged, strict=False):
            chosen.append((bytes.fromhex(e.rank_hex) + e.uscc.encode(), e))
    chosen.sort(key=lambda pair: pair[0])
    excluded = {ExclusionReason.INACTIVE: inactive, ExclusionReason.RECENTLY_INSPECTED: recent}
    return _finish(chosen, Census(population, excluded), allocation, commitments.pop())


def _finish(
    chosen: list[tuple[bytes, DrawnEntity]],
    counted: Census,
    allocation: dict[Stratum, int],
    commitment: str,
) -> EntityDraw:
    drawn = tuple(e for _, e in chosen)
    if len({e.uscc for e in drawn}) != len(drawn):
        raise ValueError("an entity would be drawn twice: the population repeats a USCC")
    return EntityDraw(drawn, counted.population, allocation, counted.excluded, commitment)
