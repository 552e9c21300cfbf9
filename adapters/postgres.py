"""The PostgreSQL adapter: executes a department's mapping over an asyncpg pool.

Every lookup is one parameterized statement for a whole batch of keys (`= ANY($1)`); identifiers
come from the validated mapping, values only ever travel as parameters.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from adapters.breaker import CircuitBreaker
from adapters.errors import DepartmentUnavailable, MappingError
from adapters.mapping import Mapping, RecordMap, sql_ident
from adapters.transforms import converter, row_builder
from domain.records import RECORD_FIELDS
from telemetry import tracing

Row = dict[str, Any]
READ_RETRIES = 2
# Failures of the connection, not of the statement: worth one more try on another connection.
_RETRYABLE = (
    OSError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
)


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """The hub never changes session state, so skip the reset round trip on every release."""

    def get_reset_query(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Filter:
    """A condition on a unified field: op is eq, in, contains (case-insensitive) or prefix."""

    field: str
    op: str
    value: Any


@dataclass(slots=True)
class _Compiled:
    record: RecordMap
    select: str  # SELECT list + FROM (+ crosswalk join), without WHERE
    key_expr: str | None  # SQL expression of the entity/batch key
    names: tuple[str, ...]
    convert: tuple[Callable[[Any], Any], ...]
    build: Callable[[Any], Row]  # a source row to a unified row (transforms.row_builder)


class PostgresSource:
    kind = "postgres"

    def __init__(self, mapping: Mapping, dsn: str, *, pool_size: int = 8) -> None:
        self.mapping = mapping
        self.code = mapping.code
        self.dsn = dsn
        self.pool_size = pool_size
        self.timeout = mapping.timeout_ms / 1000
        self.statements = 0  # SQL statements sent; tests and metrics read it
        self._pool: asyncpg.Pool | None = None
        self.breaker = CircuitBreaker(mapping.code)
        self._compiled = {kind: self._compile(rm) for kind, rm in mapping.records.items()}

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        # min_size=0: the hub starts even while a department is down, and connects lazily.
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.pool_size,
            connection_class=NoResetConnection,
            timeout=self.timeout,
            max_inactive_connection_lifetime=60,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def supports(self, kind: str) -> bool:
        return kind in self._compiled

    # -- compiling the mapping to SQL ------------------------------------------------------
    def _compile(self, rm: RecordMap) -> _Compiled:
        cols = [f"t.{sql_ident(f.column)}" for f in rm.fields]
        frm = f"FROM {sql_ident(rm.table)} AS t"
        key_expr = f"t.{sql_ident(rm.key)}" if rm.key else None
        if rm.via_crosswalk:
            cw = self.mapping.crosswalk
            if cw is None or rm.key is None:
                raise MappingError(f"{self.code}.{rm.kind}: crosswalk key without a crosswalk")
            frm += (
                f" JOIN {sql_ident(cw.table)} AS cw ON cw.{sql_ident(cw.local)} = "
                f"t.{sql_ident(rm.key)}"
            )
            key_expr = f"cw.{sql_ident(cw.uscc)}"
            # The entity key field is the crosswalked USCC, whatever the table calls its key.
            cols = [
                key_expr if f.name == "uscc" else c for f, c in zip(rm.fields, cols, strict=True)
            ]
        select = f"SELECT {', '.join(cols)}, {key_expr or 'NULL'} AS __key {frm}"
        names = tuple(f.name for f in rm.fields)
        convert = tuple(converter(self.mapping, f) for f in rm.fields)
        return _Compiled(
            record=rm,
            select=select,
            key_expr=key_expr,
            names=names,
            convert=convert,
            build=row_builder(names, convert, RECORD_FIELDS[rm.kind], self.code),
        )

    def _constant_where(self, c: _Compiled, args: list[Any]) -> list[str]:
        conds = []
        for column, value in c.record.where.items():
            args.append(value)
            conds.append(f"t.{sql_ident(column)} = ${len(args)}")
        return conds

    def _order(self, c: _Compiled) -> str:
        rm = c.record
        if rm.order_by:
            return f" ORDER BY t.{sql_ident(rm.order_by)}"
        return f" ORDER BY {c.key_expr}" if c.key_expr else ""

    # -- running statements ----------------------------------------------------------------
    async def _fetch(
        self, sql: str, *args: Any, timeout: float | None = None
    ) -> list[asyncpg.Record]:
        """One statement within the department's time budget: connection failures are retried
        (reads are safe to repeat) with jittered backoff inside that budget; the breaker
        keeps a dead department from costing anything."""
        if self._pool is None:
            raise DepartmentUnavailable(self.code, "not opened")
        if refusal := self.breaker.refusal():
            raise DepartmentUnavailable(self.code, refusal)
        self.statements += 1
        limit = timeout or self.timeout
        start = time.perf_counter()
        attempt = 0
        span = tracing.tracer.start_span(
            "department.query",
            attributes={"department": self.code, "db.system": "postgresql", "db.statement": sql},
        )
        try:
            async with asyncio.timeout(limit):
                while True:
                    try:
                        async with self._pool.acquire() as conn:
                            rows = await conn.fetch(sql, *args)
                        break
                    except _RETRYABLE as e:
                        attempt += 1
                        if attempt > READ_RETRIES:
                            raise
                        if isinstance(e, asyncpg.ConnectionDoesNotExistError):
                            # The server dropped our connections (a restart): the rest of
                            # the pool is likely dead too; the retry gets a fresh one.
                            await self._pool.expire_connections()
                        await asyncio.sleep(random.uniform(0.5, 1.5) * 0.05 * 2**attempt)
        except TimeoutError:
            self._failed("timeout", span)
            raise DepartmentUnavailable(self.code, f"no answer within {limit:g}s") from None
        except asyncio.CancelledError:
            span.end()
            raise
        except Exception as e:  # any source failure is reported, not raised through
            self._failed(type(e).__name__, span)
            raise DepartmentUnavailable(self.code, type(e).__name__) from e
        span.set_attribute("rows", len(rows))
        span.end()
        self.breaker.success(time.perf_counter() - start)
        return rows

    def _failed(self, reason: str, span: Any) -> None:
        span.set_attribute("error", reason)
        span.end()
        self.breaker.failure(reason)

    def _rows(self, c: _Compiled, records: Iterable[asyncpg.Record]) -> list[Row]:
        # Fields a source does not map are present as None: every row has the unified shape.
        return list(map(c.build, records))

    # -- the adapter's interface -----------------------------------------------------------
    async def by_keys(self, kind: str, keys: Sequence[str]) -> dict[str, list[Row]]:
        """Every record of `kind` for a batch of keys, in one statement, grouped by key."""
        c = self._compiled[kind]
        args: list[Any] = [list(keys)]
        conds = [f"{c.key_expr} = ANY($1)", *self._constant_where(c, args)]
        sql = f"{c.select} WHERE {' AND '.join(conds)}{self._order(c)}"
        records = await self._fetch(sql, *args)
        grouped: dict[str, list[Row]] = {k: [] for k in keys}
        for rec, row in zip(records, self._rows(c, records), strict=True):
            grouped.setdefault(rec["__key"].strip(), []).append(row)
        return grouped

    async def all(self, kind: str) -> list[Row]:
        """A whole reference list (e.g. the random-inspection item list)."""
        c = self._compiled[kind]
        args: list[Any] = []
        conds = self._constant_where(c, args)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return self._rows(c, await self._fetch(f"{c.select}{where}{self._order(c)}", *args))

    def _filters(self, c: _Compiled, filters: Sequence[Filter], args: list[Any]) -> list[str]:
        conds = self._constant_where(c, args)
        for flt in filters:
            fm = c.record.field(flt.field)
            if fm is None:
                raise MappingError(f"{self.code}.{c.record.kind} cannot filter on {flt.field!r}")
            col = c.key_expr if flt.field == "uscc" else f"t.{sql_ident(fm.column)}"
            values = flt.value if flt.op == "in" else [flt.value]
            if fm.codes is not None:  # filter in the source's own codes
                values = [s for v in values for s in self.mapping.reverse_codes(fm.codes, v)]
            if flt.op in ("eq", "in"):
                args.append(list(values))
                conds.append(f"{col} = ANY(${len(args)})")
            elif flt.op == "contains":
                args.append("%" + _escape_like(str(flt.value)) + "%")
                conds.append(f"{col} ILIKE ${len(args)}")
            elif flt.op in ("gte", "lte"):
                args.append(_source_value(fm.transform, flt.value))
                conds.append(f"{col} {'>=' if flt.op == 'gte' else '<='} ${len(args)}")
            elif flt.op == "prefix":
                args.append(_escape_like(str(flt.value)) + "%")
                conds.append(f"{col} LIKE ${len(args)}")
            else:
                raise ValueError(f"unknown filter op {flt.op!r}")
        return conds

    async def page(
        self, kind: str, filters: Sequence[Filter], after: str | None, limit: int
    ) -> list[Row]:
        """Keyset pagination over the key column: rows after `after`, in key order."""
        c = self._compiled[kind]
        args: list[Any] = []
        conds = self._filters(c, filters, args)
        if after is not None:
            args.append(after)
            conds.append(f"{c.key_expr} > ${len(args)}")
        args.append(limit)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        sql = f"{c.select}{where} ORDER BY {c.key_expr} LIMIT ${len(args)}"
        return self._rows(c, await self._fetch(sql, *args))

    async def scan(
        self,
        kind: str,
        filters: Sequence[Filter],
        fields: Sequence[str],
        timeout: float | None = None,
    ) -> list[tuple[Any, ...]]:
        """Selected fields of every matching row, as tuples: the lean read a draw makes over
        a whole population (a million rows as dicts would cost ten times the memory)."""
        c = self._compiled[kind]
        picked = [c.names.index(f) for f in fields]
        exprs = [
            c.key_expr
            if fields[i] == "uscc" and c.record.via_crosswalk
            else f"t.{sql_ident(c.record.fields[j].column)}"
            for i, j in enumerate(picked)
        ]
        args: list[Any] = []
        conds = self._filters(c, filters, args)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        frm = c.select.split(" AS __key ", 1)[1]
        rows = await self._fetch(f"SELECT {', '.join(exprs)} {frm}{where}", *args, timeout=timeout)
        convert = [c.convert[j] for j in picked]
        if len(convert) == 1:
            f0 = convert[0]
            return [(f0(r[0]),) for r in rows]
        return [tuple(f(v) for f, v in zip(convert, r, strict=True)) for r in rows]

    async def count(self, kind: str, filters: Sequence[Filter]) -> int:
        c = self._compiled[kind]
        args: list[Any] = []
        conds = self._filters(c, filters, args)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        frm = c.select.split(" AS __key ", 1)[1]
        rows = await self._fetch(f"SELECT count(*) {frm}{where}", *args)
        return int(rows[0][0])

    async def ping(self) -> float:
        """Round-trip seconds of a trivial statement; raises DepartmentUnavailable."""
        start = time.perf_counter()
        await self._fetch("SELECT 1")
        return time.perf_counter() - start


def _source_value(transform: str, value: Any) -> Any:
    """A unified value in the source's own representation, for range conditions."""
    if transform == "yyyymmdd":
        return value.strftime("%Y%m%d")
    if transform == "yuan":
        return Decimal(value) / 100
    return value


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
