"""Rotation: who inspected an entity last time, so that the team draw can rotate away from them.

"Last time" is any inspection of the entity known to the hub (domain/rules.md, drawing
inspectors): the departments' own inspection records and the hub's own joint visits — the team
as it went, substitutes included. It is taken per department: for each department, the latest
inspection it took part in; its inspectors are the previous ones for that department's seats
(``inspector_pool`` applies rotation within a department). Inspections on the same latest
date all count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Inspection:
    """One earlier inspection of an entity, as far as rotation cares."""

    uscc: str
    department: str
    on: date
    inspector_ids: frozenset[str]


def previous_inspectors(inspections: Iterable[Inspection]) -> dict[str, frozenset[str]]:
    """Entity -> the inspectors of its latest inspection for every department that has one."""
    latest: dict[tuple[str, str], tuple[date, frozenset[str]]] = {}
    for i in inspections:
        key = (i.uscc, i.department)
        seen = latest.get(key)
        if seen is None or i.on > seen[0]:
            latest[key] = (i.on, i.inspector_ids)
        elif i.on == seen[0]:
            latest[key] = (i.on, seen[1] | i.inspector_ids)
    out: dict[str, frozenset[str]] = {}
    for (uscc, _), (_, ids) in latest.items():
        out[uscc] = out.get(uscc, frozenset()) | ids
    return {u: ids for u, ids in out.items() if ids}
