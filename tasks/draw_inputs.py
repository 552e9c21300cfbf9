"""What a draw reads before it computes: the scoped population with grades, exclusions and
list flags; the item lists; for the drawn entities, their register rows, the inspector pools
with conflicts, and who inspected them last.

Read through the adapters and the hub store's pool, never inside a transaction; any
department that fails makes the whole gathering fail, so that a draw is refused before
anything is frozen. The draw command and the census read the population through the same
function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import numpy as np

from adapters.http_source import HttpSource
from adapters.postgres import Filter, PostgresSource, Row
from adapters.registry import Registry
from domain.vocabulary import CreditGrade, CreditRecordKind, EntityKind
from planning.checklist import ChecklistItem
from planning.draw import Place, TeamInputs
from planning.entity_draw import SamplingPlan
from planning.inspector_pool import Inspector
from planning.population import CODE, USCC_LENGTH, Population
from planning.rotation import Inspection, previous_inspectors
from resolvers.entities import EntityQuery
from store import tasks as store

Source = PostgresSource | HttpSource
SCAN_TIMEOUT = 120.0  # a whole population is one long statement, not a lookup
UNRATED_GRADE = CreditGrade.B  # entities the credit platform has not rated yet: average
INACTIVE = frozenset({"DEREGISTERED", "REVOKED"})
LISTED_KINDS = (CreditRecordKind.ABNORMAL_OPERATION.value, CreditRecordKind.SERIOUS_VIOLATION.value)


@dataclass(frozen=True, slots=True)
class Scoped:
    population: Population
    out_of_scope_items: int  # in the filter, but no participating department has an item


def item_from_row(row: Row) -> ChecklistItem:
    return ChecklistItem(
        department=row["department"],
        code=row["code"],
        name=row["name"],
        legal_basis=row["legal_basis"],
        kinds=frozenset(EntityKind(k) for k in row["kinds"] or ()),
        industries=frozenset(row["industries"] or ()),
        standard_code=row["standard_code"],
        delegable=bool(row["delegable"]),
        tags=frozenset(row["tags"] or ()),
    )


async def checklist_items(registry: Registry, departments: Sequence[str]) -> list[ChecklistItem]:
    rows = await asyncio.gather(*(registry.get(d).all("checklist_item") for d in departments))
    return [item_from_row(r) for batch in rows for r in batch]


def _applies(items: Sequence[ChecklistItem], kind: str, industry: str) -> bool:
    k = EntityKind(kind)
    return any(i.applies_to(k, industry) for i in items)


async def population(
    registry: Registry,
    hub: asyncpg.Pool,
    scope: EntityQuery,
    departments: Sequence[str],
    items: Sequence[ChecklistItem],
    plan: SamplingPlan,
    today: date,
) -> Scoped:
    """The entities in scope that some department has an item for, with what the entity
    draw needs of each (grade, active, listed today, last inspected within the window by a
    department of the task or by a joint visit)."""
    register = registry.register()
    rater = registry.holding("credit_rating")[0]
    lister = registry.holding("credit_record")[0]
    since = today - timedelta(days=plan.exclusion_days) if plan.exclusion_days else None
    inspecting = [registry.get(d) for d in departments if registry.get(d).supports("inspection")]

    async def recent() -> list[list[tuple]]:
        if since is None:
            return []
        own = [
            s.scan(
                "inspection",
                [Filter("inspected_on", "gte", since)],
                ["uscc", "inspected_on"],
                timeout=SCAN_TIMEOUT,
            )
            for s in inspecting
        ]
        joint = store.recently_concluded(hub, since)
        *rows, hub_rows = await asyncio.gather(*own, joint)
        return [*rows, list(hub_rows.items())]

    (usccs, statuses, kinds, industries), (rated, grades), listed, inspected = await asyncio.gather(
        _columns_of(
            register, "entity", scope.register_filters(), ("uscc", "status", "kind", "industry")
        ),
        _columns_of(rater, "credit_rating", [], ("uscc", "grade")),
        lister.scan(
            "credit_record",
            [Filter("kind", "in", list(LISTED_KINDS))],
            ["uscc", "decided_on", "effective_to", "withdrawn_on"],
            timeout=SCAN_TIMEOUT,
        ),
        recent(),
    )
    shapes = list(zip(kinds, industries, strict=True))
    applies = {k: k[0] is not None and _applies(items, *k) for k in set(shapes)}
    keep = np.fromiter(map(applies.__getitem__, shapes), dtype=bool, count=len(shapes))
    codes = _codes(usccs)[keep]
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    active = np.fromiter((s not in INACTIVE for s in statuses), dtype=bool, count=len(statuses))
    last = np.zeros(len(codes), dtype=np.int32)
    seen: dict[str, date] = {}
    for rows in inspected:
        for u, d in rows:
            if d is not None and (u not in seen or d > seen[u]):
                seen[u] = d
    at, hit = _lookup(codes, _codes(list(seen)))
    last[at[hit]] = np.array([d.toordinal() for d in seen.values()], dtype=np.int32)[hit]
    now_listed = [
        u
        for u, start, end, withdrawn in listed
        if (start is None or start <= today)
        and (end is None or end >= today)
        and (withdrawn is None or withdrawn > today)
    ]
    pop = Population(
        codes,
        _grades(codes, rated, grades),
        active[keep][order],
        np.isin(codes, _codes(now_listed)),
        last,
    )
    if scope.grades:  # grades live at the credit platform: narrow after the join
        pop = pop.of_grades(scope.grades)
    return Scoped(pop, int(np.count_nonzero(~keep)))


def _codes(usccs: Sequence[str]) -> np.ndarray:
    joined = "".join(usccs).encode("ascii")
    if len(joined) != USCC_LENGTH * len(usccs):
        raise ValueError("a USCC of the register is not 18 characters")
    return np.frombuffer(joined, dtype=CODE)


def _lookup(sorted_codes: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``wanted`` is in ``sorted_codes``, and whether it is there at all."""
    if not len(sorted_codes):
        return np.zeros(len(wanted), dtype=np.intp), np.zeros(len(wanted), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_codes, wanted), len(sorted_codes) - 1)
    return at, sorted_codes[at] == wanted


def _grades(codes: np.ndarray, rated: Sequence[str], grades: Sequence[str | None]) -> np.ndarray:
    """Each entity's grade at the credit platform; an entity not rated yet: UNRATED_GRADE."""
    unrated = UNRATED_GRADE.value
    out = np.full(len(codes), unrated.encode(), dtype="S1")
    ranked = _codes(rated)
    order = np.argsort(ranked, kind="stable")
    given = np.array([(g or unrated).encode() for g in grades], dtype="S1")[order]
    at, hit = _lookup(ranked[order], codes)
    out[hit] = given[at[hit]]
    return out


async def _columns_of(
    source: Source, kind: str, filters: Sequence[Filter], fields: Sequence[str]
) -> list[list[Any]]:
    """Fields of every matching record, one list per field: a database source joins each
    column in one statement; an API answers rows."""
    if source.kind == "postgres":
        return await source.columns(kind, filters, fields, SCAN_TIMEOUT)
    rows = await source.scan(kind, filters, fields, timeout=SCAN_TIMEOUT)
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in fields]


async def _rows_of(
    source: Source, kind: str, keys: Sequence[str] | None, fields: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Selected fields of the records of these entities (of all records: ``keys`` None): a
    database source answers in one statement within the draw's time budget (tens of
    thousands of keys, or a whole inspector pool), an API in its own batches."""
    if source.kind == "postgres":
        filters = [] if keys is None else [Filter("uscc", "in", list(keys))]
        return await source.scan(kind, filters, fields, SCAN_TIMEOUT)
    if keys is None:
        return [tuple(r[f] for f in fields) for r in await source.all(kind)]
    grouped = await source.by_keys(kind, keys)
    return [tuple(r[f] for f in fields) for rows in grouped.values() for r in rows]


INSPECTOR_FIELDS = ("id", "name", "certificate", "tags", "district", "available")


@dataclass(frozen=True, slots=True)
class TeamReads:
    inputs: TeamInputs
    names: dict[str, str | None]  # entity names for the visit list


async def team_inputs(
    registry: Registry, hub: asyncpg.Pool, departments: Sequence[str], drawn: Sequence[str]
) -> TeamReads:
    """The drawn entities' register rows, the departments' inspector pools with their
    declared conflicts, and the earlier inspections of the drawn entities: the departments'
    own records and the hub's joint visits (``planning.rotation``)."""
    register = registry.register()
    sources = [registry.get(d) for d in departments]
    recording = [s for s in sources if s.supports("inspection")]
    joint, entities, *results = await asyncio.gather(
        store.joint_inspections(hub, drawn),
        _rows_of(register, "entity", drawn, ("uscc", "name", "kind", "industry", "district")),
        *(_rows_of(s, "inspector", None, INSPECTOR_FIELDS) for s in sources),
        *(_rows_of(s, "conflict", drawn, ("uscc", "inspector_id")) for s in sources),
        *(
            _rows_of(s, "inspection", drawn, ("uscc", "inspected_on", "inspector_ids"))
            for s in recording
        ),
    )
    n = len(sources)
    pools, conflicts, histories = results[:n], results[n : 2 * n], results[2 * n :]
    conflicted: dict[tuple[str, str], set[str]] = {}
    for source, rows in zip(sources, conflicts, strict=True):
        for uscc, inspector_id in rows:
            conflicted.setdefault((source.code, inspector_id), set()).add(uscc)
    inspectors = [
        Inspector(
            id=ident,
            department=source.code,
            name=name,
            certificate=certificate,
            tags=frozenset(tags or ()),
            district=district,
            available=bool(available),
            conflicts=frozenset(conflicted.get((source.code, ident), ())),
        )
        for source, pool in zip(sources, pools, strict=True)
        for ident, name, certificate, tags, district, available in pool
    ]
    earlier = [
        Inspection(uscc, source.code, on, frozenset(ids or ()))
        for source, rows in zip(recording, histories, strict=True)
        for uscc, on, ids in rows
        if on is not None
    ]
    earlier += [Inspection(u, d, on, frozenset(ids)) for u, d, on, ids in joint]
    previous = previous_inspectors(earlier)
    places = {u: Place(kind, industry, district) for u, _, kind, industry, district in entities}
    names = {u: name for u, name, *_ in entities}
    return TeamReads(TeamInputs(places, inspectors, previous), names)
