"""Expected errors with stable `extensions.code` values (clients switch on the code)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from adapters.errors import DepartmentUnavailable

BAD_USER_INPUT = "BAD_USER_INPUT"


class ApiError(GraphQLError):
    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


def bad_input(message: str, reason: str, **extensions: Any) -> ApiError:
    """Invalid argument values; `reason` says which rule (INVALID_USCC, PAGE_SIZE_EXCEEDED…)."""
    return ApiError(message, BAD_USER_INPUT, reason=reason, **extensions)


def source_error(error: DepartmentUnavailable, path: list[str | int] | None = None) -> GraphQLError:
    """What a source's failure (a department unavailable, a value it refused) tells the client:
    its message in words, a stable code and the department."""
    return GraphQLError(str(error), path=path, extensions=error.extensions)
