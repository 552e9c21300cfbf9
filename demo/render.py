"""Jobs: the rows of each department's tables, rendered from the plan in the department's shape.

A job is (department, part, chunk) and yields loads (table, schema, columns, rows) whose rows
are lazy, so that COPY streams them without holding a table in memory. Every table has its own
random stream per job: the rows depend on the seed and the size only, never on scheduling.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from demo import credit
from demo.catalog import (
    CHECKLISTS,
    CONFLICT_RATE,
    CONFLICT_REASONS,
    INSPECTION_RATE,
    MARKET_PERMITS,
    RESULT_WEIGHTS,
    RESULT_WEIGHTS_INACTIVE,
    PermitType,
    dept_permits,
)
from demo.codes import ENTITY_STATUS, INSPECTING, KIND, PERMIT_STATUS, UNIT_TYPES, code_tables
from demo.names import address, entity_name, location, person
from demo.plan import (
    ACTIVE,
    AS_OF_ORD,
    CHUNK,
    DEREGISTERED,
    REVOKED,
    Plan,
    add_years,
    reg_no,
    violation_text,
)
from demo.sampling import cumulative
from demo.shapes import PERMIT_NUMBERS, SHAPES, Load, Row, day, load, table
from demo.vocab import DISTRICTS, SECTIONS

Job = tuple[str, str, int]  # department, part, chunk


def jobs(plan: Plan) -> list[Job]:
    """Every job of a city. The big departments first, so that their indexes are built while
    the small ones load, and the pool ends evenly."""
    chunks = range(-(-plan.n // CHUNK))
    out: list[Job] = [("market", "entities", c) for c in chunks]
    out += [("market", "records", 0), ("credit", "records", 0)]
    out += [("credit", "ratings", c) for c in chunks]
    out += [(dept, "all", 0) for dept in ("ecology", "emergency", "fire", "culture", "health")]
    return out


def loads(plan: Plan, job: Job) -> Iterator[Load]:
    dept, part, chunk = job
    if dept == "market":
        return _market_entities(plan, chunk) if part == "entities" else _market_records(plan)
    if dept == "credit":
        return _credit(plan, chunk) if part == "ratings" else _credit_records(plan)
    return _department(plan, dept)


def _rng(plan: Plan, dept: str, table: str, chunk: int = 0) -> random.Random:
    return random.Random(f"{plan.seed}:{dept}:{table}:{chunk}")


# -- what the inspecting departments have in common ----------------------------------------------


def _permit_dates(
    r: random.Random, pt: PermitType, registered: int, rich: bool
) -> tuple[int, int | None]:
    """Issued after registration; renewable permits were last renewed within their term."""
    if pt.years is None:
        return min(AS_OF_ORD, registered + int(r.random() * 730)), None
    start = max(registered, AS_OF_ORD - int(r.random() * pt.years * 365 * (0.9 if rich else 1.05)))
    return start, add_years(start, pt.years)


def _permit_status(
    r: random.Random, status: int, end: int | None, *, market: bool = False, rich: bool = False
) -> int:
    """PermitStatus index: follows the entity (deregistered: cancelled) and the validity."""
    if status == DEREGISTERED:
        return 4
    if status == REVOKED:  # market revoked the licence; the others cancel theirs
        return 3 if market else 4
    if end is not None and end < AS_OF_ORD:
        return 2
    return 1 if not rich and r.random() < 0.005 else 0


_RESULT_CUM = (cumulative(RESULT_WEIGHTS), cumulative(RESULT_WEIGHTS_INACTIVE))


def _inspections(
    r: random.Random, plan: Plan, i: int, rate: float, pools: list[list[str]]
) -> Iterator[tuple[int, int, list[str]]]:
    """The entity's inspection history: (date, InspectionResult index, inspector ids). The
    rich entities (the demo's examples) have one in every department that holds them."""
    if r.random() >= rate and i not in plan.rich:
        return
    f = plan.facts
    x = r.random()
    lo = max(f.registered[i] + 30, AS_OF_ORD - 6 * 365)
    if lo > AS_OF_ORD:
        return
    cum = _RESULT_CUM[f.status[i] != ACTIVE]  # closed businesses are rarely found
    pool = pools[f.district[i]]
    for _ in range(1 if x < 0.75 else 2 if x < 0.95 else 3):
        on = lo + int(r.random() * (AS_OF_ORD - lo + 1))
        result = bisect(cum, r.random())
        staff = r.sample(pool, min(len(pool), 3 if r.random() < 0.1 else 2))
        yield on, result, staff


def _pools(plan: Plan, dept: str) -> list[list[str]]:
    """Inspector ids by district."""
    pools: list[list[str]] = [[] for _ in DISTRICTS]
    for x in plan.inspectors[dept]:
        pools[x.district].append(x.id)
    return pools


def _reference(plan: Plan, dept: str, key: Callable[[int], str]) -> Iterator[Load]:
    """Code tables, checklist items, the inspector pool and its declared conflicts."""
    shape = SHAPES[dept]
    yield from (Load(*t) for t in code_tables(dept))
    items = [shape.item(it) for it in CHECKLISTS[dept]]
    yield shape.load(shape.items, items)
    inspectors = [shape.inspector(x) for x in plan.inspectors[dept]]
    yield shape.load(shape.inspectors, inspectors)
    yield shape.load(shape.conflicts, _conflicts(plan, dept, key))


def _conflicts(plan: Plan, dept: str, key: Callable[[int], str]) -> list[Row]:
    """About 1% of inspectors declare conflicts with entities of their district (at least one)."""
    r = _rng(plan, dept, "conflicts")
    bit = 1 << INSPECTING.index(dept)
    f = plan.facts
    held: list[list[int]] = [[] for _ in DISTRICTS]
    for i in range(plan.n):
        if f.holds[i] & bit:
            held[f.district[i]].append(i)
    rows = []
    inspectors = plan.inspectors[dept]
    for k, x in enumerate(inspectors):
        candidates = held[x.district]
        if candidates and (r.random() < CONFLICT_RATE or (k == len(inspectors) - 1 and not rows)):
            for i in sorted(r.sample(candidates, min(len(candidates), r.randint(1, 3)))):
                rows.append((x.id, key(i), r.choice(CONFLICT_REASONS)))
    return rows


# -- market regulation: the register ---------------------------------------------------------------

_REGISTER = table("scztdj", "tyshxydm qymc ztlx xzqh hyml zs jd wd clrq djzt fddbr")
_PERMITS = table("xzxk", "xkid tyshxydm xkwsh xkmc xkrq yxqz xkzt gzcn")


def _market_entities(plan: Plan, chunk: int) -> Iterator[Load]:
    start, end = chunk * CHUNK, min(plan.n, (chunk + 1) * CHUNK)
    shape = SHAPES["market"]
    yield shape.load(_REGISTER, _register(plan, start, end, chunk))
    yield shape.load(_PERMITS, _market_permits(plan, start, end, chunk))
    yield shape.load(shape.inspections, _market_inspections(plan, start, end, chunk))


def _register(plan: Plan, start: int, end: int, chunk: int) -> Iterator[Row]:
    r = _rng(plan, "market", "scztdj", chunk)
    f = plan.facts
    kinds = KIND["market"]
    for i in range(start, end):
        kind, district = plan.kind[i], f.district[i]
        section = SECTIONS[f.industry[i]]
        lon, lat = location(r, district)
        name = entity_name(r, kind, section, district)
        yield (f.codes[i], name, kinds[kind], DISTRICTS[district].code, section,
               address(r, kind, district), lon, lat, day(f.registered[i]),
               ENTITY_STATUS[f.status[i]], person(r))  # fmt: skip


def _market_permits(plan: Plan, start: int, end: int, chunk: int) -> Iterator[Row]:
    """The plan's primary permit of each entity (ids 2i+1), for some a second one (2i+2)."""
    r = _rng(plan, "market", "xzxk", chunk)
    f = plan.facts
    rich = set(plan.rich)
    codes = PERMIT_STATUS["market"]
    for i in range(start, end):
        uscc, district, status = f.codes[i], f.district[i], f.status[i]
        pt = MARKET_PERMITS[f.permit[i]]
        first = f.permit_date[i]
        end_ = None if pt.years is None else add_years(first, pt.years)
        number = PERMIT_NUMBERS[pt.number](r, uscc, district, day(first).year)
        state = codes[_permit_status(r, status, end_, market=True, rich=i in rich)]
        valid_to = None if end_ is None else day(end_)
        yield (2 * i + 1, uscc, number, pt.name, day(first), valid_to, state, f.commitment[i] > 0)
        if r.random() < 0.1:
            other = MARKET_PERMITS[0 if f.permit[i] != 0 else 5]  # the licence, or equipment
            on = f.registered[i]
            if other.number != "yyzz":
                on = min(AS_OF_ORD, on + int(r.random() * 1000))
            number = PERMIT_NUMBERS[other.number](r, uscc, district, day(on).year)
            state = codes[_permit_status(r, status, None, market=True, rich=i in rich)]
            yield (2 * i + 2, uscc, number, other.name, day(on), None, state, False)


def _market_inspections(plan: Plan, start: int, end: int, chunk: int) -> Iterator[Row]:
    r = _rng(plan, "market", "jcjl", chunk)
    shape = SHAPES["market"]
    pools = _pools(plan, "market")
    rate = INSPECTION_RATE["market"]
    for i in range(start, end):
        for k, (on, result, staff) in enumerate(_inspections(r, plan, i, rate, pools)):
            yield shape.inspection(4 * i + k + 1, plan.facts.codes[i], on, result, staff)


def _market_records(plan: Plan) -> Iterator[Load]:
    yield from _reference(plan, "market", plan.uscc)
    shape = SHAPES["market"]
    rows = [
        shape.penalty(n, plan.uscc(p.idx), p, violation_text("market", p))
        for n, p in enumerate(plan.facts.penalties["market"], start=1)
    ]
    yield shape.load(shape.penalties, rows)


# -- ecology, emergency, culture, fire -------------------------------------------------------------


def _department(plan: Plan, dept: str) -> Iterator[Load]:
    shape = SHAPES[dept]
    f = plan.facts
    bit = 1 << INSPECTING.index(dept)
    held = [i for i in range(plan.n) if f.holds[i] & bit]
    key: Callable[[int], Any] = plan.uscc
    if dept == "emergency":
        # Still keyed by the legacy registration number; a few numbers in its crosswalk belong
        # to entities it has no records of (a former licence holder, a closed case file).
        key = partial(reg_no, plan)
        r = _rng(plan, dept, "reg_no_map")
        candidates = [
            i for i in range(plan.n) if not f.holds[i] & bit and SECTIONS[f.industry[i]] in "CEG"
        ]
        extra = [i for i in candidates if r.random() < 0.02] or candidates[:1]
        mapped = sorted(held + extra)
        yield Load("reg_no_map", None, ("reg_no", "uscc"), ((key(i), f.codes[i]) for i in mapped))
    elif dept == "health":
        key, units = _units(plan, held)
        yield Load("supervised_unit", None, _UNITS, units)
    yield from _reference(plan, dept, key)

    def new_id(n: int, r: random.Random) -> Any:
        # culture keys rows by uuid: drawn from the job's stream, never from os.urandom
        return uuid.UUID(int=r.getrandbits(128), version=4) if shape.uuid_ids else n

    options = [
        (tuple(t for t, _ in o), cumulative(w for _, w in o))
        for o in (dept_permits(dept, s) for s in SECTIONS)
    ]
    rich = set(plan.rich)

    def permits() -> Iterator[Row]:
        r = _rng(plan, dept, "permits")
        for n, i in enumerate(held, start=1):
            types, cum = options[f.industry[i]]
            pt = types[bisect(cum, r.random())]
            start, end = _permit_dates(r, pt, f.registered[i], i in rich)
            number = PERMIT_NUMBERS[pt.number](r, f.codes[i], f.district[i], day(start).year)
            status = _permit_status(r, f.status[i], end, rich=i in rich)
            yield shape.permit(new_id(n, r), key(i), number, pt.name, start, end, status)

    def penalties() -> Iterator[Row]:
        r = _rng(plan, dept, "penalties")
        for n, p in enumerate(f.penalties[dept], start=1):
            yield shape.penalty(new_id(n, r), key(p.idx), p, violation_text(dept, p))

    def inspections() -> Iterator[Row]:
        r = _rng(plan, dept, "inspections")
        pools = _pools(plan, dept)
        rate = INSPECTION_RATE[dept]
        n = 0
        for i in held:
            for on, result, staff in _inspections(r, plan, i, rate, pools):
                n += 1
                yield shape.inspection(new_id(n, r), key(i), on, result, staff)

    yield shape.load(shape.permits, permits())
    yield shape.load(shape.penalties, penalties())
    yield shape.load(shape.inspections, inspections())


_UNITS = ("unit_id", "uscc", "unit_type_id", "district_code", "supervised_since")
_UNIT_TYPE = {s: t for t, _, sections in UNIT_TYPES for s in sections}


def _units(plan: Plan, held: list[int]) -> tuple[Callable[[int], Any], list[Row]]:
    """The health commission's register of what it supervises: its own unit ids (in order of
    the USCC's district, then at random), each with the USCC it resolves to."""
    r = _rng(plan, "health", "supervised_unit")
    f = plan.facts
    order = sorted(held, key=lambda i: (f.district[i], r.random()))
    ids = {i: 10001 + n for n, i in enumerate(order)}
    shape = SHAPES["health"]
    rows = []
    for i in sorted(held, key=ids.__getitem__):
        since = min(AS_OF_ORD, f.registered[i] + 30 + int(r.random() * 300))
        section, district = SECTIONS[f.industry[i]], DISTRICTS[f.district[i]].code
        rows.append((ids[i], f.codes[i], _UNIT_TYPE[section], district, shape.day(since)))
    return ids.__getitem__, rows


# -- the credit platform ---------------------------------------------------------------------------


def _credit(plan: Plan, chunk: int) -> Iterator[Load]:
    yield load(credit.RATINGS, credit.ratings(plan, chunk))


def _credit_records(plan: Plan) -> Iterator[Load]:
    types, rows = credit.records(plan)
    yield Load("record_type", None, ("type_code", "type_name"), types)
    yield load(credit.RECORDS, rows)
