"""Mapping files: a department's tables, columns, key crosswalk and code values, as data.

A mapping declares, per unified record kind (domain/records.py), the source table, the column
holding the entity key and how each unified field is read from a column:

    [records.permit]
    table = "XZXK"
    key = "TYSHXYDM"
    [records.permit.fields]
    id = "XKID"                                          # plain column, read as text
    status = { column = "XKZT", codes = "permit_status" } # translated by a code map
    fine = { column = "fine_fen", type = "fen" }          # a value transform

For PostgreSQL, identifiers follow SQL's own rule for unquoted names (case-insensitive) unless
they mix upper and lower case, in which case they are taken exactly, as quoted SQL would; a
MySQL-family source takes them exactly as written (adapters/dialect.py).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.errors import MappingError
from domain import vocabulary
from domain.records import RECORD_FIELDS

MAPPINGS_DIR = Path(__file__).parent / "mappings"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TRANSFORMS = frozenset(
    {"text", "int", "float", "bool", "date", "yyyymmdd", "yuan", "fen", "list", "csv", "json"}
    | {"flag"}
)
# Unified value types that must come through a code map.
_ENUMS = {
    name: getattr(vocabulary, name)
    for name in (
        "EntityKind",
        "EntityStatus",
        "PermitStatus",
        "PenaltyKind",
        "CreditRecordKind",
        "CreditGrade",
        "InspectionResult",
        "PublicityClass",
    )
}


def ident_parts(name: str) -> list[str]:
    """The parts of an identifier (optionally schema-qualified), each checked to be plain."""
    parts = name.split(".")
    for part in parts:
        if not _IDENT.match(part):
            raise MappingError(f"{name!r} is not a plain SQL identifier")
    return parts


def sql_ident(name: str) -> str:
    """Quote one identifier (optionally schema-qualified) for PostgreSQL, validating it first."""
    out = []
    for part in ident_parts(name):
        exact = part if (part != part.lower() and part != part.upper()) else part.lower()
        out.append('"' + exact + '"')
    return ".".join(out)


@dataclass(frozen=True, slots=True)
class FieldMap:
    name: str
    column: str
    transform: str = "text"
    codes: str | None = None
    true_value: str | None = None  # for "flag": the source value that means true


@dataclass(frozen=True, slots=True)
class RecordMap:
    kind: str
    table: str
    key: str | None  # column batched on; None for whole-table reference lists
    fields: tuple[FieldMap, ...]
    via_crosswalk: bool = False  # the key column holds a legacy key resolved by the crosswalk
    order_by: str | None = None
    where: dict[str, Any] = field(default_factory=dict)  # constant filters {column: value}

    def field(self, name: str) -> FieldMap | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class Crosswalk:
    table: str
    local: str
    uscc: str


@dataclass(frozen=True, slots=True)
class Mapping:
    code: str
    name: str
    name_en: str
    records: dict[str, RecordMap]
    codes: dict[str, dict[str, str]]
    crosswalk: Crosswalk | None = None
    timeout_ms: int = 2000

    def reverse_codes(self, map_name: str, unified: str) -> list[str]:
        """Source codes that mean `unified` (several source codes may share one meaning)."""
        return [src for src, uni in self.codes[map_name].items() if uni == unified]


def _field(kind: str, name: str, spec: Any, codes: dict[str, dict[str, str]]) -> FieldMap:
    if name not in RECORD_FIELDS[kind]:
        raise MappingError(f"{kind}.{name} is not a field of the unified model")
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict) or "column" not in spec:
        raise MappingError(f"{kind}.{name}: expected a column name or a table with 'column'")
    fm = FieldMap(
        name=name,
        column=spec["column"],
        transform=spec.get("type", "text"),
        codes=spec.get("codes"),
        true_value=spec.get("true"),
    )
    sql_ident(fm.column)
    if fm.transform not in TRANSFORMS:
        raise MappingError(f"{kind}.{name}: unknown type {fm.transform!r}")
    if fm.codes is not None and fm.codes not in codes:
        raise MappingError(f"{kind}.{name}: no code map named {fm.codes!r}")
    unified_type = RECORD_FIELDS[kind][name]
    if unified_type in _ENUMS:
        if fm.codes is None:
            raise MappingError(f"{kind}.{name} is an enum and needs a code map")
        allowed = {e.value for e in _ENUMS[unified_type]}
        wrong = sorted(set(codes[fm.codes].values()) - allowed)
        if wrong:
            raise MappingError(f"code map {fm.codes!r} maps to unknown {unified_type} {wrong}")
    return fm


def parse_mapping(data: dict[str, Any], source: str = "<mapping>") -> Mapping:
    try:
        codes = {
            k: {str(s): str(u) for s, u in v.items()} for k, v in data.get("codes", {}).items()
        }
        records: dict[str, RecordMap] = {}
        for kind, spec in data.get("records", {}).items():
            if kind not in RECORD_FIELDS:
                raise MappingError(f"unknown record kind {kind!r}")
            fields = tuple(_field(kind, n, s, codes) for n, s in spec["fields"].items())
            rm = RecordMap(
                kind=kind,
                table=spec["table"],
                key=spec.get("key"),
                fields=fields,
                via_crosswalk=bool(spec.get("crosswalk", False)),
                order_by=spec.get("order_by"),
                where=dict(spec.get("where", {})),
            )
            for ident in (rm.table, rm.key, rm.order_by, *rm.where):
                if ident:
                    sql_ident(ident)
            records[kind] = rm
        cw = data.get("crosswalk")
        crosswalk = Crosswalk(cw["table"], cw["local"], cw["uscc"]) if cw else None
        if any(r.via_crosswalk for r in records.values()) and crosswalk is None:
            raise MappingError("a record is keyed via the crosswalk but none is declared")
        return Mapping(
            code=data["code"],
            name=data["name"],
            name_en=data.get("name_en", data["name"]),
            records=records,
            codes=codes,
            crosswalk=crosswalk,
            timeout_ms=int(data.get("timeout_ms", 2000)),
        )
    except KeyError as e:
        raise MappingError(f"{source}: missing {e.args[0]!r}") from e
    except MappingError as e:
        raise MappingError(f"{source}: {e}") from e


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Load `mappings/<name>.toml`, or a path to a mapping file anywhere."""
    path = Path(name_or_path)
    if not path.suffix:
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
    with path.open("rb") as f:
        return parse_mapping(tomllib.load(f), source=str(path))
