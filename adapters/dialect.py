"""SQL dialects: the few places where the database families a mapping compiles to differ.

A mapping compiles to the same statements for every family (adapters/sql_source.py) except
for how identifiers are quoted, how a value travels as a parameter, how a column is matched
against a list of values, how text is matched case-insensitively and which character escapes
LIKE patterns. Each dialect writes exactly those; values only ever travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.mapping import ident_parts, sql_ident


def escape_like(text: str, escape: str) -> str:
    """`text` matched literally inside a LIKE pattern whose escape character is `escape`."""
    return text.replace(escape, escape * 2).replace("%", escape + "%").replace("_", escape + "_")


class Dialect:
    """What a SQL source needs to know about its database family."""

    name = ""  # db.system in traces
    like_escape = "\\"
    # What keeps a subquery from being merged into the statement around it (None: nothing
    # does), so that a fragment search finds its matches first and pages them after.
    fence: str | None = None

    def ident(self, name: str) -> str:
        raise NotImplementedError

    def param(self, args: list[Any], value: Any) -> str:
        """Append `value` to the statement's parameters; return its placeholder."""
        raise NotImplementedError

    def any_of(self, expr: str, args: list[Any], values: Sequence[Any]) -> str:
        """`expr` equals one of `values`."""
        raise NotImplementedError

    def icontains(self, expr: str, args: list[Any], text: str) -> str:
        """`expr` contains `text`, ignoring case."""
        raise NotImplementedError

    def prefix(self, expr: str, args: list[Any], text: str) -> str:
        """`expr` starts with `text`."""
        return f"{expr} LIKE {self.param(args, escape_like(text, self.like_escape) + '%')}"


class PostgresDialect(Dialect):
    """Double-quoted identifiers (unquoted ones fold to lower case), `$n` placeholders, a list
    as one array parameter (`= ANY($1)`: one statement text whatever the batch size)."""

    name = "postgresql"
    fence = "OFFSET 0"

    def ident(self, name: str) -> str:
        return sql_ident(name)

    def param(self, args: list[Any], value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    def any_of(self, expr: str, args: list[Any], values: Sequence[Any]) -> str:
        return f"{expr} = ANY({self.param(args, list(values))})"

    def icontains(self, expr: str, args: list[Any], text: str) -> str:
        pattern = "%" + escape_like(text, self.like_escape) + "%"
        return f"{expr} ILIKE {self.param(args, pattern)} ESCAPE '{self.like_escape}'"

    def prefix(self, expr: str, args: list[Any], text: str) -> str:
        return f"{super().prefix(expr, args, text)} ESCAPE '{self.like_escape}'"


class MySQLDialect(Dialect):
    """MySQL and MariaDB: backquoted identifiers taken exactly as written (table names are
    case-sensitive on Linux), `%s` placeholders, `IN (%s, …)` for a list, LIKE under a
    case-insensitive collation. `!` escapes LIKE patterns: a backslash would mean different
    things with and without the NO_BACKSLASH_ESCAPES mode."""

    name = "mysql"
    like_escape = "!"
    collation = "utf8mb4_general_ci"

    def ident(self, name: str) -> str:
        return ".".join(f"`{part}`" for part in ident_parts(name))

    def param(self, args: list[Any], value: Any) -> str:
        args.append(value)
        return "%s"

    def any_of(self, expr: str, args: list[Any], values: Sequence[Any]) -> str:
        if not values:
            return "FALSE"  # `IN ()` is a syntax error
        # Padded to a power of two with a repeated value (same rows): a few statement texts
        # per kind, so the server-side prepared statements are reused across batch sizes.
        padded = list(values) + [values[-1]] * (_bucket(len(values)) - len(values))
        return f"{expr} IN ({', '.join(self.param(args, v) for v in padded)})"

    def icontains(self, expr: str, args: list[Any], text: str) -> str:
        pattern = self.param(args, "%" + escape_like(text, self.like_escape) + "%")
        return f"{expr} LIKE {pattern} COLLATE {self.collation} ESCAPE '{self.like_escape}'"

    def prefix(self, expr: str, args: list[Any], text: str) -> str:
        return f"{super().prefix(expr, args, text)} ESCAPE '{self.like_escape}'"


def _bucket(n: int) -> int:
    return 1 << (n - 1).bit_length()


POSTGRES = PostgresDialect()
MYSQL = MySQLDialect()
