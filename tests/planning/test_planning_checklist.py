"""Checklist merge: one form per visit, each result routed to every requiring department."""

import pytest

from domain.vocabulary import EntityKind
from planning.checklist import ChecklistItem, merge_checklist

ENT, IND = EntityKind.ENTERPRISE, EntityKind.INDIVIDUAL_BUSINESS
CATERING = "H"

LICENCE_MR = ChecklistItem(
    "market_regulation",
    "SC-01",
    "营业执照公示 licence display",
    "《市场主体登记管理条例》第三十六条",
    standard_code="STD-LICENCE",
    delegable=True,
    tags=frozenset({"registration"}),
)
LICENCE_CT = ChecklistItem(
    "culture_tourism",
    "WL-07",
    "许可证悬挂 permit displayed",
    "《娱乐场所管理条例》第二十二条",
    standard_code="STD-LICENCE",
    delegable=True,
    tags=frozenset({"culture"}),
)
FIRE_EXIT_FR = ChecklistItem(
    "fire_rescue",
    "XF-03",
    "疏散通道 fire exits clear",
    "《消防法》第二十八条",
    standard_code="STD-FIRE-EXIT",
    delegable=False,
    tags=frozenset({"fire"}),
)
FIRE_EXIT_EM = ChecklistItem(
    "emergency_management",
    "AQ-11",
    "安全出口 safety exits",
    "《安全生产法》第四十二条",
    standard_code="STD-FIRE-EXIT",
    delegable=True,
    tags=frozenset({"work_safety"}),
)
FOOD_SOURCING = ChecklistItem(
    "market_regulation",
    "SP-02",
    "进货查验记录 food sourcing records",
    "《食品安全法》第五十三条",
    industries=frozenset({CATERING}),
    tags=frozenset({"food"}),
)
FACTORY_ONLY = ChecklistItem(
    "ecology_environment",
    "HB-05",
    "排污许可 discharge permit",
    "《排污许可管理条例》第二条",
    industries=frozenset({"C"}),
)
INDIVIDUAL_ONLY = ChecklistItem(
    "market_regulation",
    "GT-01",
    "个体户年报 annual report",
    "《促进个体工商户发展条例》",
    kinds=frozenset({IND}),
)
ALL_ITEMS = [
    LICENCE_MR,
    LICENCE_CT,
    FIRE_EXIT_FR,
    FIRE_EXIT_EM,
    FOOD_SOURCING,
    FACTORY_ONLY,
    INDIVIDUAL_ONLY,
]


def test_merge_shares_standard_code_items():
    form = merge_checklist(ENT, CATERING, ALL_ITEMS)
    licence = form.entry("STD-LICENCE")
    assert licence.departments == ("culture_tourism", "market_regulation")
    assert licence.shared
    assert form.raw_count == 5 and form.merged_count == 3


def test_merge_keeps_each_departments_item_code_and_legal_basis():
    form = merge_checklist(ENT, CATERING, ALL_ITEMS)
    by_dept = {r.department: r for r in form.entry("STD-FIRE-EXIT").requirements}
    assert by_dept["fire_rescue"].item_code == "XF-03"
    assert by_dept["fire_rescue"].legal_basis == "《消防法》第二十八条"
    assert by_dept["emergency_management"].item_code == "AQ-11"
    assert by_dept["emergency_management"].legal_basis == "《安全生产法》第四十二条"


def test_merge_only_items_for_entity_kind_and_industry():
    keys = {e.key for e in merge_checklist(ENT, CATERING, ALL_ITEMS).entries}
    assert "market_regulation:SP-02" in keys  # catering item, catering entity
    assert "ecology_environment:HB-05" not in keys  # manufacturing only
    assert "market_regulation:GT-01" not in keys  # individual businesses only
    individual = {e.key for e in merge_checklist(IND, "F", ALL_ITEMS).entries}
    assert "market_regulation:GT-01" in individual
    assert "market_regulation:SP-02" not in individual


def test_merged_entry_delegable_only_if_every_requirement_is():
    form = merge_checklist(ENT, CATERING, ALL_ITEMS)
    assert form.entry("STD-LICENCE").delegable
    assert not form.entry("STD-FIRE-EXIT").delegable  # fire rescue must check it itself
    assert form.non_delegable_departments == ("fire_rescue", "market_regulation")


def test_merged_entry_tags_are_the_union():
    form = merge_checklist(ENT, CATERING, ALL_ITEMS)
    assert form.entry("STD-FIRE-EXIT").tags == {"fire", "work_safety"}
    assert form.tags_for("market_regulation") == {"registration", "food"}


def test_merge_order_is_fixed_whatever_the_input_order():
    forward = merge_checklist(ENT, CATERING, ALL_ITEMS)
    backward = merge_checklist(ENT, CATERING, list(reversed(ALL_ITEMS)))
    assert forward == backward
    assert [e.key for e in forward.entries] == [
        "STD-FIRE-EXIT",
        "STD-LICENCE",
        "market_regulation:SP-02",
    ]


def test_merge_uses_standard_name_when_given():
    form = merge_checklist(
        ENT, CATERING, ALL_ITEMS, standard_names={"STD-LICENCE": "证照公示 licences displayed"}
    )
    assert form.entry("STD-LICENCE").name == "证照公示 licences displayed"


def test_merge_refuses_two_items_under_one_code():
    clash = ChecklistItem("market_regulation", "SC-01", "something else", "another basis")
    with pytest.raises(ValueError, match="two different items"):
        merge_checklist(ENT, CATERING, [LICENCE_MR, clash])
    assert merge_checklist(ENT, CATERING, [LICENCE_MR, LICENCE_MR]).raw_count == 1
