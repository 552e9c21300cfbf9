"""The access log in the graph: a department can ask who read its data."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import access_log
from schemas.permissions import Staff


@strawberry.type(description="One request that read entity records.")
class AccessLogEntry:
    at: datetime
    request_id: str
    client_kind: str
    subject: str
    reader_department: str | None
    operation: str | None
    entities: list[str]
    departments: list[str] = strawberry.field(description="Whose data was read.")


@strawberry.type
class AccessQuery:
    @strawberry.field(
        permission_classes=[Staff],
        description="Reads of entity records, newest first: by department whose data was read "
        "(officers: their own) and/or by entity.",
    )
    async def access_log(
        self,
        info: strawberry.Info,
        department: str | None = None,
        uscc: str | None = None,
        first: int = 50,
    ) -> list[AccessLogEntry]:
        rows = await access_log.entries(info.context, department, uscc, first)
        return [
            AccessLogEntry(
                at=r["at"],
                request_id=r["request_id"],
                client_kind=r["client_kind"],
                subject=r["subject"],
                reader_department=r["department"],
                operation=r["operation"],
                entities=[e.strip() for e in r["entities"]],
                departments=list(r["departments"]),
            )
            for r in rows
        ]
