"""Value transforms from source columns to the unified model (declared per field in mappings)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.mapping import FieldMap, Mapping

log = logging.getLogger(__name__)


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else str(v)


def _date(v: Any) -> date:
    return v.date() if isinstance(v, datetime) else v


def _yyyymmdd(v: Any) -> date | None:
    s = str(v).strip()
    return date(int(s[:4]), int(s[4:6]), int(s[6:8])) if s else None


def _yuan(v: Any) -> int:
    """Yuan (numeric) to fen: the hub carries money as integer fen, never floats."""
    return int((Decimal(v) * 100).to_integral_value())


def _list(v: Any) -> list[str]:
    return [_text(x) for x in v]


def _csv(v: Any) -> list[str]:
    return [p.strip() for p in str(v).split(",") if p.strip()]


_PLAIN: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "int": int,
    "float": float,
    "bool": bool,
    "date": _date,
    "yyyymmdd": _yyyymmdd,
    "yuan": _yuan,
    "fen": int,
    "list": _list,
    "csv": _csv,
}


def converter(mapping: Mapping, fm: FieldMap) -> Callable[[Any], Any]:
    """One function per field, built once when the adapter opens."""
    if fm.transform == "flag":
        true = fm.true_value
        base: Callable[[Any], Any] = lambda v: _text(v) == true  # noqa: E731
    else:
        base = _PLAIN[fm.transform]
    if fm.codes is None:
        return lambda v: None if v is None else base(v)
    table = mapping.codes[fm.codes]
    where = f"{mapping.code}.{fm.codes}"

    def code(v: Any) -> str | None:
        mapped = table.get(_text(v))
        if mapped is None:
            # An unmapped code is the source's news, not a reason to fail the request.
            log.warning("unmapped code", extra={"map": where, "value": _text(v)})
        return mapped

    if fm.transform in ("list", "csv"):
        return lambda v: None if v is None else [c for c in map(code, base(v)) if c is not None]
    return lambda v: None if v is None else code(v)
