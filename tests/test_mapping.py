"""Each mapping feature, checked against the department's own rows in its own database."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from adapters.errors import MappingError
from adapters.mapping import load_mapping, parse_mapping
from adapters.settings import load_departments
from tests.conftest import ADMIN_URL, TEST_DEPARTMENTS, Hub
from tests.test_partial import own_hub


async def _one(dsn: str, sql: str, *args):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchrow(sql, *args)
    finally:
        await conn.close()


async def test_pinyin_columns_of_the_register(hub: Hub, dept_dsn, seeded) -> None:
    row = await _one(
        dept_dsn("market"),
        "SELECT qymc, xzqh, hyml, zs, clrq, ztlx FROM scztdj WHERE tyshxydm = $1",
        seeded.sample_uscc,
    )
    body = await hub.gql(
        "query($u:String!){ entity(uscc:$u){ name district { code } industry { code } address "
        "registeredOn kind } }",
        {"u": seeded.sample_uscc},
    )
    e = body["data"]["entity"]
    assert (e["name"], e["district"]["code"], e["industry"]["code"], e["address"]) == (
        row["qymc"],
        row["xzqh"],
        row["hyml"],
        row["zs"],
    )
    assert e["registeredOn"] == row["clrq"].isoformat()
    kinds = {
        "11": "ENTERPRISE",
        "12": "INDIVIDUAL_BUSINESS",
        "13": "FARMERS_COOPERATIVE",
        "21": "PUBLIC_INSTITUTION",
        "31": "SOCIAL_ORGANIZATION",
        "41": "JUDICIAL_SERVICE",
    }
    assert e["kind"] == kinds[row["ztlx"]]


async def test_money_in_fen_and_yyyymmdd_dates(hub: Hub, dept_dsn) -> None:
    # A fine with odd fen, so that a yuan/fen mix-up or a float would show.
    row = await _one(
        dept_dsn("ecology"),
        "UPDATE env_sanction SET fine_fen = 1234567 WHERE case_id = "
        "(SELECT min(case_id) FROM env_sanction) "
        "RETURNING credit_code, decision_no, fine_fen, decided_ymd",
    )
    assert row is not None, "the seed has ecology penalties"
    body = await hub.gql(
        'query($u:String!){ entity(uscc:$u){ penalties(department: "ecology") '
        "{ decisionNumber fine decidedOn } } }",
        {"u": row["credit_code"]},
    )
    (p,) = [
        p for p in body["data"]["entity"]["penalties"] if p["decisionNumber"] == row["decision_no"]
    ]
    assert p["fine"] == f"{row['fine_fen'] // 100}.{row['fine_fen'] % 100:02d}"
    ymd = row["decided_ymd"]
    assert p["decidedOn"] == date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:])).isoformat()


async def test_money_in_yuan_is_exact(hub: Hub, dept_dsn) -> None:
    row = await _one(
        dept_dsn("market"),
        "SELECT tyshxydm, cfjdswh, fkje FROM xzcf WHERE fkje IS NOT NULL ORDER BY cfid LIMIT 1",
    )
    body = await hub.gql(
        'query($u:String!){ entity(uscc:$u){ penalties(department: "market") '
        "{ decisionNumber fine } } }",
        {"u": row["tyshxydm"]},
    )
    (p,) = [p for p in body["data"]["entity"]["penalties"] if p["decisionNumber"] == row["cfjdswh"]]
    assert p["fine"] == f"{row['fkje']:.2f}"


async def test_legacy_registration_number_crosswalk(hub: Hub, dept_dsn) -> None:
    row = await _one(
        dept_dsn("emergency"),
        "SELECT m.uscc, count(*) AS n FROM punishment p JOIN reg_no_map m USING (reg_no) "
        "GROUP BY m.uscc ORDER BY n DESC, m.uscc LIMIT 1",
    )
    body = await hub.gql(
        'query($u:String!){ entity(uscc:$u){ penalties(department: "emergency") { id } } }',
        {"u": row["uscc"]},
    )
    assert len(body["data"]["entity"]["penalties"]) == row["n"]


@pytest.mark.parametrize(
    ("department", "sql"),
    [
        ("market", "SELECT DISTINCT xkzt FROM xzxk"),
        ("ecology", "SELECT DISTINCT state FROM discharge_licence"),
        ("emergency", "SELECT DISTINCT status FROM safety_licence"),
        ("culture", 'SELECT DISTINCT "permitState" FROM "businessPermit"'),
        ("fire", "SELECT DISTINCT state_num::text FROM fire.safety_approval"),
    ],
)
async def test_every_permit_status_code_maps_to_the_vocabulary(department, sql, dept_dsn) -> None:
    conn = await asyncpg.connect(dept_dsn(department))
    try:
        used = {r[0].strip() for r in await conn.fetch(sql)}
    finally:
        await conn.close()
    mapping = load_mapping(department)
    assert used and used <= set(mapping.codes["permit_status"])


async def test_code_tables_translate_to_one_vocabulary(hub: Hub, seeded) -> None:
    body = await hub.gql(
        "query($u:String!){ entity(uscc:$u){ permits { status department { code } } "
        "penalties { kind } inspections { result } } }",
        {"u": seeded.sample_uscc},
    )
    e = body["data"]["entity"]
    assert {p["status"] for p in e["permits"]} <= {
        "VALID",
        "SUSPENDED",
        "EXPIRED",
        "REVOKED",
        "CANCELLED",
    }
    assert all(p["status"] for p in e["permits"]), "every source code is mapped"
    assert all(p["kind"] for p in e["penalties"]) and all(i["result"] for i in e["inspections"])


def test_mapping_rejects_unknown_fields_and_unsafe_identifiers() -> None:
    base = {"code": "x", "name": "X", "codes": {}}
    with pytest.raises(MappingError, match="not a field"):
        parse_mapping(
            {**base, "records": {"permit": {"table": "t", "key": "k", "fields": {"colour": "c"}}}}
        )
    with pytest.raises(MappingError, match="identifier"):
        parse_mapping(
            {
                **base,
                "records": {
                    "permit": {"table": "t; DROP TABLE x", "key": "k", "fields": {"id": "i"}}
                },
            }
        )
    with pytest.raises(MappingError, match="needs a code map"):
        parse_mapping(
            {**base, "records": {"permit": {"table": "t", "key": "k", "fields": {"status": "s"}}}}
        )


HOUSING_DDL = """
CREATE TABLE jz_xkz (zsbh text PRIMARY KEY, tyshxydm char(18) NOT NULL, gcmc text NOT NULL,
                     fzrq date NOT NULL, zt smallint NOT NULL);
"""

HOUSING_MAPPING = """
code = "housing"
name = "住房和城乡建设局"
name_en = "Housing and construction"
[codes.permit_status]
"1" = "VALID"
"9" = "REVOKED"
[records.permit]
table = "jz_xkz"
key = "tyshxydm"
[records.permit.fields]
uscc = "tyshxydm"
id = "zsbh"
number = "zsbh"
name = "gcmc"
valid_from = { column = "fzrq", type = "date" }
status = { column = "zt", codes = "permit_status" }
"""


async def test_sixth_department_needs_only_a_mapping_and_a_line(
    tmp_path: Path, settings, seeded, prefix
) -> None:
    db = f"{prefix}housing"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    conn = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{db}")
    await conn.execute(HOUSING_DDL)
    await conn.execute(
        "INSERT INTO jz_xkz VALUES ('JZ-001', $1, '青岛某小区二期', '2024-03-01', 1)",
        seeded.sample_uscc,
    )
    await conn.close()
    (tmp_path / "housing.toml").write_text(HOUSING_MAPPING)
    config = TEST_DEPARTMENTS.read_text()
    config += f'housing = {{ mapping = "{tmp_path / "housing.toml"}", database = "housing" }}\n'
    (tmp_path / "departments.toml").write_text(config)
    departments = load_departments(tmp_path / "departments.toml", ADMIN_URL, prefix)
    async with own_hub(dataclasses.replace(settings, departments=departments)) as hub:
        body = await hub.gql(
            'query($u:String!){ entity(uscc:$u){ permits(department: "housing") '
            "{ number name status department { code nameEn } } } }",
            {"u": seeded.sample_uscc},
        )
    assert body["data"]["entity"]["permits"] == [
        {
            "number": "JZ-001",
            "name": "青岛某小区二期",
            "status": "VALID",
            "department": {"code": "housing", "nameEn": "Housing and construction"},
        }
    ]
