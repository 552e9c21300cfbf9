"""A department's mapping executed over SQL: the part every database family shares.

The mapping compiles once to statements (the SELECT list, the crosswalk join, the key to batch
on, each field's converter); every lookup is one parameterized statement for a whole batch of
keys. Identifiers come from the validated mapping and are written by the source's dialect
(adapters/dialect.py); values only ever travel as parameters.

Each statement runs within the department's time budget: connection failures are retried
(reads are safe to repeat) with jittered backoff inside that budget, the circuit breaker keeps
a dead department from costing anything, and every failure is a DepartmentUnavailable, said
in words (the exception goes to the log). Only the department's own failures count against
its breaker: a value it refuses (InputRefused) and a name search over its own budget
(SearchTooBroad) are the request's. A
family's adapter (adapters/postgres.py, adapters/mysql.py) supplies the pool, the execution
of one statement and which of its driver's errors are worth a retry or are the request's own.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapters.breaker import CircuitBreaker
from adapters.dialect import Dialect
from adapters.errors import (
    DepartmentUnavailable,
    InputRefused,
    MappingError,
    SearchTooBroad,
    describe,
    metric_label,
)
from adapters.mapping import Mapping, RecordMap
from adapters.transforms import converter, row_builder
from domain.records import RECORD_FIELDS
from telemetry import tracing

log = logging.getLogger(__name__)
Row = dict[str, Any]
READ_RETRIES = 2
# A name search (ILIKE '%…%') gets this share of the department's budget as its own, and
# this share of the pool: lookups by key must never wait behind searches.
SEARCH_BUDGET_SHARE = 0.5
SEARCH_POOL_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Filter:
    """A condition on a unified field: op is eq, in, contains (case-insensitive) or prefix."""

    field: str
    op: str
    value: Any


@dataclass(slots=True)
class _Compiled:
    record: RecordMap
    select: str  # SELECT list (the batch key last) + FROM (+ crosswalk join), without WHERE
    source: str  # FROM (+ crosswalk join) alone
    key_expr: str | None  # SQL expression of the entity/batch key
    names: tuple[str, ...]
    convert: tuple[Callable[[Any], Any], ...]
    build: Callable[[Any], Row]  # a source row to a unified row (transforms.row_builder)


def backoff(attempt: int) -> float:
    """Seconds before retry `attempt` (1, 2, …): short, doubling, jittered."""
    return random.uniform(0.5, 1.5) * 0.05 * 2**attempt


class SqlSource:
    kind = ""  # the adapter kind of departments.toml
    dialect: Dialect

    def __init__(self, mapping: Mapping, dsn: str, *, pool_size: int = 8) -> None:
        self.mapping = mapping
        self.code = mapping.code
        self.dsn = dsn
        self.pool_size = pool_size
        self.timeout = mapping.timeout_ms / 1000
        self.search_timeout = self.timeout * SEARCH_BUDGET_SHARE
        self._search_slots = asyncio.Semaphore(max(1, int(pool_size * SEARCH_POOL_SHARE)))
        self.statements = 0  # SQL statements sent; tests and metrics read it
        self.breaker = CircuitBreaker(mapping.code)
        self._compiled = {kind: self._compile(rm) for kind, rm in mapping.records.items()}

    def supports(self, kind: str) -> bool:
        return kind in self._compiled

    # -- what each database family supplies --------------------------------------------------
    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    @property
    def opened(self) -> bool:
        raise NotImplementedError

    async def _execute(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        """Run one statement on a pooled connection; its rows, values in SELECT order."""
        raise NotImplementedError

    def _retryable(self, error: Exception) -> bool:
        """A failure of the connection, not of the statement: worth a try on another one."""
        return isinstance(error, OSError)

    async def _connection_lost(self, error: Exception) -> None:
        """Called before a retry (e.g. to drop the pool's other, likely dead, connections)."""

    def _input_error(self, error: Exception) -> bool:
        """The statement failed on the request's own values, not because of the department:
        reported, but not counted against the department's breaker."""
        return False

    # -- compiling the mapping to SQL ------------------------------------------------------
    def _compile(self, rm: RecordMap) -> _Compiled:
        q = self.dialect.ident
        cols = [f"t.{q(f.column)}" for f in rm.fields]
        frm = f"FROM {q(rm.table)} AS t"
        key_expr = f"t.{q(rm.key)}" if rm.key else None
        if rm.via_crosswalk:
            cw = self.mapping.crosswalk
            if cw is None or rm.key is None:
                raise MappingError(f"{self.code}.{rm.kind}: crosswalk key without a crosswalk")
            frm += f" JOIN {q(cw.table)} AS cw ON cw.{q(cw.local)} = t.{q(rm.key)}"
            key_expr = f"cw.{q(cw.uscc)}"
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
            source=frm,
            key_expr=key_expr,
            names=names,
            convert=convert,
            build=row_builder(names, convert, RECORD_FIELDS[rm.kind], self.code),
        )

    def _constant_where(self, c: _Compiled, args: list[Any]) -> list[str]:
        return [
            f"t.{self.dialect.ident(column)} = {self.dialect.param(args, value)}"
            for column, value in c.record.where.items()
        ]

    def _order(self, c: _Compiled) -> str:
        rm = c.record
        if rm.order_by:
            return f" ORDER BY t.{self.dialect.ident(rm.order_by)}"
        return f" ORDER BY {c.key_expr}" if c.key_expr else ""

    def _filters(self, c: _Compiled, filters: Sequence[Filter], args: list[Any]) -> list[str]:
        d = self.dialect
        conds = self._constant_where(c, args)
        for flt in filters:
            fm = c.record.field(flt.field)
            if fm is None:
                raise MappingError(f"{self.code}.{c.record.kind} cannot filter on {flt.field!r}")
            col = c.key_expr if flt.field == "uscc" and c.key_expr else f"t.{d.ident(fm.column)}"
            values = flt.value if flt.op == "in" else [flt.value]
            if fm.codes is not None:  # filter in the source's own codes
                values = [s for v in values for s in self.mapping.reverse_codes(fm.codes, v)]
            if flt.op in ("eq", "in"):
                conds.append(d.any_of(col, args, list(values)))
            elif flt.op == "contains":
                conds.append(d.icontains(col, args, str(flt.value)))
            elif flt.op in ("gte", "lte"):
                value = d.param(args, _source_value(fm.transform, flt.value))
                conds.append(f"{col} {'>=' if flt.op == 'gte' else '<='} {value}")
            elif flt.op == "prefix":
                conds.append(d.prefix(col, args, str(flt.value)))
            else:
                raise ValueError(f"unknown filter op {flt.op!r}")
        return conds

    # -- running statements ----------------------------------------------------------------
    async def _fetch(
        self,
        sql: str,
        args: Sequence[Any] = (),
        timeout: float | None = None,
        search: bool = False,
    ) -> Sequence[Sequence[Any]]:
        """One statement within the department's time budget (`timeout`, or the mapping's):
        connection failures are retried with jittered backoff inside that budget; the
        breaker keeps a dead department from costing anything.

        A name search (`search=True`: no ordinary index bounds it) also has a budget of its
        own, `search_timeout` (the statement is then cancelled at the server, as for any
        statement cut short), and at most `search_slots` of them run at once, so that
        lookups by key always find a free connection. Over its budget it is SearchTooBroad."""
        if not self.opened:
            raise DepartmentUnavailable(self.code, "not opened")
        if not search:
            self._check_breaker()
            return await self._statement(sql, args, timeout or self.timeout)
        try:
            async with asyncio.timeout(self.search_timeout):
                await self._search_slots.acquire()
        except TimeoutError:
            raise SearchTooBroad(
                self.code,
                "had too many name searches at once: narrow the search (more characters, "
                "a district) or try again",
            ) from None
        try:
            # Asked only now: a half-open breaker's probe must be a statement that runs.
            self._check_breaker()
            return await self._statement(sql, args, self.timeout, self.search_timeout)
        finally:
            self._search_slots.release()

    def _check_breaker(self) -> None:
        if refusal := self.breaker.refusal():
            raise DepartmentUnavailable(self.code, refusal)

    async def _statement(
        self, sql: str, args: Sequence[Any], limit: float, search_budget: float | None = None
    ) -> Sequence[Sequence[Any]]:
        """Run one statement and sort out how it failed. Only failures of the department count
        against its breaker: the connection refused, reset or lost, no answer within the
        budget. A value of the request the database cannot take (InputRefused) and a search
        over its own budget (SearchTooBroad) are the caller's: they never count."""
        self.statements += 1
        start = time.perf_counter()
        span = tracing.tracer.start_span(
            "department.query",
            attributes={
                "department": self.code,
                "db.system": self.dialect.name,
                "db.statement": sql,
            },
        )
        cut = False  # the search's own budget ran out (not the department's)
        try:
            async with asyncio.timeout(limit):
                try:
                    async with asyncio.timeout(search_budget):
                        rows = await self._retrying(sql, args)
                except TimeoutError:
                    if search_budget is None:
                        raise
                    cut = True
                    raise
        except TimeoutError:
            if not cut:
                self._failed("timeout", span)
                raise DepartmentUnavailable(self.code, f"no answer within {limit:g}s") from None
            span.set_attribute("error", "search_too_broad")
            span.end()
            self.breaker.release()  # cut by us: no verdict on the department
            raise SearchTooBroad(
                self.code,
                f"did not finish the name search within {search_budget:g}s: narrow it (more "
                "characters, a district)",
            ) from None
        except asyncio.CancelledError:
            span.end()
            self.breaker.release()
            raise
        except Exception as e:  # any source failure is reported, not raised through
            if self._input_error(e):
                # The database answered: refused a value of the request. A sign of life.
                span.set_attribute("error", "input_refused")
                span.end()
                self.breaker.success(time.perf_counter() - start)
                log.info("a value was refused", extra={"department": self.code, "reason": str(e)})
                raise InputRefused(self.code) from e
            log.warning(
                "department call failed", extra={"department": self.code, "reason": repr(e)[:300]}
            )
            self._failed(metric_label(e), span)
            raise DepartmentUnavailable(self.code, describe(e)) from e
        span.set_attribute("rows", len(rows))
        span.end()
        self.breaker.success(time.perf_counter() - start)
        return rows

    async def _retrying(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        attempt = 0
        while True:
            try:
                return await self._execute(sql, args)
            except Exception as e:
                attempt += 1
                if not self._retryable(e) or attempt > READ_RETRIES:
                    raise
                await self._connection_lost(e)
                await asyncio.sleep(backoff(attempt))

    def _failed(self, reason: str, span: Any) -> None:
        span.set_attribute("error", reason)
        span.end()
        self.breaker.failure(reason)

    def _rows(self, c: _Compiled, records: Sequence[Sequence[Any]]) -> list[Row]:
        # Fields a source does not map are present as None: every row has the unified shape.
        return list(map(c.build, records))

    # -- the adapter's interface -----------------------------------------------------------
    async def by_keys(self, kind: str, keys: Sequence[str]) -> dict[str, list[Row]]:
        """Every record of `kind` for a batch of keys, in one statement, grouped by key."""
        c = self._compiled[kind]
        if c.key_expr is None:
            raise MappingError(f"{self.code}.{kind} has no key to look records up by")
        args: list[Any] = []
        conds = [self.dialect.any_of(c.key_expr, args, list(keys)), *self._constant_where(c, args)]
        sql = f"{c.select} WHERE {' AND '.join(conds)}{self._order(c)}"
        records = await self._fetch(sql, args)
        grouped: dict[str, list[Row]] = {k: [] for k in keys}
        at = len(c.names)  # the batch key follows the mapped fields
        for rec, row in zip(records, self._rows(c, records), strict=True):
            grouped.setdefault(str(rec[at]).strip(), []).append(row)
        return grouped

    async def all(self, kind: str) -> list[Row]:
        """A whole reference list (e.g. the random-inspection item list)."""
        c = self._compiled[kind]
        args: list[Any] = []
        conds = self._constant_where(c, args)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return self._rows(c, await self._fetch(f"{c.select}{where}{self._order(c)}", args))

    async def page(
        self, kind: str, filters: Sequence[Filter], after: str | None, limit: int
    ) -> list[Row]:
        """Keyset pagination over the key column: rows after `after`, in key order."""
        c = self._compiled[kind]
        args: list[Any] = []
        conds = self._filters(c, filters, args)
        if after is not None:
            conds.append(f"{c.key_expr} > {self.dialect.param(args, after)}")
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        search = _searches(filters)
        fence = self.dialect.fence
        if search and fence is not None:
            # A fragment's matches first (through a trigram index where the source has one),
            # then the page of them in key order: walking the key index in order and testing
            # every name on the way is a whole scan whenever matches are rare (seconds at
            # city scale).
            sql = f"SELECT * FROM ({c.select}{where} {fence}) AS m ORDER BY m.__key"
        else:
            sql = f"{c.select}{where} ORDER BY {c.key_expr}"
        sql += f" LIMIT {self.dialect.param(args, limit)}"
        return self._rows(c, await self._fetch(sql, args, search=search))

    def _selection(
        self, c: Any, filters: Sequence[Filter], fields: Sequence[str]
    ) -> tuple[list[int], list[str], str, list[Any]]:
        """For a lean read of some fields: their indexes, their SQL expressions, the FROM and
        WHERE part of the statement, and its arguments."""
        picked = [c.names.index(f) for f in fields]
        exprs = [
            c.key_expr
            if fields[i] == "uscc" and c.record.via_crosswalk
            else f"t.{self.dialect.ident(c.record.fields[j].column)}"
            for i, j in enumerate(picked)
        ]
        args: list[Any] = []
        conds = self._filters(c, filters, args)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return picked, exprs, f"{c.source}{where}", args

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
        picked, exprs, rest, args = self._selection(c, filters, fields)
        rows = await self._fetch(f"SELECT {', '.join(exprs)} {rest}", args, timeout=timeout)
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
        rows = await self._fetch(
            f"SELECT count(*) {c.source}{where}", args, search=_searches(filters)
        )
        return int(rows[0][0])

    async def ping(self) -> float:
        """Round-trip seconds of a trivial statement; raises DepartmentUnavailable."""
        start = time.perf_counter()
        await self._fetch("SELECT 1")
        return time.perf_counter() - start


def _searches(filters: Sequence[Filter]) -> bool:
    """Whether a statement searches by fragment (no ordinary index bounds it)."""
    return any(f.op == "contains" for f in filters)


def _source_value(transform: str, value: Any) -> Any:
    """A unified value in the source's own representation, for range conditions."""
    if transform == "yyyymmdd":
        return value.strftime("%Y%m%d")
    if transform == "yuan":
        return Decimal(value) / 100
    return value
