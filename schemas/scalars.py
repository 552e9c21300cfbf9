"""Custom scalars of the graph (registered in the schema's scalar_map)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NewType

import strawberry

Money = NewType("Money", int)  # integer fen inside the hub


def _serialize_money(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _parse_money(value: object) -> int:
    try:
        return int((Decimal(str(value)) * 100).to_integral_exact())
    except (InvalidOperation, ValueError) as e:
        raise ValueError(f"{value!r} is not an amount of money with at most two decimals") from e


SCALARS = {
    Money: strawberry.scalar(
        name="Money",
        description=(
            'An amount in yuan (CNY) as a decimal string with two places, e.g. "2000.00". '
            "Carried exactly (integer fen inside), never as a float."
        ),
        serialize=_serialize_money,
        parse_value=_parse_money,
    )
}
