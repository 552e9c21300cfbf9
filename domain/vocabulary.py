"""The one vocabulary that every department's code tables are mapped onto.

Adapters translate source codes into these values (declared in their mapping files);
the GraphQL schema exposes them as enums. Values are stable API: add, never rename.
"""

from __future__ import annotations

from enum import StrEnum


class EntityKind(StrEnum):
    ENTERPRISE = "ENTERPRISE"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    FARMERS_COOPERATIVE = "FARMERS_COOPERATIVE"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    SOCIAL_ORGANIZATION = "SOCIAL_ORGANIZATION"
    JUDICIAL_SERVICE = "JUDICIAL_SERVICE"


class EntityStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    DEREGISTERED = "DEREGISTERED"


class PermitStatus(StrEnum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"


class PenaltyKind(StrEnum):
    WARNING = "WARNING"
    FINE = "FINE"
    CONFISCATION = "CONFISCATION"
    SUSPENSION = "SUSPENSION"
    LICENCE_REVOCATION = "LICENCE_REVOCATION"
    DETENTION = "DETENTION"
    OTHER = "OTHER"


class CreditRecordKind(StrEnum):
    COMMITMENT = "COMMITMENT"
    BROKEN_COMMITMENT = "BROKEN_COMMITMENT"
    RED_LIST = "RED_LIST"
    BLACK_LIST = "BLACK_LIST"
    ABNORMAL_OPERATION = "ABNORMAL_OPERATION"
    SERIOUS_VIOLATION = "SERIOUS_VIOLATION"
    PENALTY_PUBLICITY = "PENALTY_PUBLICITY"
    REPAIR = "REPAIR"
    INSPECTION_RESULT = "INSPECTION_RESULT"


class PublicityClass(StrEnum):
    """How long a dishonesty record is public (rules in force from 1 April 2026)."""

    WARNING = "WARNING"  # a penalty that is only a warning: never published
    MINOR = "MINOR"  # not published, or at most 3 months
    GENERAL = "GENERAL"  # 3 months to 1 year
    SERIOUS = "SERIOUS"  # 1 to 3 years


class CreditGrade(StrEnum):
    A = "A"  # good (green)
    B = "B"  # warning (yellow)
    C = "C"  # dishonest (red)
    D = "D"  # seriously dishonest (black)


class InspectionResult(StrEnum):
    """The national result categories of a random inspection (credit publicity system)."""

    NO_PROBLEM = "NO_PROBLEM"
    PROBLEM_CORRECTED = "PROBLEM_CORRECTED"
    PROBLEM_PENDING = "PROBLEM_PENDING"
    NOT_CONTACTABLE = "NOT_CONTACTABLE"
    ACTIVITY_NOT_FOUND = "ACTIVITY_NOT_FOUND"
    REFUSED = "REFUSED"


# Lists an entity can be on; each is a credit-record kind with a period of effect.
LIST_KINDS = (
    CreditRecordKind.RED_LIST,
    CreditRecordKind.BLACK_LIST,
    CreditRecordKind.ABNORMAL_OPERATION,
    CreditRecordKind.SERIOUS_VIOLATION,
)

DISTRICTS = {
    "370202": "市南区 Shinan",
    "370203": "市北区 Shibei",
    "370211": "黄岛区 Huangdao",
    "370212": "崂山区 Laoshan",
    "370213": "李沧区 Licang",
    "370214": "城阳区 Chengyang",
    "370215": "即墨区 Jimo",
    "370281": "胶州市 Jiaozhou",
    "370283": "平度市 Pingdu",
    "370285": "莱西市 Laixi",
}

INDUSTRIES = {
    "C": "制造业 manufacturing",
    "E": "建筑业 construction",
    "F": "批发和零售业 wholesale and retail",
    "G": "交通运输、仓储和邮政业 transport and storage",
    "H": "住宿和餐饮业 accommodation and catering",
    "L": "租赁和商务服务业 leasing and business services",
    "P": "教育 education",
    "Q": "卫生和社会工作 health and social work",
    "R": "文化、体育和娱乐业 culture, sports and entertainment",
}
