"""Who may read or do what, declared beside each field (`permission_classes=[…]`).

A denied field is null with an error `extensions.code = "FORBIDDEN"` and the rest of the
answer stays intact. The README's role × field table is walked by tests/test_authorization.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from domain.access import PUBLIC, ClientKind, Principal, Scope
from planning.results import Refusal, is_inspector, is_officer, is_reviewer

Check = Callable[[Principal, Any], bool]  # (who asks, the object the field belongs to)


def principal(info: strawberry.Info) -> Principal:
    return getattr(info.context, "principal", None) or PUBLIC


def rule(
    name: str,
    message: str,
    check: Check,
    always: Callable[[Principal], bool] | None = None,
    reason: str | None = None,
) -> type[BasePermission]:
    """A permission class from a check: the schema names the rule, the check says it (and
    `reason`, when given, goes into the error's extensions).

    `grants_all(who)` says whether the rule lets `who` read the field on every object; the
    planned executor runs an operation only when it does for every field (else strawberry
    runs it and checks object by object). A check that looks at the object passes `always`,
    a condition that grants regardless of the object; other checks ignore the object."""

    def has_permission(
        self: BasePermission, source: Any, info: strawberry.Info, **kwargs: Any
    ) -> bool:
        return check(principal(info), source)

    return type(
        name,
        (BasePermission,),
        {
            "message": message,
            "error_extensions": {"code": "FORBIDDEN", **({"reason": reason} if reason else {})},
            "has_permission": has_permission,
            "grants_all": staticmethod(always or (lambda who: check(who, None))),
        },
    )


Staff = rule(
    "Staff",
    "only department officers and planners may read this",
    lambda who, _: who.is_department_staff,
)
Planner = rule(
    "Planner",
    "only planners of the coordinating office may do this",
    lambda who, _: who.is_planner,
)
# Four eyes (planning.results): the role here, the team, department and person in the command.
Inspector = rule(
    "Inspector",
    "results are entered by inspectors (role inspector) of a department on the visit's team",
    lambda who, _: who.is_department_staff and is_inspector(who.roles),
    reason=Refusal.NOT_AN_INSPECTOR.value,
)
Reviewer = rule(
    "Reviewer",
    "reviews are made by reviewers (role reviewer): of results, of the entering or the lead "
    "department; of credit repairs, of the credit platform",
    lambda who, _: who.is_department_staff and is_reviewer(who.roles),
    reason=Refusal.NOT_A_REVIEWER.value,
)
# Credit repairs are filed on the entity's behalf by officers (credit platform, deciding dept).
Officer = rule(
    "Officer",
    "credit repairs are filed by officers (role officer) of the credit platform or of the "
    "department that decided the record",
    lambda who, _: who.is_department_staff and is_officer(who.roles),
    reason=Refusal.NOT_AN_OFFICER.value,
)
OwnAssignments = rule(
    "OwnAssignments",
    "only an inspector's own token (role inspector) has assignments",
    lambda who, _: who.inspector_id is not None,
)
# Inspectors' personal data: their own department's officers and planners only.
OwnDepartmentOrPlanner = rule(
    "OwnDepartmentOrPlanner",
    "inspectors' personal data is for their own department and planners",
    lambda who, source: (
        who.is_planner
        or (
            who.kind == ClientKind.OFFICER
            and who.department is not None
            and who.department == getattr(source, "department_code", None)
        )
    ),
    always=lambda who: who.is_planner,
)
# Penalty details: departments always; partners only for cases in their publicity period.
PublishedOrStaff = rule(
    "PublishedOrStaff",
    "details of penalties not in publicity are for departments only",
    lambda who, source: (
        who.is_department_staff
        or (
            who.kind == ClientKind.PARTNER
            and Scope.PENALTIES.value in who.scopes
            and bool(getattr(source, "publicized", False))
        )
    ),
    always=lambda who: who.is_department_staff,
)


@functools.cache
def staff_or_scope(scope: Scope) -> type[BasePermission]:
    """Officers and planners, or a partner whose key carries `scope`."""
    return rule(
        f"StaffOr_{scope.name}",
        f"needs a department identity or an API key with scope {scope.value}",
        lambda who, _: (
            who.is_department_staff
            or (who.kind == ClientKind.PARTNER and scope.value in who.scopes)
        ),
    )
