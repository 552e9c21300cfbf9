"""Unified Social Credit Code (GB 32100-2015): validation, normalization, generation.

The code is the key of every entity in the graph, so a malformed one is a user error,
never a "not found".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


class InvalidUSCC(ValueError):
    """The input is not a Unified Social Credit Code; `reason` says why in words."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"{value!r} is not a valid Unified Social Credit Code: {reason}")
        self.value = value
        self.reason = reason


@dataclass(frozen=True, slots=True)
class USCC:
    code: str
    legacy: bool = False  # accepted from the allow-list although its check characters fail

    @property
    def authority(self) -> str:
        return self.code[0]

    @property
    def entity_type(self) -> str:
        return self.code[1]

    @property
    def division(self) -> str:
        return self.code[2:8]

    @property
    def organization_code(self) -> str:
        return self.code[8:17]


def _org_check(body: str) -> str | None:
    """Check character of a GB 11714 organization code body (8 chars), None if not computable."""
    total = 0
    for ch, w in zip(body, _ORG_WEIGHTS, strict=True):
        if ch.isdigit():
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - ord("A") + 10
        else:
            return None
        total += v * w
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (all in ALPHABET)."""
    s = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - s % 31) % 31]


def parse(value: str, legacy_allow: Iterable[str] = ()) -> USCC:
    """Normalize (strip, upper-case) and validate; raise InvalidUSCC with the reason."""
    if not isinstance(value, str):
        raise InvalidUSCC(str(value), "not a string")
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidUSCC(value, f"must be 18 characters, got {len(code)}")
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise InvalidUSCC(
            value, f"characters {''.join(bad)!r} are not allowed (digits and A-Y except I O Z S V)"
        )
    org = _org_check(code[8:16])
    if org != code[16] or check_character(code[:17]) != code[17]:
        if code in set(legacy_allow):
            return USCC(code, legacy=True)
        which = "organization-code check character (17th)" if org != code[16] else "check character"
        raise InvalidUSCC(value, f"wrong {which}")
    return USCC(code)


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidUSCC:
        return False
    return True


def make(authority: str, entity_type: str, division: str, org_body: str) -> str:
    """Build a valid code from its parts; org_body is the 8 body characters of the org code."""
    org = _org_check(org_body)
    if org is None or len(division) != 6 or len(org_body) != 8:
        raise ValueError("bad parts for a USCC")
    first17 = f"{authority}{entity_type}{division}{org_body}{org}"
    if any(c not in _VALUE for c in first17):
        raise ValueError(f"{first17} has characters outside the USCC alphabet")
    return first17 + check_character(first17)
