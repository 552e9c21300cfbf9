"""Credit feedback into the credit platform, through its mapping's own tables and codes.

Reading is declarative; writing needs a transaction that reads the rating, lets the caller
compute the new one and appends the records — more than a mapping expresses, so it is Python,
but table, column and code names still come from the mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from adapters.errors import DepartmentUnavailable, describe
from adapters.mapping import RecordMap, sql_ident
from adapters.postgres import PostgresSource


@dataclass(frozen=True, slots=True)
class NewCreditRecord:
    id: int  # stable: a retried delivery inserts nothing twice
    uscc: str
    kind: str  # unified CreditRecordKind
    title: str
    source_department: str
    decided_on: date
    deduction: int
    publicity_class: str | None = None  # unified PublicityClass
    effective_to: date | None = None
    repairs_id: str | None = None  # a repair: the record it repairs
    basis_id: int | None = None  # a list entry: the record that founded it


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """Records a repair takes out of publicity and sharing from `on` (they stay, dated)."""

    ids: tuple[str, ...]
    on: date


# (score, grade, points the withdrawn records had deducted) -> (new score, new grade, records)
Update = Callable[[int | None, str | None, int], tuple[int, str, Sequence[NewCreditRecord]]]


def _source(transform: str, value: Any) -> Any:
    if value is None:
        return None
    if transform == "yyyymmdd":
        return value.strftime("%Y%m%d")
    if transform in ("text", "csv"):
        return str(value)
    return value


def _columns(rm: RecordMap, source: PostgresSource, values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        fm = rm.field(name)
        if fm is None:
            continue  # the platform does not keep this field
        if fm.codes is not None and value is not None:
            codes = source.mapping.reverse_codes(fm.codes, value)
            if not codes:
                raise DepartmentUnavailable(source.code, f"no {fm.codes} code for {value}")
            value = codes[0]
        out[fm.column] = _source(fm.transform, value)
    return out


_INTEGERS = {"int2", "int4", "int8", "numeric"}


async def _execute(conn: asyncpg.Connection, sql: str, values: list[Any]) -> None:
    """Run with each value in the type its column has (a unified id is text; the platform's
    may be a number), asked of the server rather than assumed."""
    stmt = await conn.prepare(sql)
    coerced = [
        int(v) if v is not None and t.name in _INTEGERS else v
        for v, t in zip(values, stmt.get_parameters(), strict=True)
    ]
    await stmt.fetch(*coerced)


async def apply_credit(
    source: PostgresSource,
    uscc: str,
    record_id: int,
    update: Update,
    withdraw: Withdrawal | None = None,
) -> bool:
    """Withdraw the given records (a repair), append the new ones and re-rate the entity in one
    transaction at the platform; False when the record is there already (delivered before).
    The platform's own change notification then tells every consumer (the hub's cache too)."""
    records_map = source.mapping.records["credit_record"]
    rating_map = source.mapping.records["credit_rating"]
    rating_key = sql_ident(rating_map.key or "uscc")
    id_col = sql_ident(records_map.field("id").column)  # type: ignore[union-attr]
    try:
        conn: asyncpg.Connection = await asyncpg.connect(source.dsn, timeout=source.timeout)
    except Exception as e:
        raise DepartmentUnavailable(source.code, describe(e)) from e
    try:
        async with conn.transaction():
            exists = await conn.fetchval(
                f"SELECT 1 FROM {sql_ident(records_map.table)} WHERE {id_col}::text = $1",
                str(record_id),
            )
            if exists:
                return False
            restored = 0
            if withdraw is not None and withdraw.ids:
                withdrawn_col = sql_ident(records_map.field("withdrawn_on").column)  # type: ignore[union-attr]
                deduction_col = sql_ident(records_map.field("deduction").column)  # type: ignore[union-attr]
                key_col = sql_ident(records_map.key or "uscc")
                restored = await conn.fetchval(
                    f"WITH w AS (UPDATE {sql_ident(records_map.table)} SET {withdrawn_col} = $1"
                    f" WHERE {key_col} = $2 AND {id_col}::text = ANY($3::text[])"
                    f" AND {withdrawn_col} IS NULL RETURNING {deduction_col} AS d)"
                    " SELECT coalesce(sum(d), 0) FROM w",
                    withdraw.on,
                    uscc,
                    list(withdraw.ids),
                )
            grade_col = sql_ident(rating_map.field("grade").column)  # type: ignore[union-attr]
            score_col = sql_ident(rating_map.field("score").column)  # type: ignore[union-attr]
            row = await conn.fetchrow(
                f"SELECT {score_col}, {grade_col} FROM {sql_ident(rating_map.table)}"
                f" WHERE {rating_key} = $1 FOR UPDATE",
                uscc,
            )
            grade = None
            if row is not None:
                grade = source.mapping.codes[rating_map.field("grade").codes][row[1].strip()]  # type: ignore[union-attr,index]
            score, new_grade, records = update(row[0] if row else None, grade, int(restored))
            for rec in records:
                cols = _columns(
                    records_map,
                    source,
                    {
                        "id": rec.id,
                        "uscc": rec.uscc,
                        "kind": rec.kind,
                        "title": rec.title,
                        "source_department": rec.source_department,
                        "decided_on": rec.decided_on,
                        "deduction": rec.deduction,
                        "publicity_class": rec.publicity_class,
                        "effective_to": rec.effective_to,
                        "repairs_id": rec.repairs_id,
                        "basis_id": rec.basis_id,
                    },
                )
                names = ", ".join(sql_ident(c) for c in cols)
                marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
                await _execute(
                    conn,
                    f"INSERT INTO {sql_ident(records_map.table)} ({names}) VALUES ({marks})",
                    list(cols.values()),
                )
            cols = _columns(
                rating_map,
                source,
                {
                    "uscc": uscc,
                    "grade": new_grade,
                    "score": score,
                    "rated_on": date.today(),
                },
            )
            names = ", ".join(sql_ident(c) for c in cols)
            marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
            updates = ", ".join(f"{sql_ident(c)} = EXCLUDED.{sql_ident(c)}" for c in cols)
            await _execute(
                conn,
                f"INSERT INTO {sql_ident(rating_map.table)} ({names}) VALUES ({marks})"
                f" ON CONFLICT ({rating_key}) DO UPDATE SET {updates}",
                list(cols.values()),
            )
        return True
    except DepartmentUnavailable:
        raise
    except Exception as e:
        raise DepartmentUnavailable(source.code, describe(e)) from e
    finally:
        await conn.close()
