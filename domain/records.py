"""The unified record kinds and their fields: what a department mapping may fill.

Adapters return plain dicts keyed by these field names; `department` is added by the adapter.
A mapping that names a field not listed here is rejected when it is loaded.
"""

from __future__ import annotations

from typing import Final

# record kind -> {field: value type}; value types are the adapter's transforms' outputs.
RECORD_FIELDS: Final[dict[str, dict[str, str]]] = {
    "entity": {
        "uscc": "text",
        "name": "text",
        "kind": "EntityKind",
        "district": "text",
        "industry": "text",
        "address": "text",
        "longitude": "float",
        "latitude": "float",
        "registered_on": "date",
        "status": "EntityStatus",
        "legal_representative": "text",
    },
    "permit": {
        "uscc": "text",
        "id": "text",
        "number": "text",
        "name": "text",
        "status": "PermitStatus",
        "valid_from": "date",
        "valid_to": "date",
        "commitment": "bool",
    },
    "penalty": {
        "uscc": "text",
        "id": "text",
        "decision_number": "text",
        "kind": "PenaltyKind",
        "fine": "money",
        "decided_on": "date",
        "violation": "text",
        "serious": "bool",
    },
    "inspection": {
        "uscc": "text",
        "id": "text",
        "inspected_on": "date",
        "result": "InspectionResult",
        "inspector_ids": "list",
    },
    "credit_record": {
        "uscc": "text",
        "id": "text",
        "kind": "CreditRecordKind",
        "title": "text",
        "source_department": "text",
        "decided_on": "date",
        "effective_to": "date",
        "withdrawn_on": "date",
        "deduction": "int",
        "repairs_id": "text",
        "publicity_class": "PublicityClass",
        "basis_id": "text",
    },
    "credit_rating": {"uscc": "text", "grade": "CreditGrade", "score": "int", "rated_on": "date"},
    "checklist_item": {
        "code": "text",
        "name": "text",
        "legal_basis": "text",
        "kinds": "list",
        "industries": "list",
        "standard_code": "text",
        "delegable": "bool",
        "tags": "list",
    },
    "inspector": {
        "id": "text",
        "name": "text",
        "certificate": "text",
        "tags": "list",
        "district": "text",
        "available": "bool",
    },
    "conflict": {"inspector_id": "text", "uscc": "text", "reason": "text"},
}
