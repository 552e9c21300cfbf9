"""The plan of a synthetic city: every fact that more than one department's data depends on.

The population (kinds, districts, industries, dates, status, USCCs), which departments hold
records of whom, the penalties (published again by the credit platform), market permits
approved on commitment, abnormal-operation listings and the credit grades, and the inspector
pools. Department rows are rendered from the plan (demo.render), each with its own random
stream, so that departments agree with each other while being generated in parallel.

Per-entity facts are computed in fixed-size chunks with one random stream per chunk, so the
result depends on the seed and the size only, never on how many processes computed it.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from demo.catalog import (
    BROKEN_COMMITMENT_RATE,
    CERT_DIGIT,
    COMMITMENT_PERMITS,
    COMMITMENT_RATE,
    COOP,
    ENT,
    FINE_WEIGHTS,
    FINES_YUAN,
    HOLD_BY_KIND,
    HOLD_BY_SECTION,
    IND,
    INSPECTOR_ID_PREFIX,
    INSPECTOR_SHARE,
    MARKET_PERMIT_WEIGHTS,
    MARKET_PERMITS,
    MIN_INSPECTORS_PER_DISTRICT,
    OFF_DUTY_RATE,
    PENALTY_RATE,
    PENALTY_WEIGHTS,
    REFERENCE_INSPECTORS,
    REVOCATION_VIOLATION,
    SERIOUS_FINE_WEIGHTS,
    SERIOUS_FINES_YUAN,
    SERIOUS_PENALTY_WEIGHTS,
    SERIOUS_RATE,
    VIOLATIONS,
    dept_tags,
    violation_choices,
)
from demo.codes import INSPECTING, PENALTY_KIND
from demo.names import person
from demo.sampling import cumulative
from demo.vocab import (
    AS_OF,
    COOP_DISTRICT_WEIGHTS,
    DISTRICTS,
    FIRST_YEAR,
    INDUSTRY_WEIGHTS,
    KIND_NEW_BODY,
    KIND_PREFIX,
    KIND_SHARES,
    NEW_CODES_FROM,
    REFERENCE_ENTITIES,
    SECTIONS,
    STATUS_WEIGHTS,
    YEAR_WEIGHTS,
)
from domain.uscc import ALPHABET, make

CHUNK = 50_000  # part of the data's definition: changing it changes the rows
RICH = 8  # entities with records in every department (the demo's examples)
MAX_ENTITIES = 9_999_999  # the legacy registration numbers have 7 sequence digits

ACTIVE, SUSPENDED, REVOKED, DEREGISTERED = range(4)
WARNING, FINE, CONFISCATION, SUSPENSION, LICENCE_REVOCATION, DETENTION, OTHER = range(7)
NOT_RATED = 255
REVOCATION = -1  # Penalty.violation of a market revocation of the business licence

AS_OF_ORD = AS_OF.toordinal()
_PENALTIES_FROM = date(2014, 1, 1).toordinal()
_COMMITMENTS_FROM = date(2019, 1, 1).toordinal()
_SECTION_H = SECTIONS.index("H")


class Penalty(NamedTuple):
    idx: int  # entity
    decided: int  # date ordinal
    serious: bool
    kind: int  # PenaltyKind index
    fine_fen: int
    violation: int  # index into catalog.VIOLATIONS[dept], or REVOCATION
    doc_no: str = ""


def violation_text(dept: str, p: Penalty) -> str:
    return REVOCATION_VIOLATION if p.violation == REVOCATION else VIOLATIONS[dept][p.violation].text


def add_years(o: int, years: int) -> int:
    """Date ordinal o plus whole years (29 February becomes the 28th)."""
    d = date.fromordinal(o)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:
        return d.replace(year=d.year + years, day=28).toordinal()


class Inspector(NamedTuple):
    id: str
    name: str
    cert: str
    tags: tuple[str, ...]
    district: int
    on_duty: bool


@dataclass
class Facts:
    """Per-entity facts of a range of entities (one chunk, or the whole city once joined)."""

    codes: list[str] = field(default_factory=list)
    district: bytearray = field(default_factory=bytearray)
    industry: bytearray = field(default_factory=bytearray)
    status: bytearray = field(default_factory=bytearray)
    registered: array = field(default_factory=lambda: array("i"))
    holds: bytearray = field(default_factory=bytearray)  # bit d: INSPECTING[d] holds records
    permit: bytearray = field(default_factory=bytearray)  # market primary permit type
    permit_date: array = field(default_factory=lambda: array("i"))
    commitment: bytearray = field(default_factory=bytearray)  # 0 none, 1 kept, 2 broken
    abnormal: array = field(default_factory=lambda: array("i"))  # listing date, 0 = none
    risk: array = field(default_factory=lambda: array("d"))
    penalties: dict[str, list[Penalty]] = field(default_factory=lambda: {d: [] for d in INSPECTING})

    def extend(self, other: Facts) -> None:
        for name in (
            "codes",
            "district",
            "industry",
            "status",
            "registered",
            "holds",
            "permit",
            "permit_date",
            "commitment",
            "abnormal",
            "risk",
        ):
            getattr(self, name).extend(getattr(other, name))
        for d in INSPECTING:
            self.penalties[d].extend(other.penalties[d])


@dataclass
class Plan:
    seed: int
    n: int
    kind: bytes
    rich: tuple[int, ...]
    params: dict[str, int]
    facts: Facts
    grade: bytearray = field(default_factory=bytearray)  # 0..3 = A..D, NOT_RATED
    score: bytearray = field(default_factory=bytearray)
    inspectors: dict[str, list[Inspector]] = field(default_factory=dict)

    def uscc(self, i: int) -> str:
        return self.facts.codes[i]

    @property
    def sample_uscc(self) -> str:
        return self.uscc(self.rich[0])


@dataclass(frozen=True)
class Skeleton:
    """What the chunks need before they can run: sizes, kinds, the rich set, code parameters."""

    seed: int
    n: int
    kind: bytes
    rich: tuple[int, ...]
    params: dict[str, int]

    @property
    def chunks(self) -> int:
        return math.ceil(self.n / CHUNK)


def skeleton(seed: int, n: int) -> Skeleton:
    """Kinds in exact proportions (the reference city's counts at its size), shuffled."""
    if not 1 <= n <= MAX_ENTITIES:
        raise ValueError(f"entities must be between 1 and {MAX_ENTITIES}")
    r = random.Random(f"{seed}:kinds")
    counts = [
        (n * num + den - 1) // den if n >= 100 else n * num // den for num, den in KIND_SHARES
    ]
    counts[IND] = n - sum(c for k, c in enumerate(counts) if k != IND)
    kinds = [k for k, c in enumerate(counts) for _ in range(c)]
    r.shuffle(kinds)
    rich = tuple(sorted(r.sample(range(n), min(n, RICH))))
    rich_set = set(rich)
    for i in rich:  # swap an enterprise in, so the kind counts stay exact
        if kinds[i] != ENT:
            j = next(
                (
                    j % n
                    for j in range(i + 1, i + n)
                    if kinds[j % n] == ENT and j % n not in rich_set
                ),
                None,
            )
            if j is not None:
                kinds[i], kinds[j] = kinds[j], kinds[i]
    p = random.Random(f"{seed}:codes")
    params = {  # affine permutations: distinct entities get distinct code bodies
        "new_a": _coprime(p, 31**6, 31),
        "new_b": p.randrange(31**6),
        "old_a": _coprime(p, 10**8, 10),
        "old_b": p.randrange(10**8),
        "ind_a": _coprime(p, 10**7, 10),
        "ind_b": p.randrange(10**7),
        "reg_a": _coprime(p, 10**7, 10),
        "reg_b": p.randrange(10**7),
    }
    return Skeleton(seed, n, bytes(kinds), rich, params)


def _coprime(r: random.Random, modulus: int, base: int) -> int:
    while True:
        a = r.randrange(modulus // 7, modulus)
        if math.gcd(a, base) == 1:
            return a


def _body(i: int, kind: int, new: bool, params: dict[str, int]) -> str:
    if new:
        v = (params["new_a"] * i + params["new_b"]) % 31**6
        chars = []
        for _ in range(6):
            v, c = divmod(v, 31)
            chars.append(ALPHABET[c])
        return KIND_NEW_BODY[kind] + "".join(chars)
    if kind == IND:
        return f"L{(params['ind_a'] * i + params['ind_b']) % 10**7:07d}"
    return f"{(params['old_a'] * i + params['old_b']) % 10**8:08d}"


_DISTRICT_CUM = cumulative(d.weight for d in DISTRICTS)
_COOP_DISTRICT_CUM = cumulative(COOP_DISTRICT_WEIGHTS)
_INDUSTRY_CUM = tuple(cumulative(w) for w in INDUSTRY_WEIGHTS)
_YEAR_CUM = cumulative(YEAR_WEIGHTS)
_STATUS_CUM = cumulative(STATUS_WEIGHTS)
_MARKET_PERMIT_CUM = {s: cumulative(MARKET_PERMIT_WEIGHTS[s]) for s in SECTIONS}
_FINE_CUM = cumulative(FINE_WEIGHTS)
_SERIOUS_FINE_CUM = cumulative(SERIOUS_FINE_WEIGHTS)


def _penalty_cum(dept: str, weights: tuple[float, ...]) -> tuple[float, ...]:
    # A department without a code for a kind (market cannot detain) never imposes it.
    return cumulative(
        w if c is not None else 0 for w, c in zip(weights, PENALTY_KIND[dept], strict=True)
    )


_PENALTY_CUM = {d: _penalty_cum(d, PENALTY_WEIGHTS) for d in INSPECTING}
_VIOLATION_CHOICES = {d: [violation_choices(d, s) for s in SECTIONS] for d in INSPECTING}
_SERIOUS_CUM = {d: _penalty_cum(d, SERIOUS_PENALTY_WEIGHTS) for d in INSPECTING}
# P(held) per department, section and kind; market holds everyone.
_HOLD = [
    [[min(1.0, s * k) for k in HOLD_BY_KIND[d]] for s in HOLD_BY_SECTION[d]] for d in INSPECTING[1:]
]
_ABNORMAL_RATE = (0.03, 0.45, 0.35, 0.0)  # by status
_RICH_PENALTIES = {"market": FINE, "fire": FINE, "health": WARNING}
_YEAR_START = tuple(date(y, 1, 1).toordinal() for y in range(FIRST_YEAR, AS_OF.year + 2))


def chunk_facts(sk: Skeleton, c: int) -> Facts:
    """Per-entity facts of chunk c: a pure function of (seed, n, c)."""
    r = random.Random(f"{sk.seed}:plan:{c}")
    rnd = r.random
    f = Facts()
    rich = set(sk.rich)
    params = sk.params
    start, end = c * CHUNK, min(sk.n, (c + 1) * CHUNK)
    for i in range(start, end):
        kind = sk.kind[i]
        is_rich = i in rich
        district = bisect(_COOP_DISTRICT_CUM if kind == COOP else _DISTRICT_CUM, rnd())
        section = bisect(_INDUSTRY_CUM[kind], rnd())
        year = bisect(_YEAR_CUM, rnd())
        registered = min(
            AS_OF_ORD, _YEAR_START[year] + int(rnd() * (_YEAR_START[year + 1] - _YEAR_START[year]))
        )
        status = ACTIVE if registered > AS_OF_ORD - 365 else bisect(_STATUS_CUM, rnd())
        if is_rich:  # a hotel with a KTV: every department has something to say about it
            section, status = _SECTION_H, ACTIVE
            registered = date(2009, 1, 1).toordinal() + int(rnd() * 2500)
        new = registered >= NEW_CODES_FROM.toordinal()
        code = make(
            KIND_PREFIX[kind][0],
            KIND_PREFIX[kind][1],
            DISTRICTS[district].code,
            _body(i, kind, new, params),
        )

        holds = 1
        for b, table in enumerate(_HOLD, start=1):
            if rnd() < table[section][kind]:
                holds |= 1 << b
        if is_rich:
            holds = (1 << len(INSPECTING)) - 1

        # market's primary permit; commitment-based approval exists for some since 2019
        ptype = bisect(_MARKET_PERMIT_CUM[SECTIONS[section]], rnd())
        years = MARKET_PERMITS[ptype].years
        if years is None:
            pdate = registered if ptype == 0 else min(AS_OF_ORD, registered + int(rnd() * 60))
        else:
            pdate = max(registered, AS_OF_ORD - int(rnd() * years * 365 * 1.05))
        commitment = 0
        if ptype in COMMITMENT_PERMITS and pdate >= _COMMITMENTS_FROM and rnd() < COMMITMENT_RATE:
            commitment = 2 if rnd() < BROKEN_COMMITMENT_RATE else 1
        if is_rich:
            ptype, pdate, commitment = 1, AS_OF_ORD - 100 - int(rnd() * 1200), 1

        risk = r.gauss(0.0, 1.0)
        stopped = status in (SUSPENDED, REVOKED)
        for b, dept in enumerate(INSPECTING):
            if not holds >> b & 1:
                continue
            count = 0
            if rnd() < PENALTY_RATE[dept] * (3 if stopped else 1):
                x = rnd()
                count = 1 if x < 0.85 else 2 if x < 0.97 else 3
            # the rich entities' guaranteed penalties: market and fire fines, a health warning
            forced = _RICH_PENALTIES.get(dept) if is_rich else None
            for j in range(count + (forced is not None)):
                extra = forced if j == count else None
                p = _penalty(r, dept, i, kind, section, registered, status, extra)
                if p is not None:
                    f.penalties[dept].append(p)
                    risk += _penalty_risk(p)
        if status == REVOKED:  # the revocation is itself market regulation's penalty
            lo = registered + 365
            decided = lo + int(rnd() * max(1, AS_OF_ORD - lo))
            if decided <= AS_OF_ORD:
                f.penalties["market"].append(
                    Penalty(i, decided, False, LICENCE_REVOCATION, 0, REVOCATION)
                )

        abnormal = 0
        if rnd() < _ABNORMAL_RATE[status] and registered < AS_OF_ORD - 365 and not is_rich:
            lo = max(registered + 180, AS_OF_ORD - 6 * 365)
            abnormal = lo + int(rnd() * (AS_OF_ORD - lo))
            risk += 2.0
        risk += (0.0, 1.0, 2.0, 0.0)[status] + (0.0, 0.0, 1.5)[commitment]

        f.codes.append(code)
        f.district.append(district)
        f.industry.append(section)
        f.status.append(status)
        f.registered.append(registered)
        f.holds.append(holds)
        f.permit.append(ptype)
        f.permit_date.append(pdate)
        f.commitment.append(commitment)
        f.abnormal.append(abnormal)
        f.risk.append(risk)
    return f


def _penalty(
    r: random.Random,
    dept: str,
    i: int,
    kind: int,
    section: int,
    registered: int,
    status: int,
    force_kind: int | None,
) -> Penalty | None:
    rnd = r.random
    lo = max(registered + 30, _PENALTIES_FROM)
    if lo > AS_OF_ORD:
        return None
    decided = lo + int(rnd() * (AS_OF_ORD - lo + 1))
    serious = force_kind is None and rnd() < SERIOUS_RATE * (2 if status == REVOKED else 1)
    if force_kind is not None:
        pkind = force_kind
    else:
        pkind = bisect((_SERIOUS_CUM if serious else _PENALTY_CUM)[dept], rnd())
    fine = 0
    if pkind in (FINE, CONFISCATION):
        if serious:
            fine = SERIOUS_FINES_YUAN[bisect(_SERIOUS_FINE_CUM, rnd())]
        else:
            fine = FINES_YUAN[bisect(_FINE_CUM, rnd())]
            if kind == IND:
                fine = min(fine, 10000)
    choices = _VIOLATION_CHOICES[dept][section]
    violation = choices[int(rnd() * len(choices))]
    return Penalty(i, decided, serious, pkind, fine * 100, violation)


def _penalty_risk(p: Penalty) -> float:
    age = AS_OF_ORD - p.decided
    recency = 1.0 if age < 365 else 0.6 if age < 3 * 365 else 0.2
    return (3.5 if p.serious else 1.2) * recency


def assemble(sk: Skeleton, chunks: Iterable[Facts]) -> Plan:
    """Join the chunks, number the penalty decisions, grade credit, draw the inspectors."""
    facts = Facts()
    for part in chunks:
        facts.extend(part)
    if len(facts.codes) != sk.n:
        raise RuntimeError("chunks do not cover the population")
    plan = Plan(sk.seed, sk.n, sk.kind, sk.rich, sk.params, facts)
    for dept in INSPECTING:
        facts.penalties[dept] = _numbered(dept, facts)
    _grade(plan)
    for dept in INSPECTING:
        plan.inspectors[dept] = _inspectors(plan, dept)
    return plan


_DOC_FORMATS: dict[str, Callable[[str, int, int], str]] = {
    "market": lambda a, y, n: f"青{a}市监罚字〔{y}〕{n}号",
    "ecology": lambda a, y, n: f"青环{a}罚字〔{y}〕{n:03d}号",
    "emergency": lambda a, y, n: f"（青{a}）应急罚〔{y}〕{n}号",
    "culture": lambda a, y, n: f"青{a}文旅罚决字〔{y}〕{n}号",
    "fire": lambda a, y, n: f"青{a}消行罚决字〔{y}〕{n:04d}号",
    "health": lambda a, y, n: f"青{a}卫罚〔{y}〕{n}号",
}


def _numbered(dept: str, facts: Facts) -> list[Penalty]:
    """Decision numbers run per district office and year, in order of decision."""
    events = sorted(facts.penalties[dept], key=lambda p: (p.decided, p.idx, p.kind))
    fmt = _DOC_FORMATS[dept]
    seq: dict[tuple[int, int], int] = {}
    out = []
    for p in events:
        district = facts.district[p.idx]
        year = date.fromordinal(p.decided).year
        n = seq[(district, year)] = seq.get((district, year), 0) + 1
        out.append(p._replace(doc_no=fmt(DISTRICTS[district].abbr, year, n)))
    return out


# Grade mix of the reference city (A 66% / B 25% / C 8% / D 1.5%) and score bands.
BCD_SHARES = (0.25, 0.08, 0.015)  # A is the rest
SCORE_BANDS = ((90, 100), (75, 89), (60, 74), (30, 59))


def _grade(plan: Plan) -> None:
    """Rank by risk (penalties, listings, status, noise): the riskiest are D, then C, B, A."""
    f = plan.facts
    rated = [i for i in range(plan.n) if f.status[i] != DEREGISTERED]
    rated.sort(key=f.risk.__getitem__, reverse=True)
    m = len(rated)
    sizes = [0, *(round(m * share) for share in BCD_SHARES)]
    sizes[0] = m - sum(sizes)
    plan.grade = bytearray([NOT_RATED]) * plan.n
    plan.score = bytearray(plan.n)
    pos = 0
    for g in (3, 2, 1, 0):  # riskiest first
        lo, hi = SCORE_BANDS[g]
        size = sizes[g]
        for rank in range(size):
            i = rated[pos + rank]
            plan.grade[i] = g
            plan.score[i] = lo + (rank * (hi - lo + 1)) // size  # lower risk, higher score
        pos += size


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Shares of total by weight (largest remainder), each at least minimum."""
    rest = max(0, total - minimum * len(weights))
    exact = [rest * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda k: (counts[k] - exact[k], k))
    for k in order[: rest - sum(counts)]:
        counts[k] += 1
    return [minimum + c for c in counts]


def _inspectors(plan: Plan, dept: str) -> list[Inspector]:
    """The department's pool: every tag covered by at least two on-duty inspectors per district."""
    r = random.Random(f"{plan.seed}:inspectors:{dept}")
    total = round(plan.n * REFERENCE_INSPECTORS / REFERENCE_ENTITIES * INSPECTOR_SHARE[dept])
    per_district = _allocate(total, [d.weight for d in DISTRICTS], MIN_INSPECTORS_PER_DISTRICT)
    if max(per_district) > 9999:
        raise ValueError("inspector ids have four sequence digits: population too large")
    tags = dept_tags(dept)
    covering = -(-2 * len(tags) // 3)  # the first inspectors of a district cover every tag twice
    out = []
    for d, count in enumerate(per_district):
        code = DISTRICTS[d].code
        for k in range(count):
            if k < covering:
                own = tuple(dict.fromkeys(tags[(3 * k + t) % len(tags)] for t in range(3)))
                on_duty = True
            else:
                own = tuple(sorted(r.sample(tags, min(len(tags), r.choice((1, 1, 2, 2, 3))))))
                on_duty = r.random() >= OFF_DUTY_RATE
            out.append(
                Inspector(
                    id=f"{INSPECTOR_ID_PREFIX[dept]}{code}{k + 1:04d}",
                    name=person(r),
                    cert=f"鲁{code}{CERT_DIGIT[dept]}{k + 1:05d}",
                    tags=own,
                    district=d,
                    on_duty=on_duty,
                )
            )
    return out


def reg_no(plan: Plan, i: int) -> str:
    """Emergency management's legacy 15-digit registration number (注册号) of entity i."""
    p = plan.params
    seq = (p["reg_a"] * i + p["reg_b"]) % 10**7
    body = f"{DISTRICTS[plan.facts.district[i]].code}{6 if plan.kind[i] == IND else 0}{seq:07d}"
    return body + _mod11_10(body)


def _mod11_10(digits: str) -> str:
    """ISO 7064 MOD 11,10 check digit, as the old registration numbers carry it."""
    p = 10
    for ch in digits:
        s = p % 11 + int(ch)
        p = (s % 10 or 10) * 2
    return str((11 - p % 11) % 10)
