"""Rows of each department's tables, rendered from the plan in that department's own shape.

A job is (department, part, chunk); it yields (table, schema, columns, rows) loads whose rows
are lazy iterables, so that COPY streams them without holding a table in memory. Each table
has its own random stream per job: the rows depend on the seed and the size only.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple

from demo.catalog import (
    CHECKLISTS,
    CONFLICT_RATE,
    CONFLICT_REASONS,
    INSPECTION_RATE,
    MARKET_PERMITS,
    REPAIR_MIN_DAYS,
    RESULT_WEIGHTS,
    RESULT_WEIGHTS_INACTIVE,
    REVOCATION_VIOLATION,
    VIOLATIONS,
    Item,
    PermitType,
    dept_permits,
)
from demo.codes import (
    ENTITY_STATUS,
    GRADES,
    INSPECTING,
    KIND,
    PENALTY_KIND,
    PERMIT_STATUS,
    RESULT,
    code_tables,
)
from demo.names import address, entity_name, location, person
from demo.plan import (
    ACTIVE,
    AS_OF_ORD,
    CHUNK,
    DEREGISTERED,
    FINE,
    NOT_RATED,
    REVOCATION,
    REVOKED,
    WARNING,
    Inspector,
    Penalty,
    Plan,
    reg_no,
)
from demo.sampling import below, cumulative, pick
from demo.vocab import DISTRICTS, SECTIONS

Row = tuple[Any, ...]


class Load(NamedTuple):
    table: str
    schema: str | None
    columns: tuple[str, ...]
    rows: Iterable[Row]


Job = tuple[str, str, int]  # department, part, chunk


def jobs(plan: Plan) -> list[Job]:
    """Every job of a city, the heaviest first so that the pool ends evenly."""
    chunks = range(-(-plan.n // CHUNK))
    out: list[Job] = [("market", "entities", c) for c in chunks]
    out += [("credit", "records", 0), ("fire", "all", 0), ("ecology", "all", 0)]
    out += [("credit", "ratings", c) for c in chunks]
    out += [("market", "records", 0), ("emergency", "all", 0), ("culture", "all", 0)]
    return out


def loads(plan: Plan, job: Job) -> Iterator[Load]:
    dept, part, chunk = job
    if dept == "market":
        return _market_entities(plan, chunk) if part == "entities" else _market_records(plan)
    if dept == "credit":
        return _credit_ratings(plan, chunk) if part == "ratings" else _credit_records(plan)
    return _department(plan, dept)


def _rng(plan: Plan, dept: str, table: str, chunk: int = 0) -> random.Random:
    return random.Random(f"{plan.seed}:{dept}:{table}:{chunk}")


def _day(o: int) -> date:
    return date.fromordinal(o)


def _ymd(o: int) -> str:
    return date.fromordinal(o).isoformat().replace("-", "")  # strftime is 10x slower


def _yuan(fen: int) -> Decimal | None:
    return Decimal(fen).scaleb(-2) if fen else None


def add_years(o: int, years: int) -> int:
    d = date.fromordinal(o)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28).toordinal()


# -- the departments' shapes ------------------------------------------------------------------


class Shape:
    """How one department stores the common record kinds (the reverse of its mapping file)."""

    dept = ""
    schema: str | None = None
    uuid_ids = False
    permits: tuple[str, tuple[str, ...]]
    penalties: tuple[str, tuple[str, ...]]
    inspections: tuple[str, tuple[str, ...]]
    items: tuple[str, tuple[str, ...]]
    inspectors: tuple[str, tuple[str, ...]]
    conflicts: tuple[str, tuple[str, ...]]

    def day(self, o: int) -> Any:
        return _day(o)

    def permit(self, pid: Any, key: str, number: str, name: str, start: int, end: int | None,
               status: int) -> Row:
        return (pid, key, number, name, self.day(start), None if end is None else self.day(end),
                PERMIT_STATUS[self.dept][status])

    def penalty(self, pid: Any, key: str, p: Penalty, fact: str) -> Row:
        return (pid, key, p.doc_no, PENALTY_KIND[self.dept][p.kind], _yuan(p.fine_fen),
                self.day(p.decided), fact, p.serious)

    def inspection(self, pid: Any, key: str, day: int, result: int, staff: list[str]) -> Row:
        return (pid, key, self.day(day), RESULT[self.dept][result], staff)

    def item(self, it: Item) -> Row:
        return (it.code, it.name, it.basis, [KIND[self.dept][k] for k in it.kinds],
                list(it.industries), it.standard, it.delegable, list(it.tags))

    def inspector(self, x: Inspector) -> Row:
        return (x.id, x.name, x.cert, list(x.tags), DISTRICTS[x.district].code, x.on_duty)


class MarketShape(Shape):
    dept = "market"
    penalties = ("xzcf", ("cfid", "tyshxydm", "cfjdswh", "cfzl", "fkje", "cfjdrq", "wfxw", "yzwf"))
    inspections = ("jcjl", ("jcid", "tyshxydm", "jcrq", "jcjg", "jcry"))
    items = ("ccsxqd", ("sxbm", "sxmc", "flyj", "syztlx", "syhy", "bzbm", "kwt", "ywbq"))
    inspectors = ("zfry", ("ryid", "xm", "zfzh", "ywbq", "xzqh", "zt"))
    conflicts = ("hbqd", ("ryid", "tyshxydm", "yy"))


class EcologyShape(Shape):
    dept = "ecology"
    permits = ("discharge_licence", ("licence_id", "credit_code", "licence_no", "licence_name",
                                     "issue_ymd", "expire_ymd", "state"))
    penalties = ("env_sanction", ("case_id", "credit_code", "decision_no", "sanction", "fine_fen",
                                  "decided_ymd", "facts", "grave"))
    inspections = ("site_check", ("check_id", "credit_code", "check_ymd", "outcome", "officer_ids"))
    items = ("check_item", ("item_code", "item_name", "legal_basis", "entity_kinds", "industries",
                            "standard_code", "delegable", "tags"))
    inspectors = ("officer", ("officer_id", "full_name", "cert_no", "tags", "district", "on_duty"))
    conflicts = ("officer_conflict", ("officer_id", "credit_code", "reason"))

    def day(self, o: int) -> str:
        return _ymd(o)

    def penalty(self, pid: Any, key: str, p: Penalty, fact: str) -> Row:
        return (pid, key, p.doc_no, PENALTY_KIND["ecology"][p.kind], p.fine_fen, _ymd(p.decided),
                fact, "Y" if p.serious else "N")

    def inspection(self, pid: Any, key: str, day: int, result: int, staff: list[str]) -> Row:
        return (pid, key, _ymd(day), RESULT["ecology"][result], ",".join(staff))

    def item(self, it: Item) -> Row:
        return (it.code, it.name, it.basis, ",".join(KIND["ecology"][k] for k in it.kinds),
                ",".join(it.industries), it.standard, "Y" if it.delegable else "N",
                ",".join(it.tags))

    def inspector(self, x: Inspector) -> Row:
        return (x.id, x.name, x.cert, ",".join(x.tags), DISTRICTS[x.district].code,
                "Y" if x.on_duty else "N")


class EmergencyShape(Shape):
    dept = "emergency"
    permits = ("safety_licence", ("id", "reg_no", "cert_no", "scope", "issued", "expires", "status"))
    penalties = ("punishment", ("id", "reg_no", "doc_no", "pun_type", "amount_yuan", "decided_at",
                                "reason", "is_serious"))
    inspections = ("safety_check", ("id", "reg_no", "checked_at", "result", "staff"))
    items = ("inspection_item", ("code", "title", "basis", "kinds", "sections", "std_code",
                                 "may_delegate", "skill_tags"))
    inspectors = ("staff", ("staff_no", "name", "badge_no", "skills", "area_code", "active"))
    conflicts = ("staff_avoidance", ("staff_no", "reg_no", "note"))

    def day(self, o: int) -> datetime:
        # An office-hours time of day, derived from the date so that no randomness is spent.
        return datetime.combine(_day(o), time(8 + o % 9, o * 7 % 60))

    def permit(self, pid: Any, key: str, number: str, name: str, start: int, end: int | None,
               status: int) -> Row:
        expires = None if end is None else datetime.combine(_day(end), time())
        return (pid, key, number, name, self.day(start), expires, PERMIT_STATUS[self.dept][status])

    def penalty(self, pid: Any, key: str, p: Penalty, fact: str) -> Row:
        return (pid, key, p.doc_no, PENALTY_KIND["emergency"][p.kind], _yuan(p.fine_fen),
                self.day(p.decided), fact, 1 if p.serious else 0)


class CultureShape(Shape):
    dept = "culture"
    uuid_ids = True
    permits = ("businessPermit", ("permitId", "creditCode", "permitNumber", "permitType",
                                  "validFrom", "validUntil", "permitState"))
    penalties = ("adminPenalty", ("penaltyId", "creditCode", "documentNo", "penaltyType",
                                  "fineAmount", "decisionDate", "illegalFact", "serious"))
    inspections = ("inspectionRecord", ("recordId", "creditCode", "inspectDate", "resultLabel",
                                        "inspectorIds"))
    items = ("checkItem", ("itemCode", "itemName", "legalBasis", "entityKinds", "industryCodes",
                           "standardCode", "delegable", "tags"))
    inspectors = ("lawOfficer", ("officerId", "realName", "certificateNo", "tags", "districtCode",
                                 "available"))
    conflicts = ("officerConflict", ("officerId", "creditCode", "reason"))


class FireShape(Shape):
    dept = "fire"
    schema = "fire"
    permits = ("safety_approval", ("approval_id", "org_uscc", "approval_no", "approval_kind",
                                   "approved_on", "valid_to", "state_num"))
    penalties = ("penalty_case", ("case_id", "org_uscc", "case_no", "kind_num", "fine_yuan",
                                  "decided_on", "violation", "serious_flag"))
    inspections = ("inspection", ("inspection_id", "org_uscc", "inspected_on", "result_num",
                                  "officers"))
    items = ("check_item", ("item_no", "item_name", "legal_basis", "entity_kinds", "industries",
                            "standard_code", "delegable", "tags"))
    inspectors = ("firefighter_inspector", ("inspector_id", "name", "cert_no", "tags", "district",
                                            "on_duty"))
    conflicts = ("inspector_conflict", ("inspector_id", "org_uscc", "reason"))


SHAPES: dict[str, Shape] = {s.dept: s for s in (MarketShape(), EcologyShape(), EmergencyShape(),
                                               CultureShape(), FireShape())}


# -- permits and inspections, common to the inspecting departments -----------------------------

_NUMBERS: dict[str, Callable[[random.Random, str, int, int], str]] = {
    # (rng, uscc, district, year) -> permit number, in each permit's real-life format
    "yyzz": lambda r, u, d, y: u,
    "jy": lambda r, u, d, y: f"JY{pick(r, '12')}{DISTRICTS[d].code}{below(r, 10**7):07d}",
    "sc": lambda r, u, d, y: f"SC{101 + below(r, 32)}{DISTRICTS[d].code}{below(r, 10**5):05d}",
    "xk": lambda r, u, d, y: f"（鲁）XK{1 + below(r, 30):02d}-{1 + below(r, 60):03d}-"
                             f"{below(r, 10**5):05d}",
    "yp": lambda r, u, d, y: f"鲁AA532{below(r, 10**4):04d}",
    "tz": lambda r, u, d, y: f"{pick(r, '梯容锅起')}{pick(r, ('11', '21', '31'))}鲁B"
                             f"{below(r, 10**5):05d}({y % 100:02d})",
    "gg": lambda r, u, d, y: f"青{DISTRICTS[d].abbr}市监广登字{y}{below(r, 10**4):04d}号",
    "pw": lambda r, u, d, y: f"{u}001P",
    "dj": lambda r, u, d, y: f"{u}001W",
    "hp": lambda r, u, d, y: f"青环{DISTRICTS[d].abbr}审〔{y}〕{1 + below(r, 999)}号",
    "whsy": lambda r, u, d, y: f"鲁青危化使字〔{y}〕{below(r, 10**6):06d}",
    "whsc": lambda r, u, d, y: f"（鲁）WH安许证字〔{y}〕{below(r, 10**6):06d}",
    "yzd": lambda r, u, d, y: f"（鲁）3S{DISTRICTS[d].code}{below(r, 10**5):05d}",
    "jz": lambda r, u, d, y: f"（鲁）JZ安许证字〔{y}〕{below(r, 10**6):06d}",
    "whjy": lambda r, u, d, y: f"鲁青{DISTRICTS[d].abbr}危化经字〔{y}〕{below(r, 10**6):06d}",
    "yh": lambda r, u, d, y: f"（鲁）YH零许证字〔{y}〕{below(r, 10**6):06d}",
    "wwh": lambda r, u, d, y: f"鲁网文〔{y}〕{below(r, 10**4):04d}-{below(r, 1000):03d}号",
    "yl": lambda r, u, d, y: f"{DISTRICTS[d].code}{y % 100:02d}{below(r, 10**4):04d}",
    "yc": lambda r, u, d, y: f"{DISTRICTS[d].code}12{below(r, 10**4):04d}",
    "lxs": lambda r, u, d, y: f"L-SD-{below(r, 10**5):05d}",
    "cbw": lambda r, u, d, y: f"新出发青{DISTRICTS[d].abbr}字第{below(r, 10**5):05d}号",
    "aj": lambda r, u, d, y: f"青{DISTRICTS[d].abbr}消安检字〔{y}〕第{below(r, 10**4):04d}号",
    "ys": lambda r, u, d, y: f"青消验字〔{y}〕第{below(r, 10**4):04d}号",
    "ba": lambda r, u, d, y: f"青消备字〔{y}〕第{below(r, 10**4):04d}号",
}


def _permit_dates(r: random.Random, pt: PermitType, registered: int, rich: bool
                  ) -> tuple[int, int | None]:
    """Issued after registration; renewable permits were last renewed within their term."""
    if pt.years is None:
        return min(AS_OF_ORD, registered + int(r.random() * 730)), None
    start = max(registered, AS_OF_ORD - int(r.random() * pt.years * 365 * (0.9 if rich else 1.05)))
    return start, add_years(start, pt.years)


def _permit_status(r: random.Random, status: int, end: int | None, *, market: bool = False,
                   rich: bool = False) -> int:
    """PermitStatus index: follows the entity (deregistered → cancelled) and the validity."""
    if status == DEREGISTERED:
        return 4
    if status == REVOKED:
        return 3 if market else 4
    if end is not None and end < AS_OF_ORD:
        return 2
    return 1 if not rich and r.random() < 0.005 else 0


_RESULT_CUM = (cumulative(RESULT_WEIGHTS), cumulative(RESULT_WEIGHTS_INACTIVE))


def _inspections(r: random.Random, plan: Plan, i: int, rate: float,
                 pools: list[list[str]]) -> Iterator[tuple[int, int, list[str]]]:
    """The entity's inspection history: (date, InspectionResult index, inspector ids)."""
    if r.random() >= rate:
        return
    f = plan.facts
    x = r.random()
    lo = max(f.registered[i] + 30, AS_OF_ORD - 6 * 365)
    if lo > AS_OF_ORD:
        return
    cum = _RESULT_CUM[f.status[i] != ACTIVE]
    pool = pools[f.district[i]]
    for _ in range(1 if x < 0.75 else 2 if x < 0.95 else 3):
        day = lo + int(r.random() * (AS_OF_ORD - lo + 1))
        result = bisect(cum, r.random())
        staff = r.sample(pool, min(len(pool), 3 if r.random() < 0.1 else 2))
        yield day, result, staff


def _pools(plan: Plan, dept: str) -> list[list[str]]:
    pools: list[list[str]] = [[] for _ in DISTRICTS]
    for x in plan.inspectors[dept]:
        pools[x.district].append(x.id)
    return pools


def _fact(dept: str, p: Penalty) -> str:
    return REVOCATION_VIOLATION if p.violation == REVOCATION else VIOLATIONS[dept][p.violation].text


def _reference(plan: Plan, dept: str, key: Callable[[int], str]) -> Iterator[Load]:
    """Code tables, checklist items, the inspector pool and its declared conflicts."""
    shape = SHAPES[dept]
    for table, schema, columns, rows in code_tables(dept):
        yield Load(table, schema, columns, rows)
    yield Load(shape.items[0], shape.schema, shape.items[1],
               [shape.item(it) for it in CHECKLISTS[dept]])
    yield Load(shape.inspectors[0], shape.schema, shape.inspectors[1],
               [shape.inspector(x) for x in plan.inspectors[dept]])
    yield Load(shape.conflicts[0], shape.schema, shape.conflicts[1], _conflicts(plan, dept, key))


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


# -- market regulation: the register ----------------------------------------------------------


def _market_entities(plan: Plan, chunk: int) -> Iterator[Load]:
    start, end = chunk * CHUNK, min(plan.n, (chunk + 1) * CHUNK)
    yield Load("scztdj", None, ("tyshxydm", "qymc", "ztlx", "xzqh", "hyml", "zs", "jd", "wd",
                                "clrq", "djzt", "fddbr"), _register(plan, start, end, chunk))
    yield Load("xzxk", None, ("xkid", "tyshxydm", "xkwsh", "xkmc", "xkrq", "yxqz", "xkzt", "gzcn"),
               _market_permits(plan, start, end, chunk))
    shape = SHAPES["market"]
    yield Load(shape.inspections[0], None, shape.inspections[1],
               _market_inspections(plan, start, end, chunk))


def _register(plan: Plan, start: int, end: int, chunk: int) -> Iterator[Row]:
    r = _rng(plan, "market", "scztdj", chunk)
    f = plan.facts
    kinds = KIND["market"]
    for i in range(start, end):
        kind, district = plan.kind[i], f.district[i]
        section = SECTIONS[f.industry[i]]
        lon, lat = location(r, district)
        yield (f.codes[i], entity_name(r, kind, section, district), kinds[kind],
               DISTRICTS[district].code, section, address(r, kind, district), lon, lat,
               _day(f.registered[i]), ENTITY_STATUS[f.status[i]], person(r))


def _market_permits(plan: Plan, start: int, end: int, chunk: int) -> Iterator[Row]:
    """The plan's primary permit of each entity, and for some a second one."""
    r = _rng(plan, "market", "xzxk", chunk)
    f = plan.facts
    rich = set(plan.rich)
    status_codes = PERMIT_STATUS["market"]
    for i in range(start, end):
        code, district, status = f.codes[i], f.district[i], f.status[i]
        pt = MARKET_PERMITS[f.permit[i]]
        first = f.permit_date[i]
        valid_to = None if pt.years is None else add_years(first, pt.years)
        yield (2 * i + 1, code, _NUMBERS[pt.number](r, code, district, _day(first).year), pt.name,
               _day(first), None if valid_to is None else _day(valid_to),
               status_codes[_permit_status(r, status, valid_to, market=True, rich=i in rich)],
               f.commitment[i] > 0)
        if r.random() < 0.1:
            other = MARKET_PERMITS[0 if f.permit[i] != 0 else 5]
            day = f.registered[i] if other.number == "yyzz" else min(
                AS_OF_ORD, f.registered[i] + int(r.random() * 1000))
            yield (2 * i + 2, code, _NUMBERS[other.number](r, code, district, _day(day).year),
                   other.name, _day(day), None,
                   status_codes[_permit_status(r, status, None, market=True, rich=i in rich)],
                   False)


def _market_inspections(plan: Plan, start: int, end: int, chunk: int) -> Iterator[Row]:
    r = _rng(plan, "market", "jcjl", chunk)
    shape = SHAPES["market"]
    pools = _pools(plan, "market")
    rate = INSPECTION_RATE["market"]
    for i in range(start, end):
        for k, (day, result, staff) in enumerate(_inspections(r, plan, i, rate, pools)):
            yield shape.inspection(4 * i + k + 1, plan.facts.codes[i], day, result, staff)


def _market_records(plan: Plan) -> Iterator[Load]:
    yield from _reference(plan, "market", plan.uscc)
    shape = SHAPES["market"]
    rows = [shape.penalty(n, plan.uscc(p.idx), p, _fact("market", p))
            for n, p in enumerate(plan.facts.penalties["market"], start=1)]
    yield Load(shape.penalties[0], None, shape.penalties[1], rows)


# -- ecology, emergency, culture, fire ----------------------------------------------------------


def _department(plan: Plan, dept: str) -> Iterator[Load]:
    shape = SHAPES[dept]
    f = plan.facts
    bit = 1 << INSPECTING.index(dept)
    held = [i for i in range(plan.n) if f.holds[i] & bit]
    if dept == "emergency":
        # Still keyed by the legacy registration number; a few numbers in its crosswalk belong
        # to entities it has no records of (a former licence holder, a closed case file).
        key: Callable[[int], str] = lambda i: reg_no(plan, i)  # noqa: E731
        r = _rng(plan, dept, "reg_no_map")
        candidates = [i for i in range(plan.n) if not f.holds[i] & bit
                      and SECTIONS[f.industry[i]] in "CEG"]
        extra = [i for i in candidates if r.random() < 0.02] or candidates[:1]
        mapped = sorted(held + extra)
        yield Load("reg_no_map", None, ("reg_no", "uscc"), ((key(i), f.codes[i]) for i in mapped))
    else:
        key = plan.uscc
    yield from _reference(plan, dept, key)

    r = _rng(plan, dept, "permits")
    rich = set(plan.rich)

    def new_id(n: int, r: random.Random) -> Any:
        # culture's system keys rows by uuid; derived from the stream, never from os.urandom
        return uuid.UUID(int=r.getrandbits(128), version=4) if shape.uuid_ids else n

    options = [(tuple(t for t, _ in o), cumulative(w for _, w in o))
               for o in (dept_permits(dept, s) for s in SECTIONS)]

    def permits() -> Iterator[Row]:
        for n, i in enumerate(held, start=1):
            types, cum = options[f.industry[i]]
            pt = types[bisect(cum, r.random())]
            start, end = _permit_dates(r, pt, f.registered[i], i in rich)
            number = _NUMBERS[pt.number](r, f.codes[i], f.district[i], _day(start).year)
            status = _permit_status(r, f.status[i], end, rich=i in rich)
            yield shape.permit(new_id(n, r), key(i), number, pt.name, start, end, status)

    yield Load(shape.permits[0], shape.schema, shape.permits[1], permits())
    rp = _rng(plan, dept, "penalties")
    rows = [shape.penalty(new_id(n, rp), key(p.idx), p, _fact(dept, p))
            for n, p in enumerate(f.penalties[dept], start=1)]
    yield Load(shape.penalties[0], shape.schema, shape.penalties[1], rows)

    ri = _rng(plan, dept, "inspections")
    pools = _pools(plan, dept)
    rate = INSPECTION_RATE[dept]

    def inspections() -> Iterator[Row]:
        n = 0
        for i in held:
            for day, result, staff in _inspections(ri, plan, i, rate, pools):
                n += 1
                yield shape.inspection(new_id(n, ri), key(i), day, result, staff)

    yield Load(shape.inspections[0], shape.schema, shape.inspections[1], inspections())


# -- the credit platform ------------------------------------------------------------------------


def _credit_ratings(plan: Plan, chunk: int) -> Iterator[Load]:
    r = _rng(plan, "credit", "credit_rating", chunk)
    start, end = chunk * CHUNK, min(plan.n, (chunk + 1) * CHUNK)

    def rows() -> Iterator[Row]:
        for i in range(start, end):
            g = plan.grade[i]
            if g != NOT_RATED:
                yield (plan.uscc(i), GRADES[g], plan.score[i], _day(AS_OF_ORD - r.randrange(92)))

    yield Load("credit_rating", None, ("uscc", "grade", "score", "rated_on"), rows())


_SAFETY_DEPTS = ("emergency", "fire")
_ABNORMAL_REASONS = ("通过登记的住所或者经营场所无法联系", "未按照规定的期限公示年度报告",
                     "公示企业信息隐瞒真实情况、弄虚作假", "未在责令的期限内公示有关企业信息")
_BLACK_LIST_TITLES = {
    "market": "食品安全严重失信主体名单", "ecology": "环境违法失信黑名单",
    "emergency": "安全生产失信联合惩戒对象名单", "culture": "文化市场严重失信主体名单",
    "fire": "消防安全领域严重失信主体名单",
}
_RED_LIST = ("守合同重信用企业", "诚信经营示范户", "农民专业合作社示范社", "诚信建设示范单位",
             "诚信建设示范单位", "诚信建设示范单位")
_RED_LIST_SOURCE = ("market", "market", "credit", "credit", "credit", "credit")
RED_LIST_RATE = 0.0155  # of grade-A entities without penalties: about 1% of the city


class _Record(NamedTuple):
    decided: int
    idx: int
    type_code: str
    title: str
    source: str
    effective_to: int | None
    withdrawn: int | None
    deduction: int
    ref: int  # position of the repaired record, -1 for none


def _credit_records(plan: Plan) -> Iterator[Load]:
    """Penalty publicity from every department, repairs, lists, commitments; ids by date."""
    yield from (Load(*t) for t in code_tables("credit"))
    r = _rng(plan, "credit", "credit_record")
    f = plan.facts
    recs: list[_Record] = []
    serious_of: dict[int, tuple[str, Penalty]] = {}
    punished: set[int] = set()

    for dept in INSPECTING:  # penalty publicity: general 1 year, serious 3 years (rules.md)
        for p in f.penalties[dept]:
            punished.add(p.idx)
            if p.serious:
                serious_of[p.idx] = (dept, p)
            title = f"行政处罚：{_fact(dept, p)}（{p.doc_no}）"
            deduction = 30 if p.serious else {WARNING: 5, FINE: 10}.get(p.kind, 20)
            end = add_years(p.decided, 3 if p.serious else 1)
            minimum = REPAIR_MIN_DAYS["general" if not p.serious else
                                      "serious_safety" if dept in _SAFETY_DEPTS else "serious"]
            repaired = p.decided + minimum + r.randrange(120)
            if repaired < min(end, AS_OF_ORD + 1) and r.random() < 0.2:
                recs.append(_Record(p.decided, p.idx, "CF01", title, dept, end, repaired,
                                    deduction, -1))
                recs.append(_Record(repaired, p.idx, "XF01", f"信用修复：{title}", "credit", None,
                                    None, 0, len(recs) - 1))
            else:
                recs.append(_Record(p.decided, p.idx, "CF01", title, dept, end, None, deduction,
                                    -1))

    for i in range(plan.n):
        grade, listed = plan.grade[i], f.abnormal[i]
        if listed:
            reason = r.choice(_ABNORMAL_REASONS)
            title = f"列入经营异常名录：{reason}"
            three_years = add_years(listed, 3)
            if three_years <= AS_OF_ORD and grade == 3:  # moved to the serious-violation list
                recs.append(_Record(listed, i, "JY01", title, "market", three_years, None, 10, -1))
                recs.append(_Record(three_years, i, "YW01",
                                    "列入严重违法失信名单：被列入经营异常名录届满3年仍未履行相关义务",
                                    "market", add_years(three_years, 3), None, 40, -1))
            else:
                removed = None
                if three_years <= AS_OF_ORD or (listed + 30 < AS_OF_ORD and r.random() < 0.3):
                    removed = listed + 30 + r.randrange(max(1, min(three_years, AS_OF_ORD) - listed
                                                            - 30))
                recs.append(_Record(listed, i, "JY01", title, "market", removed, None, 10, -1))
        if grade == 3:
            serious = serious_of.get(i)
            if serious is not None or r.random() < 0.2:
                dept, p = serious if serious is not None else ("market", None)
                day = (min(AS_OF_ORD, p.decided + 10 + r.randrange(80)) if p is not None
                       else AS_OF_ORD - 30 - r.randrange(700))
                why = _fact(dept, p) if p is not None else "存在严重违法失信行为"
                recs.append(_Record(day, i, "YW01", f"列入严重违法失信名单：{why}", dept,
                                    add_years(day, 3), None, 40, -1))
            if r.random() < 0.25:
                dept = serious[0] if serious is not None else "market"
                day = AS_OF_ORD - r.randrange(900)
                recs.append(_Record(day, i, "HB01", _BLACK_LIST_TITLES[dept], dept,
                                    add_years(day, 3), None, 50, -1))
        elif (grade == 0 and f.status[i] == ACTIVE and i not in punished
              and r.random() < RED_LIST_RATE):
            kind = plan.kind[i]
            day = AS_OF_ORD - 30 - r.randrange(900)
            recs.append(_Record(day, i, "HM01", _RED_LIST[kind], _RED_LIST_SOURCE[kind],
                                add_years(day, 2), None, 0, -1))
        if f.commitment[i]:  # market permits approved on commitment (XZXK.GZCN)
            name = MARKET_PERMITS[f.permit[i]].name
            recs.append(_Record(f.permit_date[i], i, "CN01", f"告知承诺：{name}", "market", None,
                                None, 0, -1))
            if f.commitment[i] == 2:
                day = min(AS_OF_ORD, f.permit_date[i] + 30 + r.randrange(150))
                recs.append(_Record(day, i, "CN02", f"违背告知承诺：{name}核查不符合承诺条件",
                                    "market", add_years(day, 1), None, 15, -1))

    order = sorted(range(len(recs)), key=lambda k: (recs[k].decided, recs[k].idx, k))
    ids = [0] * len(recs)
    for n, k in enumerate(order, start=1):
        ids[k] = n

    def rows() -> Iterator[Row]:
        for k in order:
            x = recs[k]
            yield (ids[k], plan.uscc(x.idx), x.type_code, x.title, x.source, _day(x.decided),
                   None if x.effective_to is None else _day(x.effective_to),
                   None if x.withdrawn is None else _day(x.withdrawn), x.deduction,
                   ids[x.ref] if x.ref >= 0 else None)

    yield Load("credit_record", None, ("record_id", "uscc", "type_code", "title", "source_dept",
                                       "decided_on", "effective_to", "withdrawn_on", "deduction",
                                       "ref_record_id"), rows())

