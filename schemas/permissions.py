"""Who may read or do what, declared beside each field (`permission_classes=[…]`).

A denied field is null with an error `extensions.code = "FORBIDDEN"` (or UNAUTHENTICATED for
the public) and the rest of the answer stays intact. The README's role × field table is
walked by tests/test_authorization.py.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from domain.access import PUBLIC, ClientKind, Principal, Role, Scope


def principal(info: strawberry.Info) -> Principal:
    return getattr(info.context, "principal", None) or PUBLIC


class _Rule(BasePermission):
    message = "not permitted for this caller"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
        raise NotImplementedError

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return self.allows(principal(info), source, kwargs)


class Staff(_Rule):
    """Department officers and planners (signed identities)."""

    message = "only department officers and planners may read this"

    def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
        return who.is_department_staff


class Planner(_Rule):
    message = "only planners of the coordinating office may do this"

    def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
        return who.is_planner


def staff_or_scope(scope: Scope) -> type[_Rule]:
    """Officers and planners, or a partner whose key carries `scope`."""

    class StaffOrScope(_Rule):
        message = f"needs a department identity or an API key with scope {scope.value}"

        def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
            return who.is_department_staff or (
                who.kind == ClientKind.PARTNER and scope.value in who.scopes
            )

    StaffOrScope.__name__ = f"StaffOr_{scope.name}"
    return StaffOrScope


class OwnDepartmentOrPlanner(_Rule):
    """Inspectors' personal data: their own department's officers and planners only."""

    message = "inspectors' personal data is for their own department and planners"

    def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
        department = getattr(source, "department_code", None)
        return who.is_planner or (
            who.kind == ClientKind.OFFICER
            and department is not None
            and who.department == department
        )


class PublishedOrStaff(_Rule):
    """Penalty details: departments always; partners only for cases in publicity."""

    message = "details of penalties not in publicity are for departments only"

    def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
        if who.is_department_staff:
            return True
        return (
            who.kind == ClientKind.PARTNER
            and Scope.PENALTIES.value in who.scopes
            and bool(getattr(source, "publicized", False))
        )


class Reviewer(_Rule):
    message = "only planners and reviewers may review results"

    def allows(self, who: Principal, source: Any, kwargs: dict[str, Any]) -> bool:
        return who.is_planner or (who.kind == ClientKind.OFFICER and Role.REVIEWER in who.roles)
