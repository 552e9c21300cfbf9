"""The population of an entity draw, frozen column by column.

One entry per entity the scope and the departments' item lists admit, in ascending USCC order:
its credit grade, whether it is active, whether it is on the abnormal-operation or
serious-violation list, and when it was last inspected. Columns rather than one object per
entity: a whole city is a million entries, and the draw, the frozen snapshot and the public
record all read the same columns (``docs/draw-spec.md`` §2 defines them and their hash).

Exclusions (inactive, recently inspected) are decided by the draw from these columns, so the
frozen list holds the excluded entities too and anyone can recount them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from domain.vocabulary import CreditGrade

USCC_LENGTH = 18
GRADES = frozenset("ABCD")
FLAGS = frozenset("01")


class Candidate(NamedTuple):
    """One entity of the pool, as an adapter reports it (the row view of a Population)."""

    uscc: str
    grade: CreditGrade
    status_active: bool
    last_inspected: date | None = None
    abnormal: bool = False  # on the abnormal-operation or serious-violation list


@dataclass(frozen=True, slots=True)
class Population:
    """``usccs[i]`` has grade ``grades[i]``, is active when ``active[i] == "1"``, listed when
    ``listed[i] == "1"``, and was last inspected on ``last_inspected.get(i)``."""

    usccs: tuple[str, ...]
    grades: str
    active: str
    listed: str
    last_inspected: Mapping[int, date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.usccs)
        if not len(self.grades) == len(self.active) == len(self.listed) == n:
            raise ValueError("the population's columns differ in length")
        unknown = set(self.grades) - GRADES
        if unknown:
            at = next(i for i, g in enumerate(self.grades) if g in unknown)
            raise ValueError(f"{self.usccs[at]}: unknown credit grade {self.grades[at]!r}")
        if not set(self.active) <= FLAGS or not set(self.listed) <= FLAGS:
            raise ValueError("active and listed flags must be '0' or '1'")
        if any(not 0 <= i < n for i in self.last_inspected):
            raise ValueError("a last-inspected date points outside the population")

    def __len__(self) -> int:
        return len(self.usccs)

    @classmethod
    def of(cls, candidates: Iterable[Candidate]) -> Population:
        """Columns from rows, sorted by USCC (the order of the frozen list)."""
        rows = sorted(candidates, key=lambda c: c.uscc)
        for c in rows:
            if c.grade not in GRADES:
                raise ValueError(f"{c.uscc}: unknown credit grade {c.grade!r}")
            if not isinstance(c.abnormal, bool) or not isinstance(c.status_active, bool):
                raise ValueError(f"{c.uscc}: active and abnormal must be bools")
        return cls(
            tuple(c.uscc for c in rows),
            "".join(str(c.grade) for c in rows),
            "".join("1" if c.status_active else "0" for c in rows),
            "".join("1" if c.abnormal else "0" for c in rows),
            {i: c.last_inspected for i, c in enumerate(rows) if c.last_inspected is not None},
        )

    def candidates(self) -> Iterator[Candidate]:
        seen = self.last_inspected
        rows = zip(self.usccs, self.grades, self.active, self.listed, strict=True)
        for i, (u, g, a, lst) in enumerate(rows):
            yield Candidate(u, CreditGrade(g), a == "1", seen.get(i), lst == "1")

    def of_grades(self, grades: Iterable[str]) -> Population:
        """The entries whose grade is one of ``grades`` (a scope narrowed by credit grade)."""
        wanted = set(grades)
        keep = [i for i, g in enumerate(self.grades) if g in wanted]
        if len(keep) == len(self):
            return self
        renumber = {old: new for new, old in enumerate(keep)}
        return Population(
            tuple(self.usccs[i] for i in keep),
            "".join(self.grades[i] for i in keep),
            "".join(self.active[i] for i in keep),
            "".join(self.listed[i] for i in keep),
            {renumber[i]: d for i, d in self.last_inspected.items() if i in renumber},
        )

    # -- stored and published form (docs/draw-spec.md §2) ------------------------------------
    def to_data(self) -> dict[str, Any]:
        codes = "".join(self.usccs)
        if len(codes) != USCC_LENGTH * len(self):
            raise ValueError("a frozen population holds 18-character codes only")
        return {
            "uscc": codes,
            "grade": self.grades,
            "active": self.active,
            "abnormal": self.listed,
            "lastInspected": {
                str(i): d.isoformat() for i, d in sorted(self.last_inspected.items())
            },
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Population:
        codes = data["uscc"]
        if len(codes) % USCC_LENGTH:
            raise ValueError("the frozen population's codes are not 18 characters each")
        return cls(
            tuple(codes[i : i + USCC_LENGTH] for i in range(0, len(codes), USCC_LENGTH)),
            data["grade"],
            data["active"],
            data["abnormal"],
            {int(i): date.fromisoformat(d) for i, d in data["lastInspected"].items()},
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
