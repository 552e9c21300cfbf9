"""The source code values of each demo department, exactly as demo/CODES.md lists them.

Tuples are indexed in the order of the unified enums in domain.vocabulary (EntityKind,
PermitStatus, PenaltyKind, InspectionResult, EntityStatus); None marks a value a department
has no code for. The adapters' mapping files translate these back onto the unified vocabulary.
"""

from __future__ import annotations

INSPECTING = ("market", "ecology", "emergency", "culture", "fire", "health")
DEPARTMENTS = (*INSPECTING, "credit")
# Departments whose database is MariaDB (on the MYSQL_URL server); the others are PostgreSQL.
ON_MARIADB = ("health",)

DEPARTMENT_NAMES = {
    "market": "市场监督管理局",
    "ecology": "生态环境局",
    "emergency": "应急管理局",
    "culture": "文化广电旅游局",
    "fire": "消防救援支队",
    "health": "卫生健康委员会",
    "credit": "发展和改革委员会",
}

KIND: dict[str, tuple[str | int, ...]] = {
    "market": ("11", "12", "13", "21", "31", "41"),
    "ecology": ("QY", "GT", "HZ", "SY", "SH", "SF"),
    "emergency": ("enterprise", "individual", "coop", "institution", "social", "judicial"),
    "culture": ("企业", "个体工商户", "农民专业合作社", "事业单位", "社会组织", "司法服务机构"),
    "fire": ("E", "I", "F", "P", "S", "J"),
    "health": (1, 2, 3, 4, 5, 6),  # code_entity_kind
}
KIND_LABELS = ("企业", "个体工商户", "农民专业合作社", "事业单位", "社会组织", "司法服务机构")

ENTITY_STATUS = ("1", "2", "3", "4")  # market DM_DJZT
ENTITY_STATUS_LABELS = ("存续", "停业", "吊销", "注销")

PERMIT_STATUS: dict[str, tuple[str | int, ...]] = {
    "market": ("01", "02", "03", "04", "05"),
    "ecology": ("A", "S", "E", "R", "C"),
    "emergency": ("正常", "暂扣", "过期", "吊销", "注销"),
    "culture": ("有效", "暂停", "过期", "撤销", "注销"),
    "fire": (1, 2, 3, 4, 5),
    "health": (1, 2, 3, 4, 5),  # code_licence_status
}
PENALTY_KIND: dict[str, tuple[str | int | None, ...]] = {
    "market": ("01", "02", "03", "04", "05", None, "09"),
    "ecology": ("W", "F", "CF", "TS", "RL", "DT", "OT"),
    "emergency": ("JG", "FK", "MS", "TC", "DX", "JL", "QT"),
    "culture": ("警告", "罚款", "没收违法所得", "责令停业整顿", "吊销许可证", None, "其他"),
    "fire": (10, 20, 30, 40, 50, 60, 90),
    "health": (1, 2, 3, 4, 5, None, 9),  # code_penalty_type
}
RESULT: dict[str, tuple[str | int, ...]] = {
    "market": ("1", "2", "3", "4", "5", "6"),
    "ecology": ("OK", "FIX", "PEN", "NC", "NA", "REF"),
    "emergency": ("合格", "整改完成", "待处理", "失联", "无此经营", "拒绝检查"),
    "culture": ("未发现问题", "已责令改正", "待后续处理", "无法联系", "未发现经营活动", "拒绝检查"),
    "fire": (0, 1, 2, 3, 4, 5),
    "health": (1, 2, 3, 4, 5, 6),  # code_check_result
}

# Labels of the code tables, in unified order; each department words them its own way.
PERMIT_STATUS_LABELS: dict[str, tuple[str, ...]] = {
    "market": ("有效", "暂扣", "过期失效", "吊销", "注销"),
    "ecology": ("有效", "暂停", "过期", "撤销", "注销"),
    "emergency": ("许可证正常有效", "暂扣许可证", "超过有效期", "吊销许可证", "注销许可证"),
    "fire": ("有效", "暂停使用", "过期", "撤销", "注销"),
    "health": ("有效", "暂停执业", "超过有效期", "吊销", "注销"),
}
PENALTY_KIND_LABELS: dict[str, tuple[str | None, ...]] = {
    "market": (
        "警告",
        "罚款",
        "没收违法所得、没收非法财物",
        "责令停产停业",
        "暂扣或者吊销许可证、暂扣或者吊销执照",
        None,
        "其他行政处罚",
    ),
    "ecology": (
        "警告",
        "罚款",
        "没收违法所得",
        "责令停产整治",
        "吊销许可证",
        "移送行政拘留",
        "其他",
    ),
    "emergency": (
        "警告",
        "罚款",
        "没收违法所得、没收非法开采的矿产品",
        "责令停产停业整顿",
        "吊销有关许可证",
        "行政拘留",
        "其他",
    ),
    "fire": (
        "警告",
        "罚款",
        "没收违法所得",
        "责令停产停业（停止使用）",
        "吊销许可",
        "行政拘留",
        "其他",
    ),
    "health": (
        "警告",
        "罚款",
        "没收违法所得",
        "责令暂停执业活动",
        "吊销执业许可证",
        None,
        "其他",
    ),
}
RESULT_LABELS: dict[str, tuple[str, ...]] = {
    "market": (
        "未发现问题",
        "发现问题已责令改正",
        "发现问题待后续处理",
        "通过登记的住所（经营场所）无法联系",
        "未发现开展本次抽查涉及的经营活动",
        "不配合检查情节严重",
    ),
    "ecology": ("未发现问题", "已责令改正", "待后续处理", "无法联系", "未发现经营活动", "拒绝检查"),
    "emergency": (
        "检查合格，未发现问题",
        "发现隐患，已整改完成",
        "发现问题，待进一步处理",
        "通过登记地址无法联系",
        "未发现检查涉及的经营活动",
        "拒绝、阻碍检查",
    ),
    "fire": ("未发现问题", "已责令改正", "待后续处理", "无法联系", "未发现经营活动", "拒绝检查"),
    "health": (
        "符合要求",
        "不符合要求，已当场整改",
        "不符合要求，责令限期整改",
        "无法联系",
        "未发现执业（经营）活动",
        "拒绝、阻挠监督检查",
    ),
}
# The health commission's own classes of what it supervises (code_unit_type), by section.
UNIT_TYPES = (
    (1, "医疗机构", "FQ"),
    (2, "公共场所", "HLR"),
    (3, "职业病危害用人单位", "CEG"),
    (4, "学校及托幼机构", "P"),
)

# Credit platform record types (CreditRecordKind order) and their labels.
RECORD_TYPES = (
    ("CN01", "信用承诺"),
    ("CN02", "违背承诺"),
    ("HM01", "红名单"),
    ("HB01", "黑名单"),
    ("JY01", "经营异常名录"),
    ("YW01", "严重违法失信名单"),
    ("CF01", "行政处罚公示"),
    ("XF01", "信用修复"),
    ("JC01", "抽查检查结果"),
)
GRADES = "ABCD"


def code_tables(dept: str) -> list[tuple[str, str | None, tuple[str, ...], list[tuple]]]:
    """(table, schema, columns, rows) of the department's code tables."""
    if dept == "market":
        return [
            ("dm_ztlx", None, ("dm", "mc"), list(zip(KIND["market"], KIND_LABELS, strict=True))),
            (
                "dm_djzt",
                None,
                ("dm", "mc"),
                list(zip(ENTITY_STATUS, ENTITY_STATUS_LABELS, strict=True)),
            ),
            (
                "dm_xkzt",
                None,
                ("dm", "mc"),
                _pairs(PERMIT_STATUS["market"], PERMIT_STATUS_LABELS["market"]),
            ),
            (
                "dm_cfzl",
                None,
                ("dm", "mc"),
                _pairs(PENALTY_KIND["market"], PENALTY_KIND_LABELS["market"]),
            ),
            ("dm_jcjg", None, ("dm", "mc"), _pairs(RESULT["market"], RESULT_LABELS["market"])),
        ]
    if dept == "ecology":
        return [
            (
                "code_licence_state",
                None,
                ("code", "label"),
                _pairs(PERMIT_STATUS["ecology"], PERMIT_STATUS_LABELS["ecology"]),
            ),
            (
                "code_sanction_type",
                None,
                ("code", "label"),
                _pairs(PENALTY_KIND["ecology"], PENALTY_KIND_LABELS["ecology"]),
            ),
            (
                "code_check_outcome",
                None,
                ("code", "label"),
                _pairs(RESULT["ecology"], RESULT_LABELS["ecology"]),
            ),
        ]
    if dept == "emergency":
        rows = [
            ("LIC_STATUS", *p)
            for p in _pairs(PERMIT_STATUS["emergency"], PERMIT_STATUS_LABELS["emergency"])
        ]
        rows += [
            ("PUN_TYPE", *p)
            for p in _pairs(PENALTY_KIND["emergency"], PENALTY_KIND_LABELS["emergency"])
        ]
        rows += [
            ("CHK_RESULT", *p) for p in _pairs(RESULT["emergency"], RESULT_LABELS["emergency"])
        ]
        return [("t_code", None, ("code_kind", "code", "meaning"), rows)]
    if dept == "culture":
        # The culture system keeps a value per item yet stores the label in its data columns.
        rows = []
        for dict_type, labels in (
            ("permit_state", PERMIT_STATUS["culture"]),
            ("penalty_type", tuple(c for c in PENALTY_KIND["culture"] if c is not None)),
            ("check_result", RESULT["culture"]),
        ):
            rows += [(dict_type, str(i), label) for i, label in enumerate(labels, start=1)]
        return [("dictItem", None, ("dictType", "itemValue", "itemLabel"), rows)]
    if dept == "fire":
        rows = [
            ("APPROVAL_STATE", *p)
            for p in _pairs(PERMIT_STATUS["fire"], PERMIT_STATUS_LABELS["fire"])
        ]
        rows += [
            ("PENALTY_KIND", *p) for p in _pairs(PENALTY_KIND["fire"], PENALTY_KIND_LABELS["fire"])
        ]
        rows += [("RESULT", *p) for p in _pairs(RESULT["fire"], RESULT_LABELS["fire"])]
        return [("code_list", "fire", ("list_name", "code_num", "code_text"), rows)]
    if dept == "health":
        return [
            ("code_unit_type", None, ("id", "label"), [(t, label) for t, label, _ in UNIT_TYPES]),
            (
                "code_entity_kind",
                None,
                ("id", "label"),
                list(zip(KIND["health"], KIND_LABELS, strict=True)),
            ),
            (
                "code_licence_status",
                None,
                ("id", "label"),
                _pairs(PERMIT_STATUS["health"], PERMIT_STATUS_LABELS["health"]),
            ),
            (
                "code_penalty_type",
                None,
                ("id", "label"),
                _pairs(PENALTY_KIND["health"], PENALTY_KIND_LABELS["health"]),
            ),
            (
                "code_check_result",
                None,
                ("id", "label"),
                _pairs(RESULT["health"], RESULT_LABELS["health"]),
            ),
        ]
    if dept == "credit":
        return [("record_type", None, ("type_code", "type_name"), list(RECORD_TYPES))]
    raise ValueError(f"unknown department {dept!r}")


def _pairs(codes: tuple, labels: tuple) -> list[tuple]:
    return [(c, lb) for c, lb in zip(codes, labels, strict=True) if c is not None]
