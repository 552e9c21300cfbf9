"""HTTP mappings: the unified fields, transforms and code maps of a department that serves a
JSON API, validated exactly as for SQL (adapters/mapping.py) with JSON field names where SQL
mappings name columns, plus the HTTP parts: an `[http]` table, and each record's path, batch
parameter, pagination and filters. adapters/http_source.py executes them."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.errors import MappingError
from adapters.mapping import MAPPINGS_DIR, Mapping, RecordMap, parse_mapping

FILTER_OPS = frozenset({"eq", "in", "gte", "lte", "contains", "prefix"})
_PAGING_KEYS = ("items", "next", "page_param", "size_param", "page_size")
_HTTP_KEYS = frozenset(
    {"health", "auth_header", "auth_scheme", "token_env", "max_connections", *_PAGING_KEYS}
)
_RECORD_KEYS = frozenset(
    {"path", "key", "batch_param", "batch_max", "batch_style", "list", "order_by", "params"}
    | {"filters", "fields", *_PAGING_KEYS}
)
_TOP_KEYS = frozenset({"code", "name", "name_en", "timeout_ms", "codes", "http", "records"})


@dataclass(frozen=True, slots=True)
class Paging:
    items: str  # dotted path of the records array in a response; "" = the body is the array
    next: str  # dotted path of the continuation token; null, "" or absent on the last page
    page_param: str  # the query parameter the token is sent back in
    size_param: str | None
    size: int


@dataclass(frozen=True, slots=True)
class Endpoint:
    kind: str
    path: str
    key: str | None  # JSON field of the batch key, rows are grouped on it
    batch_param: str | None  # query parameter carrying a batch of keys
    batch_max: int
    batch_style: str  # "csv": k1,k2 in one parameter; "repeat": the parameter once per key
    listable: bool  # the path without batch_param lists every record (all/scan/count)
    order_by: str | None  # unified field
    params: dict[str, str]  # constant query parameters
    filters: dict[tuple[str, str], str]  # (unified field, op) -> query parameter
    paging: Paging


@dataclass(frozen=True, slots=True)
class HttpMapping:
    mapping: Mapping  # code, names, codes and fields: the shared, validated part
    endpoints: dict[str, Endpoint]
    health: str
    auth_header: str
    auth_scheme: str
    token_env: str | None
    max_connections: int


def _paging(spec: dict[str, Any], default: Paging | None = None) -> Paging:
    base = default or Paging("items", "next", "page", None, 500)
    size = int(spec.get("page_size", base.size))
    if size < 1:
        raise MappingError("page_size must be positive")
    return Paging(
        items=str(spec.get("items", base.items)),
        next=str(spec.get("next", base.next)),
        page_param=str(spec.get("page_param", base.page_param)),
        size_param=spec.get("size_param", base.size_param),
        size=size,
    )


def _endpoint(kind: str, spec: dict[str, Any], rm: RecordMap, paging: Paging) -> Endpoint:
    unknown = set(spec) - _RECORD_KEYS
    if unknown:
        raise MappingError(f"{kind}: unknown keys {sorted(unknown)}")
    path = spec["path"]
    if not isinstance(path, str) or not path.startswith("/"):
        raise MappingError(f"{kind}: path must start with '/'")
    batch_param = spec.get("batch_param")
    if (batch_param is None) != (spec.get("key") is None):
        raise MappingError(f"{kind}: key and batch_param go together")
    batch_max = int(spec.get("batch_max", 100))
    if batch_max < 1:
        raise MappingError(f"{kind}: batch_max must be positive")
    batch_style = spec.get("batch_style", "csv")
    if batch_style not in ("csv", "repeat"):
        raise MappingError(f"{kind}: batch_style is csv or repeat")
    mapped = {f.name for f in rm.fields}
    order_by = spec.get("order_by")
    if order_by is not None and order_by not in mapped:
        raise MappingError(f"{kind}: order_by {order_by!r} is not a mapped field")
    filters: dict[tuple[str, str], str] = {}
    for name, ops in spec.get("filters", {}).items():
        if name not in mapped:
            raise MappingError(f"{kind}: filter on {name!r}, which is not a mapped field")
        for op, param in ops.items():
            if op not in FILTER_OPS:
                raise MappingError(f"{kind}.{name}: unknown filter op {op!r}")
            filters[(name, op)] = str(param)
    return Endpoint(
        kind=kind,
        path=path,
        key=spec.get("key"),
        batch_param=batch_param,
        batch_max=batch_max,
        batch_style=batch_style,
        # A list without a key can only be listed; a keyed one when the mapping says so.
        listable=bool(spec.get("list", batch_param is None)),
        order_by=order_by,
        params={str(k): str(v) for k, v in spec.get("params", {}).items()},
        filters=filters,
        paging=_paging(spec, paging),
    )


def _as_column(spec: Any) -> Any:
    """A field spec in the shape adapters/mapping.py validates (`field` there is `column`)."""
    if isinstance(spec, dict) and "field" in spec:
        spec = {("column" if k == "field" else k): v for k, v in spec.items()}
    return spec


def parse_http_mapping(data: dict[str, Any], source: str = "<mapping>") -> HttpMapping:
    try:
        unknown = set(data) - _TOP_KEYS  # e.g. a SQL crosswalk, which means nothing here
        if unknown:
            raise MappingError(f"unknown keys {sorted(unknown)}")
        http = data["http"]
        unknown = set(http) - _HTTP_KEYS
        if unknown:
            raise MappingError(f"[http]: unknown keys {sorted(unknown)}")
        records = data.get("records", {})
        # JSON names may be anything; the shared validator wants SQL identifiers, so it sees
        # placeholders and the real names are put back once types and code maps are checked.
        names: dict[tuple[str, str], str] = {}
        shared_records: dict[str, Any] = {}
        for kind, spec in records.items():
            fields = {}
            for i, (name, fspec) in enumerate(spec["fields"].items()):
                fspec = _as_column(fspec)
                json_name = fspec if isinstance(fspec, str) else fspec.get("column")
                if not isinstance(json_name, str) or not json_name:
                    raise MappingError(f"{kind}.{name}: expected a JSON field name")
                names[(kind, name)] = json_name
                fields[name] = {**fspec, "column": f"f{i}"} if isinstance(fspec, dict) else f"f{i}"
            shared_records[kind] = {"table": "http", "fields": fields}
        shared = {k: v for k, v in data.items() if k not in ("http", "records")}
        mapping = parse_mapping({**shared, "records": shared_records}, source)
        restored = {
            kind: dataclasses.replace(
                rm,
                table=records[kind]["path"],
                key=records[kind].get("key"),
                fields=tuple(
                    dataclasses.replace(f, column=names[(kind, f.name)]) for f in rm.fields
                ),
            )
            for kind, rm in mapping.records.items()
        }
        mapping = dataclasses.replace(mapping, records=restored)
        paging = _paging(http)
        endpoints = {
            kind: _endpoint(kind, records[kind], rm, paging) for kind, rm in restored.items()
        }
        max_connections = int(http.get("max_connections", 16))
        if max_connections < 1:
            raise MappingError("[http]: max_connections must be positive")
        return HttpMapping(
            mapping=mapping,
            endpoints=endpoints,
            health=str(http.get("health", "/health")),
            auth_header=str(http.get("auth_header", "Authorization")),
            auth_scheme=str(http.get("auth_scheme", "Bearer")),
            token_env=http.get("token_env"),
            max_connections=max_connections,
        )
    except KeyError as e:
        raise MappingError(f"{source}: missing {e.args[0]!r}") from e
    except MappingError as e:
        if str(e).startswith(source):  # already named by the shared parser
            raise
        raise MappingError(f"{source}: {e}") from e
    except (TypeError, ValueError, AttributeError) as e:  # a value of the wrong shape
        raise MappingError(f"{source}: {e}") from e


def load_http_mapping(name_or_path: str | Path) -> HttpMapping:
    """Load `mappings/<name>.toml`, or a path to an HTTP mapping file anywhere."""
    path = Path(name_or_path)
    if not path.suffix:
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
    with path.open("rb") as f:
        return parse_http_mapping(tomllib.load(f), source=str(path))
