"""What each department issues, punishes and checks: permits, violations, checklist items.

Which departments hold records about an entity follows its industry and kind, as in real
life: every entity is in the market register; ecology sees manufacturers, restaurants (fumes)
and construction; emergency management chemicals, construction and storage; culture internet
cafés, KTV and travel agencies; fire rescue public gathering places, schools and institutions;
the health commission hospitals, clinics, hotels and entertainment venues (their hygiene
licence) and employers with occupational hazards.
"""

from __future__ import annotations

from typing import NamedTuple

from demo.vocab import SECTIONS

# Kind indices (domain.vocabulary.EntityKind order).
ENT, IND, COOP, PUB, SOC, JUD = range(6)
ALL_KINDS = (ENT, IND, COOP, PUB, SOC, JUD)

# Probability that a department holds a permit of an entity, by section (SECTIONS order) ...
# fmt: off
# The health commission licenses medical institutions (hospitals, clinics, the clinics inside
# pharmacies), public places (hotels, KTV, bathhouses: their hygiene licence) and registers
# employers' occupational hazards.
HOLD_BY_SECTION: dict[str, tuple[float, ...]] = {
    #             C     E     F     G     H     L     P     Q     R
    "ecology":   (0.70, 0.40, 0.02, 0.15, 0.35, 0.01, 0.02, 0.40, 0.03),
    "emergency": (0.35, 0.60, 0.04, 0.30, 0.03, 0.00, 0.00, 0.02, 0.02),
    "culture":   (0.00, 0.00, 0.02, 0.00, 0.04, 0.03, 0.05, 0.00, 0.85),
    "fire":      (0.03, 0.01, 0.12, 0.05, 0.55, 0.03, 0.60, 0.70, 0.75),
    "health":    (0.12, 0.00, 0.005, 0.00, 0.25, 0.01, 0.10, 0.95, 0.50),
}
# ... times a factor by kind (small individual shops hold fewer permits, institutions more).
HOLD_BY_KIND: dict[str, tuple[float, ...]] = {
    #             ENT   IND   COOP  PUB   SOC   JUD
    "ecology":   (1.0,  0.5,  0.8,  0.6,  0.3,  0.0),
    "emergency": (1.0,  0.25, 0.5,  0.2,  0.0,  0.0),
    "culture":   (1.0,  1.0,  0.0,  0.8,  0.8,  0.0),
    "fire":      (1.0,  0.5,  0.3,  1.6,  0.8,  0.3),
    "health":    (1.0,  0.7,  0.0,  1.0,  1.0,  0.0),
}
# fmt: on
PENALTY_RATE = {
    "market": 0.06,
    "ecology": 0.08,
    "emergency": 0.08,
    "culture": 0.07,
    "fire": 0.07,
    "health": 0.06,
}
INSPECTION_RATE = {
    "market": 0.25,
    "ecology": 0.35,
    "emergency": 0.40,
    "culture": 0.35,
    "fire": 0.30,
    "health": 0.35,
}


class PermitType(NamedTuple):
    name: str
    years: int | None  # validity; None = no expiry
    number: str  # number format key (render.permit_number)


# Market regulation: the primary permit of every entity, chosen by section; the index into
# MARKET_PERMITS is part of the plan (the credit platform reads commitment-based ones).
MARKET_PERMITS = (
    PermitType("营业执照", None, "yyzz"),
    PermitType("食品经营许可证", 5, "jy"),
    PermitType("食品生产许可证", 5, "sc"),
    PermitType("工业产品生产许可证", 5, "xk"),
    PermitType("药品经营许可证", 5, "yp"),
    PermitType("特种设备使用登记证", None, "tz"),
    PermitType("广告发布登记", None, "gg"),
)
MARKET_PERMIT_WEIGHTS: dict[str, tuple[float, ...]] = {
    #     yyzz  jy    sc    xk    yp    tz    gg
    "C": (0.30, 0.00, 0.20, 0.35, 0.00, 0.15, 0.00),
    "E": (0.60, 0.00, 0.00, 0.00, 0.00, 0.40, 0.00),
    "F": (0.39, 0.55, 0.00, 0.00, 0.06, 0.00, 0.00),
    "G": (0.60, 0.00, 0.00, 0.00, 0.00, 0.40, 0.00),
    "H": (0.08, 0.92, 0.00, 0.00, 0.00, 0.00, 0.00),
    "L": (0.85, 0.00, 0.00, 0.00, 0.00, 0.05, 0.10),
    "P": (0.70, 0.30, 0.00, 0.00, 0.00, 0.00, 0.00),
    "Q": (0.85, 0.00, 0.00, 0.00, 0.00, 0.15, 0.00),
    "R": (0.70, 0.30, 0.00, 0.00, 0.00, 0.00, 0.00),
}
# Commitment-based approval (告知承诺) exists for these since 2019.
COMMITMENT_PERMITS = frozenset({1, 3, 6})
COMMITMENT_RATE = 0.25
BROKEN_COMMITMENT_RATE = 0.05

# The other inspecting departments' permits by section (weights), SECTIONS order.
DEPT_PERMITS: dict[str, dict[str, tuple[tuple[PermitType, float], ...]]] = {
    "ecology": {
        "C": (
            (PermitType("排污许可证", 5, "pw"), 6),
            (PermitType("固定污染源排污登记回执", 5, "dj"), 4),
        ),
        "E": ((PermitType("建设项目环境影响报告表批复", None, "hp"), 1),),
        "G": (
            (PermitType("排污许可证", 5, "pw"), 3),
            (PermitType("固定污染源排污登记回执", 5, "dj"), 7),
        ),
        "*": ((PermitType("固定污染源排污登记回执", 5, "dj"), 1),),
    },
    "emergency": {
        "C": (
            (PermitType("危险化学品安全使用许可证", 3, "whsy"), 3),
            (PermitType("安全生产许可证（危险化学品生产）", 3, "whsc"), 4),
            (PermitType("非药品类易制毒化学品生产备案证明", 3, "yzd"), 1),
        ),
        "E": ((PermitType("安全生产许可证（建筑施工）", 3, "jz"), 1),),
        "G": ((PermitType("危险化学品经营许可证（带储存设施）", 3, "whjy"), 1),),
        "F": (
            (PermitType("危险化学品经营许可证（不带储存设施）", 3, "whjy"), 5),
            (PermitType("烟花爆竹经营（零售）许可证", 1, "yh"), 5),
        ),
        "*": ((PermitType("危险化学品安全使用许可证", 3, "whsy"), 1),),
    },
    "culture": {
        "R": (
            (PermitType("网络文化经营许可证", 3, "wwh"), 5),
            (PermitType("娱乐经营许可证", 2, "yl"), 4),
            (PermitType("营业性演出许可证", 2, "yc"), 1),
        ),
        "H": ((PermitType("娱乐经营许可证", 2, "yl"), 1),),
        "L": ((PermitType("旅行社业务经营许可证", None, "lxs"), 1),),
        "F": ((PermitType("出版物经营许可证", 6, "cbw"), 1),),
        "*": ((PermitType("营业性演出许可证", 2, "yc"), 1),),
    },
    "fire": {
        "C": (
            (PermitType("建设工程消防验收意见书", None, "ys"), 2),
            (PermitType("建设工程消防验收备案凭证", None, "ba"), 1),
        ),
        "E": ((PermitType("建设工程消防验收备案凭证", None, "ba"), 1),),
        "G": (
            (PermitType("建设工程消防验收意见书", None, "ys"), 2),
            (PermitType("建设工程消防验收备案凭证", None, "ba"), 1),
        ),
        "*": ((PermitType("公众聚集场所投入使用、营业前消防安全检查合格证", None, "aj"), 1),),
    },
    "health": {
        "Q": (
            (PermitType("医疗机构执业许可证", 5, "yljg"), 8),
            (PermitType("放射诊疗许可证", None, "fszl"), 2),
        ),
        "F": ((PermitType("医疗机构执业许可证（中医坐堂医诊所）", 5, "yljg"), 1),),
        "C": ((PermitType("职业病危害项目申报回执", None, "zybwh"), 1),),
        "*": ((PermitType("公共场所卫生许可证", 4, "ggcs"), 1),),
    },
}


def dept_permits(dept: str, section: str) -> tuple[tuple[PermitType, float], ...]:
    table = DEPT_PERMITS[dept]
    return table.get(section, table["*"])


class Violation(NamedTuple):
    text: str
    sections: str  # where it happens ('' = anywhere)


# What entities are punished for, per department (the plan picks an index, so that the
# department's record and the credit platform's publicity name the same violation).
VIOLATIONS: dict[str, tuple[Violation, ...]] = {
    "market": (
        Violation("销售超过保质期的食品", "FHR"),
        Violation("未按规定明码标价", ""),
        Violation("发布虚假广告", ""),
        Violation("未取得食品经营许可从事食品经营活动", "FHPR"),
        Violation("销售不符合保障人体健康和人身、财产安全的国家标准的产品", "CF"),
        Violation("使用未经定期检验的特种设备", "CEGHL"),
        Violation("使用不合格计量器具", "CFH"),
        Violation("未按规定建立并遵守进货查验记录制度", "FH"),
        Violation("销售无中文标签的进口预包装食品", "F"),
        Violation("未经变更登记擅自改变经营场所", ""),
    ),
    "ecology": (
        Violation("超标排放大气污染物", "CG"),
        Violation("未安装油烟净化设施或者未正常使用", "H"),
        Violation("危险废物未按规定贮存", "CG"),
        Violation("建设项目未批先建", "CE"),
        Violation("未按规定开展自行监测", "C"),
        Violation("施工工地未采取扬尘污染防治措施", "E"),
        Violation("未依法取得排污许可证排放污染物", ""),
        Violation("夜间施工噪声污染", "E"),
    ),
    "emergency": (
        Violation("未按规定对从业人员进行安全生产教育和培训", ""),
        Violation("特种作业人员未持证上岗", "CEG"),
        Violation("未按规定制定生产安全事故应急救援预案", ""),
        Violation("未建立事故隐患排查治理制度", ""),
        Violation("危险化学品未储存在专用仓库内", "CFG"),
        Violation("未经许可经营危险化学品", "FG"),
        Violation("有限空间作业未执行审批制度", "C"),
        Violation("建筑施工现场安全防护措施不到位", "E"),
        Violation("违规储存、销售烟花爆竹", "F"),
    ),
    "culture": (
        Violation("接纳未成年人进入互联网上网服务营业场所", "R"),
        Violation("未核对、登记上网消费者有效身份证件", "R"),
        Violation("擅自从事营业性演出", "HPR"),
        Violation("娱乐场所曲库含有禁止内容", "HR"),
        Violation("未在显著位置悬挂许可证件", ""),
        Violation("超出核定范围经营", ""),
        Violation("旅行社未按规定投保旅行社责任险", "L"),
        Violation("销售非法出版物", "F"),
    ),
    "fire": (
        Violation("消防设施、器材未保持完好有效", ""),
        Violation("占用、堵塞、封闭疏散通道、安全出口", ""),
        Violation("未经消防安全检查擅自投入使用、营业", "FHPR"),
        Violation("埋压、圈占、遮挡消火栓", ""),
        Violation("电器产品的安装、使用不符合消防技术标准", ""),
        Violation("生产、储存、经营场所与居住场所设置在同一建筑物内", "CFH"),
        Violation("未组织防火检查、消防演练", ""),
        Violation("建设工程未经消防验收擅自投入使用", "CEG"),
    ),
    "health": (
        Violation("使用非卫生技术人员从事医疗卫生技术工作", "FQ"),
        Violation("未取得《医疗机构执业许可证》擅自执业", "FQ"),
        Violation("超出登记的诊疗科目范围开展诊疗活动", "Q"),
        Violation("医疗废物未按规定分类收集、暂时贮存", "Q"),
        Violation("未按规定对放射诊疗设备进行检测", "Q"),
        Violation("公共场所未依法取得卫生许可证擅自营业", "HPR"),
        Violation("公共场所从业人员未取得有效健康合格证明上岗", "HPR"),
        Violation("未按规定对公共场所空气、水质进行卫生检测", "HR"),
        Violation("用人单位未按规定组织劳动者进行职业健康检查", "C"),
        Violation("未按规定申报职业病危害项目", "C"),
        Violation("未建立传染病预检分诊及报告制度", ""),
    ),
}


def violation_choices(dept: str, section: str) -> tuple[int, ...]:
    """Indices of the department's violations that occur in a section."""
    return tuple(
        k for k, v in enumerate(VIOLATIONS[dept]) if not v.sections or section in v.sections
    )


# Market regulation revokes the business licence of entities that stopped operating.
REVOCATION_VIOLATION = "无正当理由超过六个月未开业或者开业后自行停业连续六个月以上"

# Penalty kinds (PenaltyKind order): weights for general and serious cases.
PENALTY_WEIGHTS = (0.30, 0.50, 0.07, 0.06, 0.02, 0.01, 0.04)
SERIOUS_PENALTY_WEIGHTS = (0.00, 0.45, 0.10, 0.25, 0.15, 0.05, 0.00)
SERIOUS_RATE = 0.08
FINES_YUAN = (500, 1000, 2000, 3000, 5000, 8000, 10000, 20000, 30000, 50000)
FINE_WEIGHTS = (8, 14, 14, 10, 14, 6, 12, 8, 6, 8)
SERIOUS_FINES_YUAN = (50000, 100000, 200000, 300000, 500000, 1000000)
SERIOUS_FINE_WEIGHTS = (30, 30, 20, 10, 7, 3)
# Inspection results (InspectionResult order): an operating entity / one that is not operating.
RESULT_WEIGHTS = (0.72, 0.16, 0.04, 0.05, 0.025, 0.005)
RESULT_WEIGHTS_INACTIVE = (0.15, 0.05, 0.05, 0.38, 0.35, 0.02)


class Item(NamedTuple):
    """A random-inspection item; kinds are EntityKind indices, industries sections ('' = all)."""

    code: str
    name: str
    basis: str
    kinds: tuple[int, ...]
    industries: str
    standard: str | None
    delegable: bool
    tags: tuple[str, ...]


def _item(
    code: str,
    name: str,
    basis: str,
    kinds: str,
    industries: str,
    standard: str | None,
    delegable: bool,
    tags: str,
) -> Item:
    """Compact form: kinds as letters E I C P S J (EntityKind order), tags space-separated."""
    return Item(
        code,
        name,
        basis,
        tuple("EICPSJ".index(k) for k in kinds),
        industries,
        standard,
        delegable,
        tuple(tags.split()),
    )


# fmt: off
CHECKLISTS: dict[str, tuple[Item, ...]] = {
    "market": (
        _item("SJ-CC-001", "营业执照（登记证照）公示情况",
              "《中华人民共和国市场主体登记管理条例》第三十六条",
              "EIC", "", "STD-LICENCE-DISPLAY", True, "licence"),
        _item("SJ-CC-002", "年度报告公示信息情况",
              "《企业信息公示暂行条例》第八条",
              "EIC", "", None, False, "licence"),
        _item("SJ-CC-003", "登记事项与实际经营情况一致性",
              "《中华人民共和国市场主体登记管理条例》第二十四条",
              "EIC", "", None, True, "licence"),
        _item("SJ-CC-004", "食品经营许可及从业人员健康管理",
              "《中华人民共和国食品安全法》第三十五条、第四十五条",
              "EIPS", "FHP", None, False, "food"),
        _item("SJ-CC-005", "食品进货查验记录",
              "《中华人民共和国食品安全法》第五十三条",
              "EICP", "FHPR", "STD-FOOD-SOURCING", False, "food"),
        _item("SJ-CC-006", "明码标价",
              "《中华人民共和国价格法》第十三条",
              "EIC", "FGHR", "STD-PRICE-DISPLAY", True, "price"),
        _item("SJ-CC-007", "特种设备使用登记与定期检验",
              "《中华人民共和国特种设备安全法》第三十三条、第四十条",
              "EICPS", "", "STD-SPECIAL-EQUIP", False, "special-equipment"),
        _item("SJ-CC-008", "工业产品生产许可证及产品质量",
              "《中华人民共和国工业产品生产许可证管理条例》第二条",
              "EC", "C", None, False, "quality"),
        _item("SJ-CC-009", "计量器具强制检定",
              "《中华人民共和国计量法》第九条",
              "EICP", "CFH", None, True, "quality"),
        _item("SJ-CC-010", "广告发布内容合法性",
              "《中华人民共和国广告法》第二十八条",
              "EI", "FLP", None, False, "quality"),
        _item("SJ-CC-011", "产品标识标注",
              "《中华人民共和国产品质量法》第二十七条",
              "EIC", "CF", None, True, "quality"),
        _item("SJ-CC-012", "药品经营质量管理规范执行情况",
              "《中华人民共和国药品管理法》第五十三条",
              "EI", "F", None, False, "food"),
    ),
    "ecology": (
        _item("HB-CC-01", "排污许可证（排污登记）持证排污情况",
              "《排污许可管理条例》第二条",
              "EICP", "CGHE", None, False, "environment"),
        _item("HB-CC-02", "排污许可证正本悬挂公示",
              "《排污许可管理条例》第二十三条",
              "EICP", "CGH", "STD-LICENCE-DISPLAY", True, "licence"),
        _item("HB-CC-03", "污染防治设施正常运行",
              "《中华人民共和国环境保护法》第四十二条",
              "EICP", "CG", None, False, "environment"),
        _item("HB-CC-04", "餐饮油烟净化设施安装运行",
              "《中华人民共和国大气污染防治法》第八十一条",
              "EIP", "H", None, True, "environment"),
        _item("HB-CC-05", "危险废物贮存与转移联单",
              "《中华人民共和国固体废物污染环境防治法》第七十七条、第八十二条",
              "ECP", "CG", None, False, "chemical"),
        _item("HB-CC-06", "建设项目环境影响评价及“三同时”",
              "《中华人民共和国环境影响评价法》第二十五条",
              "EP", "CE", None, False, "environment"),
        _item("HB-CC-07", "自行监测及台账记录",
              "《排污许可管理条例》第十九条",
              "ECP", "C", None, False, "environment"),
        _item("HB-CC-08", "施工扬尘污染防治",
              "《中华人民共和国大气污染防治法》第六十九条",
              "EI", "E", None, True, "construction"),
        _item("HB-CC-09", "突发环境事件应急预案备案",
              "《突发环境事件应急管理办法》第十三条",
              "EP", "CG", "STD-EMERGENCY-PLAN", True, "environment"),
        _item("HB-CC-10", "建筑施工噪声污染防治",
              "《中华人民共和国噪声污染防治法》第四十一条",
              "EI", "E", None, True, "construction"),
    ),
    "emergency": (
        _item("YJ-CC-001", "危险化学品安全生产（使用、经营）许可情况",
              "《危险化学品安全管理条例》第十四条、第三十三条",
              "EIC", "CFG", None, False, "chemical"),
        _item("YJ-CC-002", "建筑施工企业安全生产许可证",
              "《安全生产许可证条例》第二条",
              "E", "E", None, False, "construction"),
        _item("YJ-CC-003", "危险化学品储存场所管理",
              "《危险化学品安全管理条例》第二十四条",
              "EIC", "CFG", "STD-HAZCHEM-STORAGE", False, "chemical"),
        _item("YJ-CC-004", "安全出口、疏散通道",
              "《中华人民共和国安全生产法》第四十二条",
              "EICPS", "", "STD-FIRE-EXIT", True, "safety"),
        _item("YJ-CC-005", "生产安全事故应急预案及演练",
              "《生产安全事故应急条例》第五条、第八条",
              "ECP", "CEG", "STD-EMERGENCY-PLAN", True, "safety"),
        _item("YJ-CC-006", "从业人员安全生产教育和培训",
              "《中华人民共和国安全生产法》第二十八条",
              "EIC", "CEG", None, True, "safety"),
        _item("YJ-CC-007", "特种作业人员持证上岗",
              "《中华人民共和国安全生产法》第三十条",
              "EC", "CEG", None, False, "safety"),
        _item("YJ-CC-008", "事故隐患排查治理",
              "《中华人民共和国安全生产法》第四十一条",
              "ECP", "CEG", None, False, "safety"),
        _item("YJ-CC-009", "有限空间作业安全管理",
              "《工贸企业有限空间作业安全规定》第八条",
              "E", "C", None, False, "safety"),
        _item("YJ-CC-010", "涉及危险化学品的特种设备安全管理",
              "《中华人民共和国安全生产法》第三十七条",
              "E", "CG", "STD-SPECIAL-EQUIP", False, "special-equipment"),
        _item("YJ-CC-011", "建筑施工现场安全防护",
              "《建设工程安全生产管理条例》第二十八条",
              "EI", "E", None, False, "construction"),
        _item("YJ-CC-012", "烟花爆竹零售经营安全",
              "《烟花爆竹安全管理条例》第十八条",
              "EI", "F", None, True, "chemical"),
    ),
    "culture": (
        _item("WL-CC-01", "经营许可证件悬挂公示",
              "《互联网上网服务营业场所管理条例》第二十二条",
              "EIPS", "FLR", "STD-LICENCE-DISPLAY", True, "licence"),
        _item("WL-CC-02", "禁止接纳未成年人",
              "《互联网上网服务营业场所管理条例》第二十一条",
              "EI", "R", None, True, "entertainment"),
        _item("WL-CC-03", "上网消费者身份证件核对登记",
              "《互联网上网服务营业场所管理条例》第二十三条",
              "EI", "R", None, False, "entertainment"),
        _item("WL-CC-04", "娱乐场所曲目、游戏内容合法性",
              "《娱乐场所管理条例》第十三条",
              "EI", "HR", None, False, "entertainment"),
        _item("WL-CC-05", "安全出口、疏散通道",
              "《娱乐场所管理条例》第二十条",
              "EIPS", "HR", "STD-FIRE-EXIT", True, "fire"),
        _item("WL-CC-06", "消防设施、器材配置",
              "《娱乐场所管理条例》第二十条",
              "EIPS", "R", "STD-FIRE-EQUIPMENT", True, "fire"),
        _item("WL-CC-07", "营业性演出审批",
              "《营业性演出管理条例》第六条",
              "EIPS", "HPR", None, False, "entertainment"),
        _item("WL-CC-08", "旅行社业务经营许可及质量保证金",
              "《旅行社条例》第六条、第十三条",
              "E", "L", None, False, "licence"),
        _item("WL-CC-09", "出版物经营许可",
              "《出版管理条例》第三十五条",
              "EI", "F", None, True, "licence"),
        _item("WL-CC-10", "明码标价",
              "《中华人民共和国价格法》第十三条",
              "EI", "R", "STD-PRICE-DISPLAY", True, "price"),
        _item("WL-CC-11", "警示标志及未成年人禁入标志",
              "《娱乐场所管理条例》第三十条",
              "EI", "R", None, True, "entertainment"),
    ),
    "fire": (
        _item("XF-CC-01", "公众聚集场所投入使用、营业前消防安全检查",
              "《中华人民共和国消防法》第十五条",
              "EIPS", "FHPR", None, False, "fire"),
        _item("XF-CC-02", "消防安全检查合格证明公示",
              "《消防监督检查规定》第十条",
              "EIPS", "FHPR", "STD-LICENCE-DISPLAY", True, "licence"),
        _item("XF-CC-03", "疏散通道、安全出口",
              "《中华人民共和国消防法》第二十八条",
              "EICPSJ", "", "STD-FIRE-EXIT", True, "fire"),
        _item("XF-CC-04", "消防设施、器材完好有效",
              "《中华人民共和国消防法》第十六条第一款第二项",
              "EICPSJ", "", "STD-FIRE-EQUIPMENT", False, "fire"),
        _item("XF-CC-05", "灭火和应急疏散预案及演练",
              "《中华人民共和国消防法》第十六条第一款第一项",
              "EPS", "CFGHPR", "STD-EMERGENCY-PLAN", True, "fire"),
        _item("XF-CC-06", "消防控制室值班",
              "《中华人民共和国消防法》第十七条",
              "EP", "CFHR", None, False, "fire"),
        _item("XF-CC-07", "员工消防安全培训",
              "《机关、团体、企业、事业单位消防安全管理规定》第三十六条",
              "EIPS", "", None, True, "fire"),
        _item("XF-CC-08", "易燃易爆危险品管理",
              "《中华人民共和国消防法》第二十三条",
              "EIC", "CFG", "STD-HAZCHEM-STORAGE", False, "chemical"),
        _item("XF-CC-09", "电气线路、燃气管道敷设",
              "《中华人民共和国消防法》第二十七条",
              "EIPS", "FHR", None, False, "fire"),
        _item("XF-CC-10", "防火检查巡查记录",
              "《中华人民共和国消防法》第十六条第一款第五项",
              "EPS", "", None, True, "fire"),
        _item("XF-CC-11", "建设工程消防验收（备案）",
              "《中华人民共和国消防法》第十三条",
              "EP", "CEG", None, False, "fire"),
        _item("XF-CC-12", "“三合一”场所违规住人",
              "《中华人民共和国消防法》第十九条",
              "EI", "CFH", None, True, "fire"),
    ),
    "health": (
        _item("WJ-CC-001", "医疗机构执业许可证悬挂公示",
              "《医疗机构管理条例》第二十三条",
              "EIPS", "FQ", "STD-LICENCE-DISPLAY", True, "licence"),
        _item("WJ-CC-002", "卫生技术人员执业资格",
              "《医疗机构管理条例》第二十七条",
              "EIPS", "FQ", None, False, "medical"),
        _item("WJ-CC-003", "诊疗活动与登记的诊疗科目一致性",
              "《医疗机构管理条例》第二十六条",
              "EIPS", "Q", None, False, "medical"),
        _item("WJ-CC-004", "医疗废物分类收集与暂时贮存",
              "《医疗废物管理条例》第十六条、第十七条",
              "EIPS", "Q", None, False, "medical"),
        _item("WJ-CC-005", "医疗服务价格公示",
              "《中华人民共和国价格法》第十三条",
              "EIPS", "Q", "STD-PRICE-DISPLAY", True, "price"),
        _item("WJ-CC-006", "放射诊疗许可及放射防护",
              "《放射诊疗管理规定》第四条、第十七条",
              "EPS", "Q", None, False, "radiation"),
        _item("WJ-CC-007", "公共场所卫生许可证悬挂公示",
              "《公共场所卫生管理条例实施细则》第二十三条",
              "EIPS", "HPR", "STD-LICENCE-DISPLAY", True, "licence"),
        _item("WJ-CC-008", "从业人员健康合格证明",
              "《公共场所卫生管理条例》第七条",
              "EIPS", "HPR", None, True, "public-health"),
        _item("WJ-CC-009", "公共场所空气、水质卫生检测",
              "《公共场所卫生管理条例实施细则》第十九条",
              "EIPS", "HR", None, False, "public-health"),
        _item("WJ-CC-010", "职业病危害项目申报",
              "《中华人民共和国职业病防治法》第十六条",
              "EIC", "C", None, False, "occupational"),
        _item("WJ-CC-011", "劳动者职业健康检查",
              "《中华人民共和国职业病防治法》第三十五条",
              "EIC", "C", None, False, "occupational"),
        _item("WJ-CC-012", "传染病预检分诊及疫情报告",
              "《中华人民共和国传染病防治法》第三十条、第五十二条",
              "EIPS", "Q", None, True, "medical"),
        _item("WJ-CC-013", "突发公共卫生事件应急预案",
              "《突发公共卫生事件应急条例》第十一条",
              "EPS", "Q", "STD-EMERGENCY-PLAN", True, "medical"),
    ),
}
# fmt: on


def dept_tags(dept: str) -> tuple[str, ...]:
    """The business tags a department's inspectors carry: those its items require."""
    seen: dict[str, None] = {}
    for item in CHECKLISTS[dept]:
        for t in item.tags:
            seen.setdefault(t, None)
    return tuple(seen)


# Inspector pools: the reference city's 26,520 inspectors, shared out by department.
REFERENCE_INSPECTORS = 26_520
INSPECTOR_SHARE = {
    "market": 0.45,
    "ecology": 0.14,
    "emergency": 0.14,
    "culture": 0.12,
    "fire": 0.15,
    "health": 0.06,
}
MIN_INSPECTORS_PER_DISTRICT = 4
OFF_DUTY_RATE = 0.035
CONFLICT_RATE = 0.01
CONFLICT_REASONS = (
    "近亲属为该单位法定代表人",
    "曾在该单位任职",
    "与该单位存在经济利益关系",
    "配偶在该单位工作",
    "曾参与该单位行政处罚案件办理",
)
INSPECTOR_ID_PREFIX = {
    "market": "SJ",
    "ecology": "HB",
    "emergency": "YJ",
    "culture": "WL",
    "fire": "XF",
    "health": "WJ",
}
CERT_DIGIT = {
    "market": "1",
    "ecology": "2",
    "emergency": "3",
    "culture": "4",
    "fire": "5",
    "health": "6",
}

assert all(len(v) == len(SECTIONS) for v in HOLD_BY_SECTION.values())
