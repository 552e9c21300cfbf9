"""Errors a source reports instead of raising through the whole request."""

from __future__ import annotations


class DepartmentUnavailable(Exception):
    """A department's source failed, timed out or refused; its fields become partial results."""

    code = "DEPARTMENT_UNAVAILABLE"

    def __init__(self, department: str, reason: str) -> None:
        super().__init__(f"department {department!r} is unavailable: {reason}")
        self.department = department
        self.reason = reason


class MappingError(ValueError):
    """A mapping file is malformed; raised at load time, never at request time."""
