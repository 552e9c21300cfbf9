"""Who read which entity's record: officers see reads of their own department's data,
planners any department's."""

from __future__ import annotations

from typing import Any

from domain.access import ClientKind
from resolvers.context import RequestContext
from resolvers.entities import normalize_uscc
from resolvers.errors import ApiError, bad_input
from store import access
from tasks.common import reading

MAX_ENTRIES = 200


async def entries(
    ctx: RequestContext, department: str | None, uscc: str | None, first: int
) -> list[Any]:
    if not 0 <= first <= MAX_ENTRIES:
        raise bad_input(
            f"first must be between 0 and {MAX_ENTRIES}", "PAGE_SIZE_EXCEEDED", max=MAX_ENTRIES
        )
    who = ctx.principal
    if who.kind == ClientKind.OFFICER:
        if department not in (None, who.department):
            raise ApiError("officers see who read their own department's data", "FORBIDDEN")
        department = who.department
    code = normalize_uscc(ctx, uscc) if uscc else None
    async with reading(ctx) as pool:
        return await access.read_log(pool, department, code, first)
