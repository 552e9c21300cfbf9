"""The population of an entity draw, frozen column by column.

One entry per entity the scope and the departments' item lists admit, in ascending USCC order:
its credit grade, whether it is active, whether it is on the abnormal-operation or
serious-violation list, and when it was last inspected. Columns (numpy arrays) rather than one
object per entity: a whole city is a million entries, and selecting, counting and stratifying
them is then a handful of array operations; only the keyed hash runs per entity. The draw, the
frozen snapshot and the public record read the same columns (``docs/draw-spec.md`` §2 defines
their stored form and its hash).

Exclusions (inactive, recently inspected) are decided by the draw from these columns, so the
frozen list holds the excluded entities too and anyone can recount them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import numpy as np

from domain.vocabulary import CreditGrade

USCC_LENGTH = 18
CODE = f"S{USCC_LENGTH}"
GRADES = frozenset("ABCD")
_GRADE_BYTES = np.array([b"A", b"B", b"C", b"D"], dtype="S1")


class Candidate(NamedTuple):
    """One entity of the pool, as an adapter reports it (the row view of a Population)."""

    uscc: str
    grade: CreditGrade
    status_active: bool
    last_inspected: date | None = None
    abnormal: bool = False  # on the abnormal-operation or serious-violation list


def _flags(text: str) -> np.ndarray:
    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    if not np.isin(raw, (48, 49)).all():
        raise ValueError("active and listed flags must be '0' or '1'")
    return raw == 49


def _flag_text(flags: np.ndarray) -> str:
    return (flags.astype(np.uint8) + 48).tobytes().decode("ascii")


@dataclass(frozen=True, slots=True, eq=False)
class Population:
    """Entry i is USCC ``codes[i]`` (18 ASCII bytes) with grade ``grades[i]`` (b"A"–b"D"),
    active when ``active[i]``, listed when ``listed[i]``, last inspected on the date whose
    ordinal is ``last[i]`` (0: never, as far as the draw knows)."""

    codes: np.ndarray  # S18
    grades: np.ndarray  # S1
    active: np.ndarray  # bool
    listed: np.ndarray  # bool
    last: np.ndarray  # int32 date ordinals

    def __post_init__(self) -> None:
        n = len(self.codes)
        if not len(self.grades) == len(self.active) == len(self.listed) == len(self.last) == n:
            raise ValueError("the population's columns differ in length")
        known = np.isin(self.grades, _GRADE_BYTES)
        if not known.all():
            at = int(np.flatnonzero(~known)[0])
            raise ValueError(
                f"{self.codes[at].decode()}: unknown credit grade {self.grades[at].decode()!r}"
            )

    def __len__(self) -> int:
        return len(self.codes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Population):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("codes", "grades", "active", "listed", "last")
        )

    @classmethod
    def of(cls, candidates: Iterable[Candidate]) -> Population:
        """Columns from rows, sorted by USCC (the order of the frozen list)."""
        rows = sorted(candidates, key=lambda c: c.uscc)
        for c in rows:
            if len(c.uscc) != USCC_LENGTH or not c.uscc.isascii():
                raise ValueError(f"{c.uscc!r} is not an 18-character code")
            if c.grade not in GRADES:
                raise ValueError(f"{c.uscc}: unknown credit grade {c.grade!r}")
            if not isinstance(c.abnormal, bool) or not isinstance(c.status_active, bool):
                raise ValueError(f"{c.uscc}: active and abnormal must be bools")
        return cls(
            np.array([c.uscc.encode() for c in rows], dtype=CODE),
            np.array([str(c.grade).encode() for c in rows], dtype="S1"),
            np.array([c.status_active for c in rows], dtype=bool),
            np.array([c.abnormal for c in rows], dtype=bool),
            np.array(
                [c.last_inspected.toordinal() if c.last_inspected else 0 for c in rows],
                dtype=np.int32,
            ),
        )

    def usccs(self) -> list[str]:
        return [c.decode() for c in self.codes.tolist()]

    def candidates(self) -> Iterator[Candidate]:
        rows = zip(
            self.usccs(),
            self.grades.tolist(),
            self.active.tolist(),
            self.last.tolist(),
            self.listed.tolist(),
            strict=True,
        )
        for u, g, a, seen, lst in rows:
            yield Candidate(
                u, CreditGrade(g.decode()), a, date.fromordinal(seen) if seen else None, lst
            )

    def where(self, keep: np.ndarray) -> Population:
        """The entries where ``keep`` is true (a boolean mask), in the same order."""
        return Population(
            self.codes[keep],
            self.grades[keep],
            self.active[keep],
            self.listed[keep],
            self.last[keep],
        )

    def of_grades(self, grades: Iterable[str]) -> Population:
        """The entries whose grade is one of ``grades`` (a scope narrowed by credit grade)."""
        return self.where(np.isin(self.grades, [g.encode() for g in grades]))

    # -- stored and published form (docs/draw-spec.md §2) ------------------------------------
    def to_data(self) -> dict[str, Any]:
        seen = np.flatnonzero(self.last)
        return {
            "uscc": self.codes.tobytes().decode("ascii"),
            "grade": self.grades.tobytes().decode("ascii"),
            "active": _flag_text(self.active),
            "abnormal": _flag_text(self.listed),
            "lastInspected": {
                str(i): date.fromordinal(d).isoformat()
                for i, d in zip(seen.tolist(), self.last[seen].tolist(), strict=True)
            },
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Population:
        raw = data["uscc"].encode("ascii")
        if len(raw) % USCC_LENGTH:
            raise ValueError("the frozen population's codes are not 18 characters each")
        n = len(raw) // USCC_LENGTH
        last = np.zeros(n, dtype=np.int32)
        for i, d in data["lastInspected"].items():
            last[int(i)] = date.fromisoformat(d).toordinal()
        return cls(
            np.frombuffer(raw, dtype=CODE),
            np.frombuffer(data["grade"].encode("ascii"), dtype="S1"),
            _flags(data["active"]),
            _flags(data["abnormal"]),
            last,
        )

    def sha256(self) -> str:
        """The hash of the frozen list that the public record and the audit entry carry."""
        return population_sha256(self.to_data())


def population_sha256(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the columns joined by line feeds, the last-inspected dates as
    ``index:YYYY-MM-DD`` pairs in ascending index order joined by commas (all ASCII)."""
    dates = ",".join(
        f"{i}:{d}" for i, d in sorted(((int(k), v) for k, v in data["lastInspected"].items()))
    )
    text = "\n".join((data["uscc"], data["grade"], data["active"], data["abnormal"], dates))
    return hashlib.sha256(text.encode("ascii")).hexdigest()
