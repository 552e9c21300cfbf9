"""The HTTP adapter: a department that exposes a JSON API instead of its database.

Same interface as PostgresSource, driven by a mapping file (mappings/fire_http.toml): the
unified fields, transforms and code maps are declared and validated exactly as for SQL
(adapters/mapping.py), with JSON field names where SQL mappings name columns; the HTTP parts
(an `[http]` table, each record's path, batch parameter, pagination, filters) are parsed in
adapters/http_mapping.py.

One call per batch of up to `batch_max` keys (larger batches are split and sent concurrently),
pages followed through the API's continuation token; every call counts in `statements`, like
a SQL statement. Any failure of the department (connect, timeout, status >= 400, bad JSON, a
value that does not convert) is a DepartmentUnavailable naming the reason in words; nothing
else escapes. An API refusing the request's values (400, 413, 414, 422) is a partial result
too, but it answered: it never counts against the breaker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import orjson

from adapters.breaker import CircuitBreaker
from adapters.errors import DepartmentUnavailable, describe, metric_label
from adapters.http_mapping import Endpoint, HttpMapping
from adapters.postgres import READ_RETRIES, Filter, Row
from adapters.transforms import converter
from domain.records import RECORD_FIELDS
from telemetry import tracing

log = logging.getLogger(__name__)

_MAX_PAGES = 100_000  # a guard against an API whose tokens never end
# Statuses by which an API refuses the request's values (bad request, too large, URI too
# long, unprocessable); any other status >= 400 is the department's failure.
_INPUT_REFUSED = frozenset({400, 413, 414, 422})


class NotSupported(DepartmentUnavailable):
    """The source's API cannot answer this kind of query (e.g. list a table it only serves by
    key). A DepartmentUnavailable, so that a request degrades to a partial result."""


# -- JSON values to what the shared transforms expect ------------------------------------------
def _json_date(v: Any) -> Any:
    if isinstance(v, str):
        return datetime.fromisoformat(v).date() if len(v) > 10 else date.fromisoformat(v)
    return v


def _json_bool(v: Any) -> Any:
    if isinstance(v, str):  # bool("false") would be True
        if v.strip().lower() in ("true", "1", "y", "yes"):
            return True
        if v.strip().lower() in ("false", "0", "n", "no", ""):
            return False
        raise ValueError(f"not a boolean: {v!r}")
    return v


def _json_money(v: Any) -> Any:
    return Decimal(repr(v)) if isinstance(v, float) else v  # never through a binary float


_JSON_PRE: dict[str, Callable[[Any], Any]] = {
    "date": _json_date,
    "bool": _json_bool,
    "yuan": _json_money,
}


def _getter(path: str) -> Callable[[Any], Any]:
    """Read a (dotted, for nested objects) field of a JSON object; absent is None."""
    if not path:
        return lambda obj: obj
    parts = path.split(".")
    if len(parts) == 1:
        return lambda obj: obj.get(path) if isinstance(obj, dict) else None

    def get(obj: Any) -> Any:
        for p in parts:
            obj = obj.get(p) if isinstance(obj, dict) else None
        return obj

    return get


def _query_value(v: Any) -> str:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple | set | frozenset):
        return ",".join(_query_value(x) for x in v)
    return str(v)


def _message(resp: httpx.Response) -> str:
    """The API's own words about a refusal, short."""
    text = resp.text
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        for k in ("message", "msg", "error", "detail", "title"):
            if isinstance(body.get(k), str):
                text = body[k]
                break
    return " ".join(text.split())[:200]


@dataclass(slots=True)
class _Compiled:
    endpoint: Endpoint
    names: tuple[str, ...]
    reads: tuple[Callable[[Any], Any], ...]  # per field: JSON object -> unified value
    key: Callable[[Any], Any] | None
    items: Callable[[Any], Any]
    next: Callable[[Any], Any]


class HttpSource:
    kind = "http"

    def __init__(
        self,
        http_mapping: HttpMapping,
        url: str,
        *,
        token: str | None = None,
        token_env: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: a mock transport
    ) -> None:
        self.http_mapping = http_mapping
        self.mapping = http_mapping.mapping
        self.code = self.mapping.code
        self.url = url.rstrip("/")
        self.timeout = self.mapping.timeout_ms / 1000
        self.statements = 0  # HTTP calls sent; counted like SQL statements
        self.breaker = CircuitBreaker(self.code)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._compiled = {k: self._compile(ep) for k, ep in http_mapping.endpoints.items()}
        # The secret only ever comes from the environment (the mapping names the variable).
        env_name = token_env or http_mapping.token_env
        if token is None and env_name:
            token = os.environ.get(env_name) or None
        self._token = token
        # A missing token is the department's configuration problem: it is reported as
        # unavailable (with the reason) rather than stopping the hub from starting.
        self._auth_problem = (
            f"token variable {env_name} is not set" if env_name and not token else None
        )

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        hm = self.http_mapping
        headers = {"user-agent": "joint-supervision-hub", "accept": "application/json"}
        if self._token:
            scheme = hm.auth_scheme.strip()
            headers[hm.auth_header] = f"{scheme} {self._token}" if scheme else self._token
        elif self._auth_problem:
            log.warning("department API without its token", extra={"department": self.code})
        # Like the SQL pools: no connection until the first call, so the hub starts while
        # the department is down; kept-alive connections are reused across requests.
        self._client = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=hm.max_connections,
                max_keepalive_connections=hm.max_connections,
                keepalive_expiry=60,
            ),
            transport=self._transport,
            follow_redirects=False,  # a redirect could carry the token elsewhere
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def supports(self, kind: str) -> bool:
        return kind in self._compiled

    def _compile(self, ep: Endpoint) -> _Compiled:
        rm = self.mapping.records[ep.kind]
        reads = []
        for fm in rm.fields:
            get, pre, conv = (
                _getter(fm.column),
                _JSON_PRE.get(fm.transform),
                converter(self.mapping, fm),
            )
            if pre is None:
                reads.append(lambda obj, get=get, conv=conv: conv(get(obj)))
            else:
                reads.append(lambda obj, get=get, pre=pre, conv=conv: conv(pre(get(obj))))
        return _Compiled(
            endpoint=ep,
            names=tuple(f.name for f in rm.fields),
            reads=tuple(reads),
            key=_getter(ep.key) if ep.key else None,
            items=_getter(ep.paging.items),
            next=_getter(ep.paging.next) if ep.paging.next else lambda body: None,
        )

    # -- calls -----------------------------------------------------------------------------
    def _unavailable(self, reason: str, label: str | None = None) -> DepartmentUnavailable:
        """The failure to raise; with a metrics `label` it also counts against the breaker."""
        if label is not None:
            self.breaker.failure(label)
        return DepartmentUnavailable(self.code, reason)

    async def _get(
        self, path: str, params: list[tuple[str, str]], timeout: float | None = None
    ) -> Any:
        """One GET within the department's time budget, its JSON body decoded. Connection
        failures are retried (GETs are safe to repeat) with jittered backoff inside that
        budget, as the SQL adapter does; every failure is a DepartmentUnavailable."""
        if self._client is None:
            raise self._unavailable("not opened")
        if self._auth_problem:
            raise self._unavailable(self._auth_problem)
        if refusal := self.breaker.refusal():
            raise self._unavailable(refusal)
        self.statements += 1
        attributes = {"department": self.code, "http.request.method": "GET", "url.path": path}
        # A span per call, as for SQL; a failure is recorded on it as the exception raised.
        with tracing.tracer.start_as_current_span("department.query", attributes=attributes):
            return await self._send(self._client, path, params, timeout or self.timeout)

    async def _send(
        self, client: httpx.AsyncClient, path: str, params: list[tuple[str, str]], limit: float
    ) -> Any:
        start = time.perf_counter()
        attempt = 0
        try:
            # httpx's timeout bounds each phase; this bounds the whole call (a slow drip).
            async with asyncio.timeout(limit):
                while True:
                    try:
                        resp = await client.get(path, params=params, timeout=limit)
                        break
                    except httpx.TimeoutException:
                        raise
                    except httpx.TransportError:  # refused, reset, a closed keep-alive
                        attempt += 1
                        if attempt > READ_RETRIES:
                            raise
                        await asyncio.sleep(random.uniform(0.5, 1.5) * 0.05 * 2**attempt)
        except (TimeoutError, httpx.TimeoutException):
            raise self._unavailable(f"no answer within {limit:g}s", "timeout") from None
        except asyncio.CancelledError:
            raise
        except Exception as e:  # any source failure is reported in words, the rest logged
            log.warning(
                "department call failed", extra={"department": self.code, "reason": repr(e)[:300]}
            )
            raise self._unavailable(describe(e), metric_label(e)) from e
        if resp.status_code in _INPUT_REFUSED:
            # The API refused the request's values: a partial result like any failure, but the
            # department answered, so its breaker hears a sign of life, not a failure.
            self.breaker.success(time.perf_counter() - start)
            raise self._unavailable(f"HTTP {resp.status_code}: {_message(resp)}")
        if resp.status_code >= 400:
            raise self._unavailable(
                f"HTTP {resp.status_code}: {_message(resp)}", f"http_{resp.status_code}"
            )
        if resp.status_code >= 300:
            raise self._unavailable(
                f"HTTP {resp.status_code} (redirects are not followed)", f"http_{resp.status_code}"
            )
        try:
            body = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise self._unavailable(f"invalid JSON from {path}", "bad_json") from None
        self.breaker.success(time.perf_counter() - start)
        return body

    async def _collect(
        self, c: _Compiled, params: list[tuple[str, str]], timeout: float | None = None
    ) -> list[Any]:
        """Every record of a query, following the API's pages."""
        ep = c.endpoint
        query = [*ep.params.items(), *params]
        if ep.paging.size_param:
            query.append((ep.paging.size_param, str(ep.paging.size)))
        out: list[Any] = []
        seen: set[str] = set()
        page: list[tuple[str, str]] = []
        for _ in range(_MAX_PAGES):
            body = await self._get(ep.path, query + page, timeout)
            items = c.items(body)
            if not isinstance(items, list):
                raise self._unavailable(
                    f"unexpected answer from {ep.path}: no list of records", "bad_answer"
                )
            out.extend(items)
            token = c.next(body)
            if token is None or token == "":
                return out
            token = str(token)
            if token in seen:  # the same page again would loop forever
                raise self._unavailable(f"pages of {ep.path} do not advance", "bad_answer")
            seen.add(token)
            page = [(ep.paging.page_param, token)]
        raise self._unavailable(f"more than {_MAX_PAGES} pages from {ep.path}", "bad_answer")

    def _rows(self, c: _Compiled, items: list[Any]) -> list[Row]:
        names, reads, code = c.names, c.reads, self.code
        blank = dict.fromkeys(RECORD_FIELDS[c.endpoint.kind])
        out = []
        for obj in items:
            if not isinstance(obj, dict):
                raise self._unavailable(
                    f"unexpected answer from {c.endpoint.path}: not objects", "bad_answer"
                )
            try:
                row = {**blank, **{n: r(obj) for n, r in zip(names, reads, strict=True)}}
            except (ValueError, TypeError, ArithmeticError, InvalidOperation) as e:
                raise self._unavailable(
                    f"unreadable {c.endpoint.kind} from {c.endpoint.path}: {e}"[:200], "bad_answer"
                ) from None
            row["department"] = code
            out.append(row)
        return out

    def _sorted(self, c: _Compiled, rows: list[Row]) -> list[Row]:
        f = c.endpoint.order_by
        if f is None:
            return rows
        return sorted(rows, key=lambda r: (r[f] is None, r[f]))  # NULLs last, as in SQL

    def _listing(self, kind: str, what: str) -> _Compiled:
        c = self._compiled[kind]
        if not c.endpoint.listable:
            raise NotSupported(
                self.code, f"{what} of {kind!r} is not supported by this source (no listing)"
            )
        return c

    def _filter_params(self, c: _Compiled, filters: Sequence[Filter]) -> list[tuple[str, str]]:
        out = []
        for flt in filters:
            param = c.endpoint.filters.get((flt.field, flt.op))
            if param is None and flt.op == "eq":
                param = c.endpoint.filters.get((flt.field, "in"))
            if param is None:
                raise NotSupported(
                    self.code,
                    f"filter {flt.field} {flt.op} on {c.endpoint.kind!r} is not supported by "
                    "this source",
                )
            value = flt.value
            fm = self.mapping.records[c.endpoint.kind].field(flt.field)
            if fm is not None and fm.codes is not None:  # filter in the source's own codes
                values = value if flt.op == "in" else [value]
                value = [s for v in values for s in self.mapping.reverse_codes(fm.codes, v)]
            out.append((param, _query_value(value)))
        return out

    # -- the adapter's interface -----------------------------------------------------------
    async def by_keys(self, kind: str, keys: Sequence[str]) -> dict[str, list[Row]]:
        """Every record of `kind` for a batch of keys, grouped by key: one call per
        `batch_max` keys (the calls of a larger batch run concurrently)."""
        c = self._compiled[kind]
        ep = c.endpoint
        if ep.batch_param is None or c.key is None:
            raise NotSupported(self.code, f"{kind!r} is not looked up by key at this source")
        unique = list(dict.fromkeys(keys))
        grouped: dict[str, list[Row]] = {k: [] for k in keys}
        if not unique:
            return grouped
        chunks = [unique[i : i + ep.batch_max] for i in range(0, len(unique), ep.batch_max)]

        def params(chunk: list[str]) -> list[tuple[str, str]]:
            if ep.batch_style == "repeat":
                return [(ep.batch_param, k) for k in chunk]  # type: ignore[misc]
            return [(ep.batch_param, ",".join(chunk))]  # type: ignore[list-item]

        if len(chunks) == 1:
            batches = [await self._collect(c, params(chunks[0]))]
        else:
            try:
                # A TaskGroup cancels the sibling calls as soon as one fails.
                async with asyncio.TaskGroup() as tg:
                    tasks = [tg.create_task(self._collect(c, params(ch))) for ch in chunks]
            except* DepartmentUnavailable as eg:
                raise eg.exceptions[0] from None
            batches = [t.result() for t in tasks]
        for items in batches:
            for obj, row in zip(items, self._rows(c, items), strict=True):
                key = c.key(obj)
                if key is None:
                    raise self._unavailable(
                        f"a {kind} from {ep.path} has no {ep.key}", "bad_answer"
                    )
                grouped.setdefault(str(key).strip(), []).append(row)
        if ep.order_by is not None:
            for k, rows in grouped.items():
                if len(rows) > 1:
                    grouped[k] = self._sorted(c, rows)
        return grouped

    async def all(self, kind: str) -> list[Row]:
        """A whole reference list (e.g. the random-inspection item list), every page of it."""
        c = self._listing(kind, "listing")
        return self._sorted(c, self._rows(c, await self._collect(c, [])))

    async def page(
        self, kind: str, filters: Sequence[Filter], after: str | None, limit: int
    ) -> list[Row]:
        # Keyset pages serve the entity register, which lives in a database source.
        raise NotSupported(self.code, f"pages of {kind!r} are not supported by this source")

    async def scan(
        self,
        kind: str,
        filters: Sequence[Filter],
        fields: Sequence[str],
        timeout: float | None = None,
    ) -> list[tuple[Any, ...]]:
        """Selected fields of every matching record, as tuples (the draw's lean read); the
        filters must be declared in the mapping, `timeout` bounds each call."""
        c = self._listing(kind, "scan")
        params = self._filter_params(c, filters)
        rows = self._rows(c, await self._collect(c, params, timeout))
        return [tuple(r[f] for f in fields) for r in rows]

    async def count(self, kind: str, filters: Sequence[Filter]) -> int:
        c = self._listing(kind, "count")
        return len(await self._collect(c, self._filter_params(c, filters)))

    async def ping(self) -> float:
        """Round-trip seconds of the health call; raises DepartmentUnavailable."""
        start = time.perf_counter()
        await self._get(self.http_mapping.health, [])
        return time.perf_counter() - start
