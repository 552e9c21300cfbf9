"""消防救援支队's own JSON API over its database: the demo department that the hub reads through
an HTTP API instead of its tables (adapters/http_source.py with mappings/fire_http.toml).

The API has its own shape on purpose, not the hub's: camelCase names, ids as numbers, ISO dates,
fines as yuan strings, the department's numeric CODE_LIST codes beside their labels, pages as
`{"items": [...], "next": token-or-null}` (send the token back as `page`), batches of keys as a
comma list (at most 200, else 400), and `Authorization: Bearer <token>` on every route (else 401).

    GET /api/v1/approvals?org=USCC1,USCC2       fire safety approvals (permits)
    GET /api/v1/penalties?org=…                 penalty cases
    GET /api/v1/inspections?org=…&since=&until= inspections (without org: all, paginated)
    GET /api/v1/check-items                     the random-inspection item list
    GET /api/v1/inspectors?district=370202      inspectors (without district: all)
    GET /api/v1/conflicts?org=…                 declared conflicts (without org: all)
    GET /health                                 the API and its database
    every list also takes page=<token> and size=<1..1000, default 500>

    python -m demo.fire_api --port 8101 --token T [--database-url postgresql://…/jsh_fire]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hmac
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.settings import DEFAULT_DATABASE_URL, database_dsn

MAX_KEYS = 200  # keys per batch call
DEFAULT_SIZE = 500
MAX_SIZE = 1000

Json = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"error": message, **extra}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _yuan(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:.2f}"


@dataclass(frozen=True, slots=True)
class Resource:
    """One list of the API: a table, its keyset order, an optional batch parameter."""

    sql: str  # SELECT … FROM … AS t (no WHERE/ORDER)
    order: tuple[str, ...]  # unique keyset columns, in page order
    render: Callable[[asyncpg.Record], Json]
    batch: tuple[str, str] | None = None  # (query parameter, column) of the key batch
    # query parameter -> (SQL condition with {} for the placeholder, parser of the value)
    filters: dict[str, tuple[str, Callable[[str], Any]]] = field(default_factory=dict)


def _label(alias: str, column: str, code_list: str) -> str:
    """The label of a CODE_LIST value, joined beside the numeric code."""
    return (
        f" LEFT JOIN fire.code_list AS {alias} ON {alias}.list_name = '{code_list}'"
        f" AND {alias}.code_num = t.{column}"
    )


RESOURCES: dict[str, Resource] = {
    "approvals": Resource(
        sql="SELECT t.*, s.code_text AS state_text FROM fire.safety_approval AS t"
        + _label("s", "state_num", "APPROVAL_STATE"),
        order=("approval_id",),
        batch=("org", "org_uscc"),
        render=lambda r: {
            "approvalId": r["approval_id"],
            "orgCode": r["org_uscc"],
            "certNo": r["approval_no"],
            "approvalType": r["approval_kind"],
            "issuedDate": _iso(r["approved_on"]),
            "expiryDate": _iso(r["valid_to"]),
            "stateCode": r["state_num"],
            "stateText": r["state_text"],
        },
    ),
    "penalties": Resource(
        sql="SELECT t.*, k.code_text AS kind_text FROM fire.penalty_case AS t"
        + _label("k", "kind_num", "PENALTY_KIND"),
        order=("case_id",),
        batch=("org", "org_uscc"),
        render=lambda r: {
            "caseId": r["case_id"],
            "orgCode": r["org_uscc"],
            "decisionNo": r["case_no"],
            "penaltyType": r["kind_num"],
            "penaltyTypeText": r["kind_text"],
            "fineAmount": _yuan(r["fine_yuan"]),
            "decisionDate": _iso(r["decided_on"]),
            "illegalFact": r["violation"],
            "isSerious": r["serious_flag"],
        },
    ),
    "inspections": Resource(
        sql="SELECT t.*, x.code_text AS result_text FROM fire.inspection AS t"
        + _label("x", "result_num", "RESULT"),
        order=("inspection_id",),
        batch=("org", "org_uscc"),
        filters={
            "since": ("t.inspected_on >= {}", date.fromisoformat),
            "until": ("t.inspected_on <= {}", date.fromisoformat),
        },
        render=lambda r: {
            "inspectionId": r["inspection_id"],
            "orgCode": r["org_uscc"],
            "checkDate": _iso(r["inspected_on"]),
            "resultCode": r["result_num"],
            "resultText": r["result_text"],
            "officerIds": list(r["officers"]),
        },
    ),
    "check-items": Resource(
        sql="SELECT t.* FROM fire.check_item AS t",
        order=("item_no",),
        render=lambda r: {
            "itemNo": r["item_no"],
            "itemName": r["item_name"],
            "lawBasis": r["legal_basis"],
            "subjectTypes": list(r["entity_kinds"]),
            "industryCodes": list(r["industries"]),
            "stdCode": r["standard_code"],
            "canDelegate": r["delegable"],
            "skillTags": list(r["tags"]),
        },
    ),
    "inspectors": Resource(
        sql="SELECT t.* FROM fire.firefighter_inspector AS t",
        order=("inspector_id",),
        batch=("district", "district"),
        render=lambda r: {
            "staffId": r["inspector_id"],
            "fullName": r["name"],
            "certNumber": r["cert_no"],
            "skills": list(r["tags"]),
            "areaCode": r["district"],
            "onDuty": r["on_duty"],
        },
    ),
    "conflicts": Resource(
        sql="SELECT t.* FROM fire.inspector_conflict AS t",
        order=("inspector_id", "org_uscc"),
        batch=("org", "org_uscc"),
        render=lambda r: {
            "staffId": r["inspector_id"],
            "orgCode": r["org_uscc"],
            "reasonText": r["reason"],
        },
    ),
}


def _token(values: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def _untoken(token: str, width: int) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        values = None
    if not isinstance(values, list) or len(values) != width:
        raise ApiError(400, "page is not a token of this list")
    return values


def _size(request: Request) -> int:
    raw = request.query_params.get("size", str(DEFAULT_SIZE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SIZE:
        raise ApiError(400, f"size must be 1..{MAX_SIZE}", max=MAX_SIZE)
    return int(raw)


async def _list(pool: asyncpg.Pool, res: Resource, request: Request) -> Json:
    """One page of a resource: filters and the key batch as parameters, keyset after `page`."""
    q = request.query_params
    args: list[Any] = []
    conds: list[str] = []
    if res.batch is not None and res.batch[0] in q:
        keys = [k.strip().upper() for k in q[res.batch[0]].split(",") if k.strip()]
        if not keys:
            raise ApiError(400, f"{res.batch[0]} is empty")
        if len(keys) > MAX_KEYS:
            raise ApiError(400, f"at most {MAX_KEYS} keys per call, got {len(keys)}", max=MAX_KEYS)
        args.append(keys)
        conds.append(f"t.{res.batch[1]} = ANY(${len(args)})")
    for param, (cond, parse) in res.filters.items():
        if param in q:
            try:
                args.append(parse(q[param]))
            except ValueError:
                raise ApiError(400, f"{param} is malformed: {q[param]!r}") from None
            conds.append(cond.format(f"${len(args)}"))
    order = ", ".join(f"t.{c}" for c in res.order)
    if "page" in q:
        after = _untoken(q["page"], len(res.order))
        marks = []
        for v in after:
            args.append(v)
            marks.append(f"${len(args)}")
        conds.append(f"({order}) > ({', '.join(marks)})")
    size = _size(request)
    args.append(size + 1)  # one more tells whether there is a next page
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    rows = await pool.fetch(f"{res.sql}{where} ORDER BY {order} LIMIT ${len(args)}", *args)
    more = len(rows) > size
    rows = rows[:size]
    nxt = _token(tuple(rows[-1][c] for c in res.order)) if more else None
    return {"items": [res.render(r) for r in rows], "next": nxt}


def create_app(dsn: str, token: str, delay: float = 0.0) -> Starlette:
    """The API over the fire department's database; `delay` (seconds, also app.state.delay)
    slows every answer down, for tests of the hub's timeouts."""
    expected = f"Bearer {token}".encode()

    def guarded(work: Callable[[Request], Awaitable[Any]]) -> Callable[..., Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            sent = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(sent, expected):
                return _json({"error": "missing or invalid bearer token"}, 401)
            if request.app.state.delay:
                await asyncio.sleep(request.app.state.delay)
            try:
                return _json(await work(request))
            except ApiError as e:
                return _json(e.body, e.status)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                return _json({"error": "database unavailable", "detail": type(e).__name__}, 503)

        return handler

    def listing(res: Resource) -> Callable[[Request], Awaitable[Json]]:
        async def work(request: Request) -> Json:
            return await _list(request.app.state.pool, res, request)

        return work

    async def health(request: Request) -> Json:
        await request.app.state.pool.fetchval("SELECT 1")
        return {"status": "UP"}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # min_size=0: the API starts (and answers 503) while its database is down.
        app.state.pool = await asyncpg.create_pool(dsn, min_size=0, max_size=8)
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [Route("/health", guarded(health))] + [
        Route(f"/api/v1/{name}", guarded(listing(res))) for name, res in RESOURCES.items()
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.delay = delay
    return app


def main(argv: list[str] | None = None) -> None:
    default_dsn = database_dsn(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        f"{os.environ.get('HUB_DB_PREFIX', 'jsh_')}fire",
    )
    p = argparse.ArgumentParser(prog="python -m demo.fire_api", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8101)
    p.add_argument("--database-url", default=default_dsn, help=f"default {default_dsn}")
    p.add_argument(
        "--token", default=os.environ.get("FIRE_API_TOKEN"), help="default $FIRE_API_TOKEN"
    )
    p.add_argument(
        "--delay-ms",
        type=int,
        default=int(os.environ.get("FIRE_API_DELAY_MS", "0")),
        help="artificial delay of every answer (tests of timeouts)",
    )
    args = p.parse_args(argv)
    if not args.token:
        p.error("a token is required: --token or FIRE_API_TOKEN")
    app = create_app(args.database_url, args.token, args.delay_ms / 1000)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
