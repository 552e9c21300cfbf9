"""The merged checklist as stored data (JSON-ready dicts) and back, losslessly."""

from __future__ import annotations

from typing import Any

from planning.checklist import MergedChecklist, MergedEntry, Requirement


def form_to_data(form: MergedChecklist) -> dict[str, Any]:
    return {
        "rawCount": form.raw_count,
        "mergedCount": form.merged_count,
        "entries": [
            {
                "key": e.key,
                "name": e.name,
                "standardCode": e.standard_code,
                "tags": sorted(e.tags),
                "delegable": e.delegable,
                "requirements": [
                    {
                        "department": r.department,
                        "itemCode": r.item_code,
                        "itemName": r.item_name,
                        "legalBasis": r.legal_basis,
                        "delegable": r.delegable,
                        "tags": sorted(r.tags),
                    }
                    for r in e.requirements
                ],
            }
            for e in form.entries
        ],
    }


def form_from_data(data: dict[str, Any]) -> MergedChecklist:
    entries = tuple(
        MergedEntry(
            key=e["key"],
            name=e["name"],
            standard_code=e["standardCode"],
            tags=frozenset(e["tags"]),
            delegable=e["delegable"],
            requirements=tuple(
                Requirement(
                    department=r["department"],
                    item_code=r["itemCode"],
                    item_name=r["itemName"],
                    legal_basis=r["legalBasis"],
                    delegable=r["delegable"],
                    tags=frozenset(r["tags"]),
                )
                for r in e["requirements"]
            ),
        )
        for e in data["entries"]
    )
    return MergedChecklist(entries, data["rawCount"], data["mergedCount"])
