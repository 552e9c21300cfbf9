"""Entity lookups: one by key, pages of the register, and each entity's records."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.errors import DepartmentUnavailable
from adapters.postgres import Filter, Row
from adapters.registry import UnknownDepartment
from adapters.settings import publicity_rules
from domain.uscc import InvalidUSCC, parse
from domain.vocabulary import PublicityClass
from planning.credit_lists import Publicity, is_publicized, penalty_class, publicity
from resolvers.context import RequestContext
from resolvers.errors import ApiError, bad_input
from resolvers.partial import gather_records

_CURSOR_PREFIX = "uscc:"
_CURSOR_KEY = re.compile(r"[0-9A-Z]{18}")
_SCAN_BATCH = 500  # register rows read per round while filtering on another department's data
_SCAN_ROUNDS = 40


def normalize_uscc(ctx: RequestContext, value: str) -> str:
    try:
        return parse(value, ctx.settings.legacy_uscc).code
    except InvalidUSCC as e:
        raise bad_input(str(e), "INVALID_USCC", value=value) from None


def check_departments(ctx: RequestContext, codes: Sequence[str] | None) -> list[str] | None:
    if codes is None:
        return None
    for code in codes:
        try:
            ctx.registry.get(code)
        except UnknownDepartment as e:
            raise bad_input(str(e), "UNKNOWN_DEPARTMENT", department=code) from None
    return list(codes)


@dataclass(frozen=True, slots=True)
class EntityLookup:
    uscc: str
    row: Row | None  # the register row; None when the register's department is unavailable


async def get_entity(ctx: RequestContext, uscc: str, path: list[str | int]) -> EntityLookup | None:
    code = normalize_uscc(ctx, uscc)
    register = ctx.registry.register()
    ctx.record_read(code, register.code)
    try:
        rows = await ctx.loaders.records(register.code, "entity").load(code)
    except DepartmentUnavailable as e:
        # The rest of the record still comes from the other departments.
        ctx.report_unavailable(path, e)
        return EntityLookup(code, None)
    return EntityLookup(code, rows[0]) if rows else None


async def entities_by_reference(
    ctx: RequestContext, representations: Sequence[Any], path: list[str | int]
) -> list[EntityLookup | ApiError | None]:
    """`_entities`, as a federation router asks for entities by key: the representations are
    a page of entities (at most HUB_MAX_PAGE_SIZE, refused before any lookup), each distinct
    USCC looked up once, the answer in the representations' order. A malformed one is an
    error in its place; the others still arrive."""
    check_page_size(ctx, len(representations), "representations")
    keys: list[str | ApiError] = []
    for rep in representations:
        if not (
            isinstance(rep, dict)
            and rep.get("__typename") == "Entity"
            and isinstance(rep.get("uscc"), str)
        ):
            keys.append(
                bad_input(
                    'a representation is {"__typename": "Entity", "uscc": "<USCC>"}',
                    "INVALID_REPRESENTATION",
                )
            )
            continue
        try:
            keys.append(normalize_uscc(ctx, rep["uscc"]))
        except ApiError as e:
            keys.append(e)
    first_at: dict[str, int] = {}
    for i, key in enumerate(keys):
        if isinstance(key, str):
            first_at.setdefault(key, i)
    found = await asyncio.gather(*(get_entity(ctx, k, [*path, i]) for k, i in first_at.items()))
    by_key = dict(zip(first_at, found, strict=True))
    return [by_key[k] if isinstance(k, str) else k for k in keys]


async def register_row(ctx: RequestContext, uscc: str) -> Row | None:
    rows = await ctx.loaders.records(ctx.registry.register().code, "entity").load(uscc)
    return rows[0] if rows else None


# -- pages of the register ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EntityQuery:
    districts: Sequence[str] | None = None
    kinds: Sequence[str] | None = None
    industries: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    grades: Sequence[str] | None = None
    name_contains: str | None = None

    def register_filters(self) -> list[Filter]:
        out = []
        for fld, values in (
            ("district", self.districts),
            ("kind", self.kinds),
            ("industry", self.industries),
            ("status", self.statuses),
        ):
            if values:
                out.append(Filter(fld, "in", list(values)))
        if self.name_contains:
            out.append(Filter("name", "contains", self.name_contains))
        return out


@dataclass(frozen=True, slots=True)
class EntityPage:
    rows: list[Row]
    has_next: bool
    query: EntityQuery

    @property
    def end_cursor(self) -> str | None:
        return encode_cursor(self.rows[-1]["uscc"]) if self.rows else None


def encode_cursor(uscc: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + uscc).encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The register key a cursor stands for; anything this connection did not hand out (a
    forged key included, which would otherwise reach the department) is INVALID_CURSOR."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    key = raw[len(_CURSOR_PREFIX) :]
    if not raw.startswith(_CURSOR_PREFIX) or not _CURSOR_KEY.fullmatch(key):
        raise bad_input(f"{cursor!r} is not a cursor of this connection", "INVALID_CURSOR")
    return key


def check_page_size(ctx: RequestContext, size: int, what: str = "first") -> None:
    """A page of entities, however it is asked for, is at most HUB_MAX_PAGE_SIZE."""
    if size < 0 or size > ctx.settings.max_page_size:
        raise bad_input(
            f"{what} must be between 0 and {ctx.settings.max_page_size}, got {size}",
            "PAGE_SIZE_EXCEEDED",
            max=ctx.settings.max_page_size,
        )


async def list_entities(
    ctx: RequestContext,
    query: EntityQuery,
    first: int | None,
    after: str | None,
    path: list[str | int],
) -> EntityPage | None:
    """A page of the register; None (with the error at `path`) when a department it needs
    cannot answer or refuses the request's values."""
    limit = ctx.settings.max_page_size if first is None else first
    check_page_size(ctx, limit)
    cursor = decode_cursor(after) if after else None
    register = ctx.registry.register()
    filters = query.register_filters()
    try:
        if not query.grades:
            rows = await register.page("entity", filters, cursor, limit + 1)
            page = EntityPage(rows[:limit], len(rows) > limit, query)
        else:
            page = await _page_by_grade(ctx, query, filters, cursor, limit)
    except DepartmentUnavailable as e:
        ctx.report_unavailable(path, e)
        return None
    ctx.loaders.prime_register(page.rows)
    for row in page.rows:
        ctx.record_read(row["uscc"], register.code)
    return page


async def _page_by_grade(
    ctx: RequestContext, query: EntityQuery, filters: list[Filter], cursor: str | None, limit: int
) -> EntityPage:
    """Grades live at the credit platform, the register at market regulation: walk the
    register in key order and keep entities whose grade matches, a batch at a time."""
    register = ctx.registry.register()
    raters = ctx.registry.holding("credit_rating")
    if not raters:
        raise bad_input("no department provides credit grades", "UNSUPPORTED_FILTER")
    rater = raters[0]
    wanted = set(query.grades or ())
    kept: list[Row] = []
    for _ in range(_SCAN_ROUNDS):
        batch = await register.page("entity", filters, cursor, _SCAN_BATCH)
        if not batch:
            return EntityPage(kept, False, query)
        grades = await rater.by_keys("credit_rating", [r["uscc"] for r in batch])
        for row in batch:
            ratings = grades.get(row["uscc"]) or []
            if ratings and ratings[0]["grade"] in wanted:
                if len(kept) == limit:
                    return EntityPage(kept, True, query)
                kept.append(row)
        cursor = batch[-1]["uscc"]
        if len(batch) < _SCAN_BATCH:
            return EntityPage(kept, False, query)
    # A very selective filter: answer a short page whose cursor continues the scan.
    return EntityPage(kept, True, query)


async def count_entities(
    ctx: RequestContext, query: EntityQuery
) -> int | DepartmentUnavailable | None:
    """The number of entities a query matches; a source's failure is returned, not raised
    (count_value reports it at the field)."""
    if query.grades:
        return None  # would need a join across two departments' databases
    try:
        return await ctx.registry.register().count("entity", query.register_filters())
    except DepartmentUnavailable as e:
        return e


def count_value(
    ctx: RequestContext, counted: int | DepartmentUnavailable | None, path: list[str | int]
) -> int | None:
    if isinstance(counted, DepartmentUnavailable):
        ctx.report_unavailable(path, counted)
        return None
    return counted


# -- each entity's records from every department ------------------------------------------------
def permits_valid_on(rows: list[Row], on: date | None) -> list[Row]:
    if on is None:
        return rows
    return [
        r
        for r in rows
        if r["valid_from"] is not None
        and r["valid_from"] <= on
        and (r["valid_to"] is None or r["valid_to"] >= on)
        and r["status"] not in ("REVOKED", "CANCELLED")
    ]


def sort_records(rows: list[Row], date_field: str) -> list[Row]:
    """Newest first, then by department and id, so that merged lists are deterministic."""
    if len(rows) < 2:
        return rows
    return sorted(
        rows,
        key=lambda r: (-(r.get(date_field) or date.min).toordinal(), r["department"], r["id"]),
    )


async def entity_records(
    ctx: RequestContext,
    uscc: str,
    kind: str,
    departments: Sequence[str] | None,
    path: list[str | int],
) -> list[Row]:
    rows, failures = await gather_records(ctx, kind, uscc, check_departments(ctx, departments))
    return settle(ctx, uscc, path, rows, failures)


def settle(
    ctx: RequestContext,
    uscc: str,
    path: list[str | int],
    rows: list[Row],
    failures: Sequence[DepartmentUnavailable],
) -> list[Row]:
    """An entity's records as they arrived: whose were read goes to the access log, who
    failed to answer becomes a partial error at the field's path."""
    for department in {r["department"] for r in rows}:
        ctx.record_read(uscc, department)
    for failure in failures:
        ctx.report_unavailable(path, failure)
    return rows


# -- publicity (planning/credit_lists.py, with this deployment's rules) ----------------------
def penalty_class_of(row: Row) -> PublicityClass:
    """A department's penalty classed from its own record: kind, fine, serious flag."""
    return penalty_class(row["kind"], row["fine"], row["serious"], publicity_rules())


def penalty_publicized(row: Row, today: date | None = None) -> bool:
    """Whether a penalty is in its publicity period (public), counted from its decision."""
    if row["decided_on"] is None:
        return False
    return is_publicized(
        penalty_class_of(row), row["decided_on"], today or date.today(), None, publicity_rules()
    )


def record_publicity(row: Row) -> Publicity | None:
    """The publicity period of a credit record with a class; None when it has none or is
    never published."""
    cls, decided = row.get("publicity_class"), row["decided_on"]
    if cls is None or decided is None:
        return None
    return publicity(PublicityClass(cls), decided, publicity_rules())


def record_publicized(row: Row, today: date | None = None) -> bool:
    """A classed record: within its class's period and not withdrawn by a repair. Any other
    record: from its decision through its end (`effective_to`), not withdrawn."""
    day = today or date.today()
    decided, withdrawn = row["decided_on"], row["withdrawn_on"]
    if row.get("publicity_class") is not None:
        return decided is not None and is_publicized(
            PublicityClass(row["publicity_class"]), decided, day, withdrawn, publicity_rules()
        )
    return (
        (decided is None or decided <= day)
        and (row["effective_to"] is None or day <= row["effective_to"])
        and (withdrawn is None or day < withdrawn)
    )
