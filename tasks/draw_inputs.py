"""What a draw needs from the departments: the scoped population with grades, exclusions and
list flags; the item lists; the inspector pools with conflicts; previous inspectors.

Read through the adapters; any department that fails makes the whole gathering fail, so that
a draw is refused before anything is frozen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.postgres import Filter, Row
from adapters.registry import Registry
from domain.vocabulary import CreditGrade, CreditRecordKind, EntityKind
from planning.checklist import ChecklistItem
from planning.entity_draw import Candidate
from planning.inspector_pool import Inspector

SCAN_TIMEOUT = 120.0  # a whole population is one long statement, not a lookup
UNRATED_GRADE = CreditGrade.B  # entities the credit platform has not rated yet: average
INACTIVE = frozenset({"DEREGISTERED", "REVOKED"})


@dataclass(frozen=True, slots=True)
class Population:
    candidates: list[Candidate]
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
    scope: list[Filter],
    departments: Sequence[str],
    items: Sequence[ChecklistItem],
    exclusion_days: int | None,
    recent_hub: dict[str, date],
    today: date,
) -> Population:
    register = registry.register()
    rater = registry.holding("credit_rating")[0]
    lister = registry.holding("credit_record")[0]
    since = today - timedelta(days=exclusion_days) if exclusion_days else None
    inspecting = [registry.get(d) for d in departments if registry.get(d).supports("inspection")]
    listed_kinds = [
        CreditRecordKind.ABNORMAL_OPERATION.value,
        CreditRecordKind.SERIOUS_VIOLATION.value,
    ]

    async def recent() -> list[list[tuple]]:
        if since is None:
            return []
        return list(
            await asyncio.gather(
                *(
                    s.scan(
                        "inspection",
                        [Filter("inspected_on", "gte", since)],
                        ["uscc", "inspected_on"],
                        timeout=SCAN_TIMEOUT,
                    )
                    for s in inspecting
                )
            )
        )

    entities, ratings, listed, inspected = await asyncio.gather(
        register.scan(
            "entity", scope, ["uscc", "status", "kind", "industry"], timeout=SCAN_TIMEOUT
        ),
        rater.scan("credit_rating", [], ["uscc", "grade"], timeout=SCAN_TIMEOUT),
        lister.scan(
            "credit_record",
            [Filter("kind", "in", listed_kinds)],
            ["uscc", "decided_on", "effective_to", "withdrawn_on"],
            timeout=SCAN_TIMEOUT,
        ),
        recent(),
    )
    grades = dict(ratings)
    abnormal = {
        u
        for u, start, end, withdrawn in listed
        if (start is None or start <= today)
        and (end is None or end >= today)
        and (withdrawn is None or withdrawn > today)
    }
    last: dict[str, date] = {}
    for rows in inspected:
        for u, d in rows:
            if d is not None and (u not in last or d > last[u]):
                last[u] = d
    for u, d in recent_hub.items():
        if since is not None and d >= since and (u not in last or d > last[u]):
            last[u] = d
    applicable: dict[tuple[str, str], bool] = {}
    candidates = []
    skipped = 0
    for uscc, status, kind, industry in entities:
        key = (kind, industry)
        if key not in applicable:
            applicable[key] = kind is not None and _applies(items, kind, industry)
        if not applicable[key]:
            skipped += 1
            continue
        candidates.append(
            Candidate(
                uscc=uscc,
                grade=CreditGrade(grades.get(uscc, UNRATED_GRADE)),
                status_active=status not in INACTIVE,
                last_inspected=last.get(uscc),
                abnormal=uscc in abnormal,
            )
        )
    return Population(candidates, skipped)


@dataclass(frozen=True, slots=True)
class TeamInputs:
    entities: dict[str, Row]  # register rows of the drawn entities
    inspectors: list[Inspector]
    previous: dict[str, frozenset[str]]  # uscc -> inspectors of its latest inspection(s)


async def team_inputs(
    registry: Registry, departments: Sequence[str], drawn: Sequence[str]
) -> TeamInputs:
    register = registry.register()
    sources = [registry.get(d) for d in departments]
    results = await asyncio.gather(
        register.by_keys("entity", drawn),
        *(s.all("inspector") for s in sources),
        *(s.by_keys("conflict", drawn) for s in sources),
        *(s.by_keys("inspection", drawn) for s in sources if s.supports("inspection")),
    )
    entities = {u: rows[0] for u, rows in results[0].items() if rows}
    n = len(sources)
    pools, conflicts, histories = (
        results[1 : 1 + n],
        results[1 + n : 1 + 2 * n],
        results[1 + 2 * n :],
    )
    conflicted: dict[tuple[str, str], set[str]] = {}
    for source, grouped in zip(sources, conflicts, strict=True):
        for uscc, rows in grouped.items():
            for r in rows:
                conflicted.setdefault((source.code, r["inspector_id"]), set()).add(uscc)
    inspectors = [
        Inspector(
            id=r["id"],
            department=r["department"],
            name=r["name"],
            certificate=r["certificate"],
            tags=frozenset(r["tags"] or ()),
            district=r["district"],
            available=bool(r["available"]),
            conflicts=frozenset(conflicted.get((r["department"], r["id"]), ())),
        )
        for pool in pools
        for r in pool
    ]
    previous: dict[str, frozenset[str]] = {}
    for grouped in histories:
        for uscc, rows in grouped.items():
            dated = [r for r in rows if r["inspected_on"] is not None]
            if dated:
                latest = max(dated, key=lambda r: r["inspected_on"])
                previous[uscc] = previous.get(uscc, frozenset()) | frozenset(
                    latest["inspector_ids"] or ()
                )
    return TeamInputs(entities, inspectors, previous)
