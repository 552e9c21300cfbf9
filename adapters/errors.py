"""Errors a source reports instead of raising through the whole request, and the words that
say what went wrong (exception class names are for the log, never for a client)."""

from __future__ import annotations

import socket

import asyncpg
import httpx
import redis.exceptions


class DepartmentUnavailable(Exception):
    """A department's source failed, timed out or refused; its fields become partial results.
    `code` and `extensions` are what the client sees."""

    code = "DEPARTMENT_UNAVAILABLE"

    def __init__(self, department: str, reason: str) -> None:
        super().__init__(f"department {department!r} is unavailable: {reason}")
        self.department = department
        self.reason = reason

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code, "department": self.department}


class InputRefused(DepartmentUnavailable):
    """The department refused a value of the request (a statement error caused by input):
    the caller's doing, never counted against the department's breaker. Still a partial
    result wherever a department's failure is one, but answered as BAD_USER_INPUT."""

    code = "BAD_USER_INPUT"
    input_reason = "REFUSED_BY_DEPARTMENT"

    def __init__(self, department: str, reason: str = "refused the request's values") -> None:
        super().__init__(department, reason)
        self.args = (f"department {department!r} {reason}",)

    @property
    def extensions(self) -> dict[str, str]:
        return {**super().extensions, "reason": self.input_reason}


class SearchTooBroad(InputRefused):
    """A name search that did not finish within its own budget: narrower input answers."""

    input_reason = "SEARCH_TOO_BROAD"


class MappingError(ValueError):
    """A mapping file is malformed; raised at load time, never at request time."""


# Failures that mean a database cannot be reached or will not take connections now (as
# opposed to a statement it refused).
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection the server dropped, found broken on next use
    asyncpg.ObjectNotInPrerequisiteStateError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
)


def describe(error: BaseException) -> str:
    """What a failure of a connection or of a statement means, in words."""
    for kind, words in _WORDS:
        if isinstance(error, kind):
            return words
    if isinstance(error, httpx.HTTPError):
        return "the request failed"
    if isinstance(error, asyncpg.PostgresError):
        return f"the database refused the statement (SQLSTATE {error.sqlstate})"
    return "unexpected failure"


def metric_label(error: BaseException) -> str:
    """A short, bounded label for metrics: the words, spaces as underscores."""
    return describe(error).split(" (", 1)[0].replace(" ", "_")


# Most specific first: ConnectionRefusedError is an OSError, InvalidPasswordError an
# InvalidAuthorizationSpecificationError, and so on.
_WORDS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    ((ConnectionResetError, ConnectionAbortedError, BrokenPipeError), "connection lost"),
    (socket.gaierror, "host not found"),
    ((TimeoutError, httpx.TimeoutException), "no answer in time"),
    (asyncpg.ConnectionDoesNotExistError, "connection lost"),
    (asyncpg.ObjectNotInPrerequisiteStateError, "database not accepting connections"),
    (asyncpg.CannotConnectNowError, "database starting up or shutting down"),
    ((asyncpg.AdminShutdownError, asyncpg.CrashShutdownError), "database shut down"),
    (asyncpg.TooManyConnectionsError, "too many connections"),
    (asyncpg.InvalidCatalogNameError, "database does not exist"),
    (asyncpg.InvalidAuthorizationSpecificationError, "login refused"),
    (asyncpg.PostgresConnectionError, "connection failed"),
    ((asyncpg.InterfaceError, asyncpg.InternalClientError), "connection failed"),
    (redis.exceptions.TimeoutError, "no answer in time"),
    (redis.exceptions.ConnectionError, "connection failed"),
    (httpx.ConnectError, "connection refused"),
    ((httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError), "connection lost"),
    (OSError, "network error"),
)
