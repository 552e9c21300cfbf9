"""The public credit platform's rows: grades, and records reported by every department.

Penalty publicity mirrors the departments' penalties (same decision numbers and dates), each
with its publicity class and period under the 2026 rules (planning.credit_lists); commitments
mirror market permits approved on commitment (XZXK.GZCN); abnormal-operation listings,
serious-violation and black lists follow the grades the plan derived from them, and those a
serious penalty founded point at its publicity record (a repair of it lifts them too).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import NamedTuple

from demo.catalog import MARKET_PERMITS
from demo.codes import GRADES, INSPECTING, code_tables
from demo.plan import (
    ACTIVE,
    AS_OF_ORD,
    CHUNK,
    FINE,
    NOT_RATED,
    WARNING,
    Penalty,
    Plan,
    add_years,
    violation_text,
)
from demo.shapes import Row, day, table
from domain.vocabulary import PenaltyKind, PublicityClass
from planning.credit_lists import penalty_class, publicity

# The platform's severity codes (失信程度), as its mapping translates them.
SEVERITY = {
    PublicityClass.WARNING: "JG",
    PublicityClass.MINOR: "QW",
    PublicityClass.GENERAL: "YB",
    PublicityClass.SERIOUS: "YZ",
}
KINDS = tuple(PenaltyKind)
ABNORMAL_REASONS = (
    "通过登记的住所或者经营场所无法联系",
    "未按照规定的期限公示年度报告",
    "公示企业信息隐瞒真实情况、弄虚作假",
    "未在责令的期限内公示有关企业信息",
)
BLACK_LISTS = {
    "market": "食品安全严重失信主体名单",
    "ecology": "环境违法失信黑名单",
    "emergency": "安全生产失信联合惩戒对象名单",
    "culture": "文化市场严重失信主体名单",
    "fire": "消防安全领域严重失信主体名单",
    "health": "医疗卫生行业严重失信主体名单",
}
# Red-list honours by entity kind, and who awards them.
RED_LISTS = (
    ("守合同重信用企业", "market"),
    ("诚信经营示范户", "market"),
    ("农民专业合作社示范社", "credit"),
    ("诚信建设示范单位", "credit"),
    ("诚信建设示范单位", "credit"),
    ("诚信建设示范单位", "credit"),
)
RED_LIST_RATE = 0.0155  # of grade-A entities without penalties: about 1% of the city
REPAIR_RATE = 0.2
D = 3  # grade index
RECORDS = table(
    "credit_record",
    "record_id uscc type_code title source_dept decided_on effective_to withdrawn_on deduction"
    " ref_record_id severity basis_record_id",
)
RATINGS = table("credit_rating", "uscc grade score rated_on")


def ratings(plan: Plan, chunk: int) -> Iterator[Row]:
    """credit_rating of the chunk's entities: everyone but the deregistered."""
    r = random.Random(f"{plan.seed}:credit:credit_rating:{chunk}")
    for i in range(chunk * CHUNK, min(plan.n, (chunk + 1) * CHUNK)):
        g = plan.grade[i]
        if g != NOT_RATED:
            yield (plan.uscc(i), GRADES[g], plan.score[i], day(AS_OF_ORD - r.randrange(92)))


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
    severity: str | None  # publicity class code of a penalty or broken commitment
    basis: int  # position of the record that founded this list entry, -1 for none


class _Records:
    def __init__(self) -> None:
        self.items: list[_Record] = []

    def add(
        self,
        decided: int,
        i: int,
        type_code: str,
        title: str,
        source: str,
        effective_to: int | None = None,
        *,
        withdrawn: int | None = None,
        deduction: int = 0,
        ref: int = -1,
        severity: str | None = None,
        basis: int = -1,
    ) -> int:
        self.items.append(
            _Record(
                decided,
                i,
                type_code,
                title,
                source,
                effective_to,
                withdrawn,
                deduction,
                ref,
                severity,
                basis,
            )
        )
        return len(self.items) - 1


def records(plan: Plan) -> tuple[list[tuple], Iterator[Row]]:
    """(record_type rows, credit_record rows); record ids run in order of decision date."""
    r = random.Random(f"{plan.seed}:credit:credit_record:0")
    f = plan.facts
    recs = _Records()
    serious_of: dict[int, tuple[str, Penalty, int, int | None]] = {}
    punished: set[int] = set()

    for dept in INSPECTING:  # penalty publicity: by class, from the decision date
        for p in f.penalties[dept]:
            punished.add(p.idx)
            cls = penalty_class(KINDS[p.kind], p.fine_fen, p.serious)
            period = publicity(cls, date.fromordinal(p.decided))
            title = f"行政处罚：{violation_text(dept, p)}（{p.doc_no}）"
            deduction = 30 if p.serious else {WARNING: 5, FINE: 10}.get(p.kind, 20)
            end = None if period is None else period.last_day.toordinal()
            # repair: only after the minimum period, and before it drops off by itself
            repaired = None
            if period is not None:
                on = period.repairable_from.toordinal() + r.randrange(120)
                if on <= min(period.last_day.toordinal(), AS_OF_ORD) and r.random() < REPAIR_RATE:
                    repaired = on
            k = recs.add(
                p.decided,
                p.idx,
                "CF01",
                title,
                dept,
                end,
                withdrawn=repaired,
                deduction=deduction,
                severity=SEVERITY[cls],
            )
            if repaired is not None:
                recs.add(repaired, p.idx, "XF01", f"信用修复：{title}", "credit", ref=k)
            if p.serious:
                serious_of[p.idx] = (dept, p, k, repaired)

    for i in range(plan.n):
        grade, listed = plan.grade[i], f.abnormal[i]
        if listed:
            _abnormal(r, recs, i, listed, grade)
        if grade == D:
            _dishonest(r, recs, i, serious_of.get(i))
        elif (
            grade == 0
            and f.status[i] == ACTIVE
            and i not in punished
            and r.random() < RED_LIST_RATE
        ):
            title, source = RED_LISTS[plan.kind[i]]
            on = AS_OF_ORD - 30 - r.randrange(900)
            recs.add(on, i, "HM01", title, source, add_years(on, 2))
        if f.commitment[i]:  # market permits approved on commitment (XZXK.GZCN)
            name = MARKET_PERMITS[f.permit[i]].name
            recs.add(f.permit_date[i], i, "CN01", f"告知承诺：{name}", "market")
            if f.commitment[i] == 2:  # the verification found the conditions unmet
                on = min(AS_OF_ORD, f.permit_date[i] + 30 + r.randrange(150))
                title = f"违背告知承诺：{name}核查不符合承诺条件"
                recs.add(
                    on, i, "CN02", title, "market", add_years(on, 1), deduction=15, severity="YB"
                )

    items = recs.items
    order = sorted(range(len(items)), key=lambda k: (items[k].decided, items[k].idx, k))
    ids = [0] * len(items)
    for n, k in enumerate(order, start=1):
        ids[k] = n

    def rows() -> Iterator[Row]:
        for k in order:
            x = items[k]
            yield (
                ids[k],
                plan.uscc(x.idx),
                x.type_code,
                x.title,
                x.source,
                day(x.decided),
                None if x.effective_to is None else day(x.effective_to),
                None if x.withdrawn is None else day(x.withdrawn),
                x.deduction,
                ids[x.ref] if x.ref >= 0 else None,
                x.severity,
                ids[x.basis] if x.basis >= 0 else None,
            )

    return code_tables("credit")[0][3], rows()


def _abnormal(r: random.Random, recs: _Records, i: int, listed: int, grade: int) -> None:
    """An abnormal-operation listing; after three years it moves to the serious-violation list
    (the D-graded) or has been lifted (the others)."""
    title = f"列入经营异常名录：{r.choice(ABNORMAL_REASONS)}"
    three_years = add_years(listed, 3)
    if three_years <= AS_OF_ORD and grade == D:
        recs.add(listed, i, "JY01", title, "market", three_years, deduction=10)
        why = "列入严重违法失信名单：被列入经营异常名录届满3年仍未履行相关义务"
        recs.add(three_years, i, "YW01", why, "market", add_years(three_years, 3), deduction=40)
        return
    lifted = None
    if three_years <= AS_OF_ORD or (listed + 30 < AS_OF_ORD and r.random() < 0.3):
        lifted = listed + 30 + r.randrange(max(1, min(three_years, AS_OF_ORD) - listed - 30))
    recs.add(listed, i, "JY01", title, "market", lifted, deduction=10)


def _dishonest(
    r: random.Random,
    recs: _Records,
    i: int,
    serious: tuple[str, Penalty, int, int | None] | None,
) -> None:
    """Serious-violation and black-list entries of a D-graded entity; those a serious penalty
    founded point at its publicity record, and a repair of it lifted them on the same day."""
    dept, basis, repaired = "market", -1, None
    if serious is not None:
        dept, p, basis, repaired = serious
        on = min(AS_OF_ORD, p.decided + 10 + r.randrange(80))
        title = f"列入严重违法失信名单：{violation_text(dept, p)}"
        recs.add(
            on, i, "YW01", title, dept, add_years(on, 3), deduction=40, basis=basis,
            withdrawn=_lifted(repaired, on),
        )  # fmt: skip
    elif r.random() < 0.2:
        on = AS_OF_ORD - 30 - r.randrange(700)
        title = "列入严重违法失信名单：存在严重违法失信行为"
        recs.add(on, i, "YW01", title, "market", add_years(on, 3), deduction=40)
    if r.random() < 0.25:
        on = AS_OF_ORD - r.randrange(900)
        recs.add(
            on, i, "HB01", BLACK_LISTS[dept], dept, add_years(on, 3), deduction=50, basis=basis,
            withdrawn=_lifted(repaired, on),
        )  # fmt: skip


def _lifted(repaired: int | None, listed: int) -> int | None:
    """A repair of the founding record lifts a list entry made before it, the same day."""
    return repaired if repaired is not None and repaired >= listed else None
