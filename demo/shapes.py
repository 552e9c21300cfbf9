"""How each department stores the common record kinds: its tables, columns and value forms.

The reverse of the adapters' mapping files (adapters/mappings/*.toml): market regulation keeps
pinyin-initial columns, ecology dates as 'YYYYMMDD' and money in fen, emergency management
timestamps and a legacy key, culture camelCase columns, Chinese labels and uuids, fire rescue
upper-case names in its own schema with numeric codes, the health commission (on MariaDB)
integer codes, DECIMAL yuan, JSON arrays and its own unit ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

from demo.catalog import Item
from demo.codes import KIND, PENALTY_KIND, PERMIT_STATUS, RESULT
from demo.plan import Inspector, Penalty
from demo.sampling import below, pick
from demo.vocab import DISTRICTS

Row = tuple[Any, ...]
Table = tuple[str, tuple[str, ...]]


class Load(NamedTuple):
    """Rows for one table, streamed by COPY."""

    table: str
    schema: str | None
    columns: tuple[str, ...]
    rows: Iterable[Row]


def load(t: Table, rows: Iterable[Row], schema: str | None = None) -> Load:
    return Load(t[0], schema, t[1], rows)


def table(name: str, columns: str) -> Table:
    """A table and its columns, written as one space-separated string."""
    return name, tuple(columns.split())


def day(o: int) -> date:
    return date.fromordinal(o)


def ymd(o: int) -> str:
    return date.fromordinal(o).isoformat().replace("-", "")  # strftime is 10x slower


def yuan(fen: int) -> Decimal | None:
    return Decimal(fen).scaleb(-2) if fen else None


class Shape:
    """The common form; each department overrides what it stores differently."""

    dept = ""
    schema: str | None = None
    uuid_ids = False  # rows keyed by uuids (drawn from the job's stream) instead of numbers
    permits: Table
    penalties: Table
    inspections: Table
    items: Table
    inspectors: Table
    conflicts: Table  # (inspector id, entity key, reason) everywhere

    def load(self, t: Table, rows: Iterable[Row]) -> Load:
        return load(t, rows, self.schema)

    def day(self, o: int) -> Any:
        return day(o)

    def permit(
        self, pid: Any, key: str, number: str, name: str, start: int, end: int | None, status: int
    ) -> Row:
        valid_to = None if end is None else self.day(end)
        return (pid, key, number, name, self.day(start), valid_to, PERMIT_STATUS[self.dept][status])

    def penalty(self, pid: Any, key: str, p: Penalty, fact: str) -> Row:
        kind = PENALTY_KIND[self.dept][p.kind]
        return (pid, key, p.doc_no, kind, yuan(p.fine_fen), self.day(p.decided), fact, p.serious)

    def inspection(self, pid: Any, key: str, on: int, result: int, staff: list[str]) -> Row:
        return (pid, key, self.day(on), RESULT[self.dept][result], staff)

    def item(self, it: Item) -> Row:
        kinds = [KIND[self.dept][k] for k in it.kinds]
        return (it.code, it.name, it.basis, kinds, list(it.industries), it.standard,
                it.delegable, list(it.tags))  # fmt: skip

    def inspector(self, x: Inspector) -> Row:
        return (x.id, x.name, x.cert, list(x.tags), DISTRICTS[x.district].code, x.on_duty)


class MarketShape(Shape):
    dept = "market"
    penalties = table("xzcf", "cfid tyshxydm cfjdswh cfzl fkje cfjdrq wfxw yzwf")
    inspections = table("jcjl", "jcid tyshxydm jcrq jcjg jcry")
    items = table("ccsxqd", "sxbm sxmc flyj syztlx syhy bzbm kwt ywbq")
    inspectors = table("zfry", "ryid xm zfzh ywbq xzqh zt")
    conflicts = table("hbqd", "ryid tyshxydm yy")


class EcologyShape(Shape):
    """An older system: 'YYYYMMDD' text dates, fen, Y/N flags, comma-separated lists."""

    dept = "ecology"
    permits = table(
        "discharge_licence",
        "licence_id credit_code licence_no licence_name issue_ymd expire_ymd state",
    )
    penalties = table(
        "env_sanction", "case_id credit_code decision_no sanction fine_fen decided_ymd facts grave"
    )
    inspections = table("site_check", "check_id credit_code check_ymd outcome officer_ids")
    items = table(
        "check_item",
        "item_code item_name legal_basis entity_kinds industries standard_code delegable tags",
    )
    inspectors = table("officer", "officer_id full_name cert_no tags district on_duty")
    conflicts = table("officer_conflict", "officer_id credit_code reason")

    def day(self, o: int) -> str:
        return ymd(o)

    def penalty(self, pid: Any, key: str, p: Penalty, fact: str) -> Row:
        kind = PENALTY_KIND["ecology"][p.kind]
        grave = "Y" if p.serious else "N"
        return (pid, key, p.doc_no, kind, p.fine_fen, ymd(p.decided), fact, grave)

    def inspection(self, pid: Any, key: str, on: int, result: int, staff: list[str]) -> Row:
        return (pid, key, ymd(on), RESULT["ecology"][result], ",".join(staff))

    def item(self, it: Item) -> Row:
        kinds = ",".join(KIND["ecology"][k] for k in it.kinds)
        return (it.code, it.name, it.basis, kinds, ",".join(it.industries), it.standard,
                "Y" if it.delegable else "N", ",".join(it.tags))  # fmt: skip

    def inspector(self, x: Inspector) -> Row:
        on_duty = "Y" if x.on_duty else "N"
        return (x.id, x.name, x.cert, ",".join(x.tags), DISTRICTS[x.district].code, on_duty)


class EmergencyShape(Shape):
    """Keyed by the legacy registration number (reg_no_map resolves it); timestamps."""

    dept = "emergency"
    permits = table("safety_licence", "id reg_no cert_no scope issued expires status")
    penalties = table(
        "punishment", "id reg_no doc_no pun_type amount_yuan decided_at reason is_serious"
    )
    inspections = table("safety_check", "id reg_no checked_at result staff")
    items = table(
        "inspection_item", "code title basis kinds sections std_code may_delegate skill_tags"
    )
    inspectors = table("staff", "staff_no name badge_no skills area_code active")
    conflicts = table("staff_avoidance", "staff_no reg_no note")

    def day(self, o: int) -> datetime:
        # An office-hours time of day, derived from the date so that no randomness is spent.
        return datetime.combine(day(o), time(8 + o % 9, o * 7 % 60))

    def permit(
        self, pid: Any, key: str, number: str, name: str, start: int, end: int | None, status: int
    ) -> Row:
        expires = None if end is None else datetime.combine(day(end), time())
        return (pid, key, number, name, self.day(start), expires, PERMIT_STATUS[self.dept][status])

    def penalty(self, pid: Any, key: str, p: Penalty, fact: str) -> Row:
        kind = PENALTY_KIND[self.dept][p.kind]
        serious = 1 if p.serious else 0
        return (pid, key, p.doc_no, kind, yuan(p.fine_fen), self.day(p.decided), fact, serious)


class CultureShape(Shape):
    """camelCase columns, codes stored as their Chinese labels, uuid keys."""

    dept = "culture"
    uuid_ids = True
    permits = table(
        "businessPermit",
        "permitId creditCode permitNumber permitType validFrom validUntil permitState",
    )
    penalties = table(
        "adminPenalty",
        "penaltyId creditCode documentNo penaltyType fineAmount decisionDate illegalFact serious",
    )
    inspections = table(
        "inspectionRecord", "recordId creditCode inspectDate resultLabel inspectorIds"
    )
    items = table(
        "checkItem",
        "itemCode itemName legalBasis entityKinds industryCodes standardCode delegable tags",
    )
    inspectors = table("lawOfficer", "officerId realName certificateNo tags districtCode available")
    conflicts = table("officerConflict", "officerId creditCode reason")


class FireShape(Shape):
    """Upper-case names in schema FIRE (folded to lower case by PostgreSQL), numeric codes."""

    dept = "fire"
    schema = "fire"
    permits = table(
        "safety_approval",
        "approval_id org_uscc approval_no approval_kind approved_on valid_to state_num",
    )
    penalties = table(
        "penalty_case",
        "case_id org_uscc case_no kind_num fine_yuan decided_on violation serious_flag",
    )
    inspections = table("inspection", "inspection_id org_uscc inspected_on result_num officers")
    items = table(
        "check_item",
        "item_no item_name legal_basis entity_kinds industries standard_code delegable tags",
    )
    inspectors = table("firefighter_inspector", "inspector_id name cert_no tags district on_duty")
    conflicts = table("inspector_conflict", "inspector_id org_uscc reason")


class HealthShape(EmergencyShape):
    """MariaDB: snake_case English names, integer codes with code tables, DATETIME (office
    hours, as emergency management's timestamps), money in DECIMAL yuan, JSON arrays, rows
    keyed by its own unit id (supervised_unit has the USCC)."""

    dept = "health"
    permits = table(
        "practice_licence",
        "licence_id unit_id licence_no licence_type issued_at expires_at status_id",
    )
    penalties = table(
        "administrative_penalty",
        "penalty_id unit_id decision_no penalty_type_id fine_yuan decided_at violation_text"
        " is_serious",
    )
    inspections = table("supervision_check", "check_id unit_id checked_at result_id inspector_nos")
    items = table(
        "random_check_item",
        "item_code item_name legal_basis entity_kind_ids industry_sections standard_code"
        " delegable skill_tags",
    )
    inspectors = table(
        "health_inspector", "inspector_no full_name cert_no skill_tags district_code on_duty"
    )
    conflicts = table("inspector_recusal", "inspector_no unit_id reason")

    def inspection(self, pid: Any, key: str, on: int, result: int, staff: list[str]) -> Row:
        return (pid, key, self.day(on), RESULT["health"][result], _json(staff))

    def item(self, it: Item) -> Row:
        kinds = [KIND["health"][k] for k in it.kinds]
        return (it.code, it.name, it.basis, _json(kinds), _json(list(it.industries)),
                it.standard, int(it.delegable), _json(list(it.tags)))  # fmt: skip

    def inspector(self, x: Inspector) -> Row:
        return (x.id, x.name, x.cert, _json(list(x.tags)), DISTRICTS[x.district].code,
                int(x.on_duty))  # fmt: skip


def _json(values: list[Any]) -> str:
    return orjson.dumps(values).decode()


SHAPES: dict[str, Shape] = {
    s.dept: s
    for s in (
        MarketShape(),
        EcologyShape(),
        EmergencyShape(),
        CultureShape(),
        FireShape(),
        HealthShape(),
    )
}

# Permit numbers in each permit's real-life format: (rng, uscc, district, year) -> number.
PERMIT_NUMBERS: dict[str, Callable[[random.Random, str, int, int], str]] = {
    "yyzz": lambda r, u, d, y: u,  # the business licence carries the USCC
    "jy": lambda r, u, d, y: f"JY{pick(r, '12')}{DISTRICTS[d].code}{below(r, 10**7):07d}",
    "sc": lambda r, u, d, y: f"SC{101 + below(r, 32)}{DISTRICTS[d].code}{below(r, 10**5):05d}",
    "xk": lambda r, u, d, y: (
        f"（鲁）XK{1 + below(r, 30):02d}-{1 + below(r, 60):03d}-{below(r, 10**5):05d}"
    ),
    "yp": lambda r, u, d, y: f"鲁AA532{below(r, 10**4):04d}",
    "tz": lambda r, u, d, y: (
        f"{pick(r, '梯容锅起')}{pick(r, ('11', '21', '31'))}鲁B{below(r, 10**5):05d}({y % 100:02d})"
    ),
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
    # 登记号: the organization code in the USCC, the district, economic type, class, serial
    "yljg": lambda r, u, d, y: (
        f"{u[8:17]}{DISTRICTS[d].code}{pick(r, ('11', '17', '21', '41'))}"
        f"{pick(r, ('A100', 'A200', 'B100', 'C200', 'D100', 'D200'))}1"
    ),
    "fszl": lambda r, u, d, y: f"鲁卫放证字〔{y}〕第{DISTRICTS[d].code}{below(r, 10**4):04d}号",
    "zybwh": lambda r, u, d, y: f"{DISTRICTS[d].code}{y}{below(r, 10**6):06d}",
    "ggcs": lambda r, u, d, y: f"青{DISTRICTS[d].abbr}卫公字〔{y}〕第{below(r, 10**6):06d}号",
}
