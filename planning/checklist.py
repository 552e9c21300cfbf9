"""Checklist merge: the departments' item lists become one form for one visit.

Items that mean the same thing in several departments carry the same standard code and are
checked once; the merged entry keeps one requirement per requiring department, each with its
own item code and legal basis, so the one result can be routed back to every department that
asked for it (``results.route_outcomes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.vocabulary import EntityKind


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of a department's random-inspection list (一单).

    ``kinds`` and ``industries`` say which entities the item applies to; an empty set means
    all of them. ``industries`` holds industry section letters (GB/T 4754, e.g. "H").
    """

    department: str
    code: str
    name: str
    legal_basis: str
    kinds: frozenset[EntityKind] = frozenset()
    industries: frozenset[str] = frozenset()
    standard_code: str | None = None
    delegable: bool = False
    tags: frozenset[str] = frozenset()

    def applies_to(self, kind: EntityKind, industry: str) -> bool:
        return (not self.kinds or kind in self.kinds) and (
            not self.industries or industry in self.industries
        )


@dataclass(frozen=True, slots=True)
class Requirement:
    """One department's claim on a merged entry, in that department's own terms."""

    department: str
    item_code: str
    item_name: str
    legal_basis: str
    delegable: bool
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MergedEntry:
    """One line of the joint form: checked once, its result routed to each requirement.

    ``key`` is the standard code, or ``"{department}:{code}"`` for an item no other
    department can share. ``delegable`` is True only when every requiring department lets
    another department's inspector check it (cross-authorised inspection).
    """

    key: str
    name: str
    standard_code: str | None
    tags: frozenset[str]
    delegable: bool
    requirements: tuple[Requirement, ...]

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(sorted({r.department for r in self.requirements}))

    @property
    def shared(self) -> bool:
        return len(self.departments) > 1


@dataclass(frozen=True, slots=True)
class MergedChecklist:
    """The joint form: entries in a fixed order (standard-coded first by code, then each
    department's own items by department and code), whatever order the items came in.

    The summaries below are computed once: a task shares one form among thousands of
    visits and the team draw asks for them at every seat.
    """

    entries: tuple[MergedEntry, ...]
    raw_count: int  # applicable items before merging
    merged_count: int  # entries on the form
    departments: tuple[str, ...] = field(init=False, compare=False)
    non_delegable_departments: tuple[str, ...] = field(init=False, compare=False)
    tags: frozenset[str] = field(init=False, compare=False)
    _by_key: dict[str, MergedEntry] = field(init=False, repr=False, compare=False)
    _tags_by_department: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        requirements = [r for e in self.entries for r in e.requirements]
        tags: dict[str, set[str]] = {}
        for r in requirements:
            tags.setdefault(r.department, set()).update(r.tags)
        summary = {
            # Every department with at least one requirement on the form.
            "departments": tuple(sorted(tags)),
            # Departments that must send an inspector of their own: one non-delegable item
            # is enough.
            "non_delegable_departments": tuple(
                sorted({r.department for r in requirements if not r.delegable})
            ),
            "tags": frozenset(t for e in self.entries for t in e.tags),
            "_by_key": {e.key: e for e in self.entries},
            "_tags_by_department": {d: frozenset(t) for d, t in tags.items()},
        }
        for name, value in summary.items():
            object.__setattr__(self, name, value)

    def entry(self, key: str) -> MergedEntry:
        return self._by_key[key]

    def tags_for(self, department: str) -> frozenset[str]:
        """The business tags of the items this department requires: what its inspector on
        the team should know."""
        return self._tags_by_department.get(department, frozenset())


def entry_key(item: ChecklistItem) -> str:
    return item.standard_code or f"{item.department}:{item.code}"


def merge_checklist(
    kind: EntityKind,
    industry: str,
    items: Iterable[ChecklistItem],
    *,
    standard_names: Mapping[str, str] | None = None,
) -> MergedChecklist:
    """Merge the participating departments' items into one form for one entity.

    Only items applying to the entity's kind and industry count. Items with the same standard
    code become one entry; each (department, item code) stays a requirement of its own, so a
    department that mapped two of its items onto one standard item gets the result under
    both codes. An entry's name is ``standard_names[code]`` when given, else the name of its
    first requirement. The same (department, code) given twice must be the same item
    (a repeated row is harmless, two different items under one code is an error).
    """
    standard_names = standard_names or {}
    unique: dict[tuple[str, str], ChecklistItem] = {}
    for item in items:
        if not item.applies_to(kind, industry):
            continue
        seen = unique.setdefault((item.department, item.code), item)
        if seen != item:
            raise ValueError(
                f"department {item.department!r} lists two different items under code {item.code!r}"
            )

    groups: dict[str, list[ChecklistItem]] = {}
    for item in unique.values():
        groups.setdefault(entry_key(item), []).append(item)

    entries = []
    for key, group in groups.items():
        group.sort(key=lambda i: (i.department, i.code))
        standard = group[0].standard_code
        requirements = tuple(
            Requirement(i.department, i.code, i.name, i.legal_basis, i.delegable, i.tags)
            for i in group
        )
        entries.append(
            MergedEntry(
                key=key,
                name=(standard_names.get(standard) if standard else None) or group[0].name,
                standard_code=standard,
                tags=frozenset().union(*(i.tags for i in group)),
                delegable=all(i.delegable for i in group),
                requirements=requirements,
            )
        )

    def order(e: MergedEntry) -> tuple[int, str, str]:
        if e.standard_code is not None:
            return (0, e.standard_code, "")
        only = e.requirements[0]
        return (1, only.department, only.item_code)

    entries.sort(key=order)
    return MergedChecklist(tuple(entries), raw_count=len(unique), merged_count=len(entries))
