"""The demo seeder against a real PostgreSQL and MariaDB: valid keys, departments that agree,
determinism."""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from demo import mariadb
from demo.codes import DEPARTMENTS, INSPECTING, ON_MARIADB
from demo.seed import SeedReport, database_name, drop, seed
from domain.uscc import parse
from tests.conftest import MYSQL_URL, mariadb_rows

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENTITIES = 300
MAPPINGS = Path(__file__).parent.parent / "adapters" / "mappings"

# md5 of every table of a database, rows in a canonical order (their text form).
_TABLE_DIGESTS = """
SELECT format('SELECT %L, md5(coalesce(string_agg(t::text, E''\\n'' ORDER BY t::text), ''''))
                 FROM %I.%I t', table_schema || '.' || table_name, table_schema, table_name)
  FROM information_schema.tables
 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'
 ORDER BY 1
"""


@dataclass
class City:
    prefix: str
    first: SeedReport
    second: SeedReport
    first_digests: dict[str, dict[str, str]]
    second_digests: dict[str, dict[str, str]]

    async def fetch(self, dept: str, sql: str, *args: object) -> list[Any]:
        """Rows of `sql` in the department's database (MariaDB's take %s placeholders)."""
        if dept in ON_MARIADB:
            return await mariadb_rows(database_name(self.prefix, dept), sql, *args)
        conn = await asyncpg.connect(ADMIN_URL, database=database_name(self.prefix, dept))
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


async def _digests(prefix: str) -> dict[str, dict[str, str]]:
    out = {}
    for dept in ON_MARIADB:  # CHECKSUM TABLE: a checksum of the table's rows
        database = database_name(prefix, dept)
        tables = await mariadb_rows(
            database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
        )
        out[dept] = {
            t: str((await mariadb_rows(database, f"CHECKSUM TABLE `{t}` EXTENDED"))[0][1])
            for (t,) in tables
        }
    for dept in DEPARTMENTS:
        if dept in ON_MARIADB:
            continue
        conn = await asyncpg.connect(ADMIN_URL, database=database_name(prefix, dept))
        try:
            out[dept] = {
                table: digest
                for (query,) in await conn.fetch(_TABLE_DIGESTS)
                for table, digest in [await conn.fetchrow(query)]
            }
        finally:
            await conn.close()
    return out


@pytest.fixture(scope="module")
async def city() -> AsyncIterator[City]:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    try:
        first = await seed(ADMIN_URL, prefix, ENTITIES, seed=11, mysql_url=MYSQL_URL)
        first_digests = await _digests(prefix)
        # reset: drops, fills again
        second = await seed(ADMIN_URL, prefix, ENTITIES, seed=11, mysql_url=MYSQL_URL)
        yield City(prefix, first, second, first_digests, await _digests(prefix))
    finally:
        await drop(ADMIN_URL, prefix, MYSQL_URL)


async def test_seven_databases_with_rows(city: City) -> None:
    rows = await city.fetch(
        "market", "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", city.prefix
    )
    on_postgres = [d for d in DEPARTMENTS if d not in ON_MARIADB]
    assert {r["datname"] for r in rows} == {f"{city.prefix}{d}" for d in on_postgres}
    assert await mariadb.list_databases(MYSQL_URL, city.prefix) == [f"{city.prefix}health"]
    assert len(DEPARTMENTS) == 7
    for dept in DEPARTMENTS:
        assert city.first.counts[dept] > 0, dept
    assert city.first.rows["market"]["scztdj"] == ENTITIES
    (count,) = await city.fetch("market", "SELECT count(*) FROM scztdj")
    assert count[0] == ENTITIES


async def test_every_uscc_is_valid_and_registered(city: City) -> None:
    register = {r[0] for r in await city.fetch("market", "SELECT tyshxydm FROM scztdj")}
    assert len(register) == ENTITIES
    for code in register:
        assert not parse(code).legacy
    keyed = {
        "ecology": "SELECT credit_code FROM discharge_licence"
        " UNION SELECT credit_code FROM env_sanction",
        "emergency": "SELECT uscc FROM reg_no_map",
        "culture": 'SELECT "creditCode" FROM "businessPermit"'
        ' UNION SELECT "creditCode" FROM "adminPenalty"',
        "fire": "SELECT org_uscc FROM fire.safety_approval"
        " UNION SELECT org_uscc FROM fire.inspection",
        "credit": "SELECT uscc FROM credit_rating UNION SELECT uscc FROM credit_record",
        "health": "SELECT uscc FROM supervised_unit",
    }
    for dept, sql in keyed.items():
        codes = {r[0] for r in await city.fetch(dept, sql)}
        assert codes and codes <= register, dept


async def test_same_seed_same_rows(city: City) -> None:
    assert city.first.sample_uscc == city.second.sample_uscc
    assert city.first.rows == city.second.rows
    # every table of every department, including culture's uuids and the credit record ids
    assert city.first_digests == city.second_digests
    assert "public.scztdj" in city.first_digests["market"]
    assert "public.credit_record" in city.first_digests["credit"]


async def test_emergency_keys_resolve_through_the_crosswalk(city: City) -> None:
    unmapped = await city.fetch(
        "emergency",
        """
        SELECT reg_no FROM safety_licence UNION SELECT reg_no FROM punishment
        UNION SELECT reg_no FROM safety_check UNION SELECT reg_no FROM staff_avoidance
        EXCEPT SELECT reg_no FROM reg_no_map""",
    )
    assert unmapped == []
    map_rows = await city.fetch("emergency", "SELECT reg_no FROM reg_no_map")
    assert all(len(r[0]) == 15 and r[0].isdigit() for r in map_rows)
    without_records = await city.fetch(
        "emergency",
        """
        SELECT reg_no FROM reg_no_map EXCEPT
        (SELECT reg_no FROM safety_licence UNION SELECT reg_no FROM punishment
         UNION SELECT reg_no FROM safety_check)""",
    )
    assert 0 < len(without_records) < len(map_rows) / 2  # a few stale crosswalk entries


async def test_ecology_dates_are_yyyymmdd(city: City) -> None:
    rows = await city.fetch(
        "ecology",
        """
        SELECT issue_ymd FROM discharge_licence UNION ALL
        SELECT expire_ymd FROM discharge_licence WHERE expire_ymd IS NOT NULL UNION ALL
        SELECT decided_ymd FROM env_sanction UNION ALL SELECT check_ymd FROM site_check""",
    )
    assert rows
    for (ymd,) in rows:
        assert datetime.strptime(ymd, "%Y%m%d").strftime("%Y%m%d") == ymd


async def test_sample_entity_is_known_everywhere(city: City) -> None:
    u = city.first.sample_uscc
    (entity,) = await city.fetch("market", "SELECT djzt FROM scztdj WHERE tyshxydm = $1", u)
    assert entity["djzt"] == "1"  # active
    permits = {
        "market": ("SELECT count(*) FROM xzxk WHERE tyshxydm = $1", u),
        "ecology": ("SELECT count(*) FROM discharge_licence WHERE credit_code = $1", u),
        "emergency": (
            "SELECT count(*) FROM safety_licence s JOIN reg_no_map m USING (reg_no)"
            " WHERE m.uscc = $1",
            u,
        ),
        "culture": ('SELECT count(*) FROM "businessPermit" WHERE "creditCode" = $1', u),
        "fire": ("SELECT count(*) FROM fire.safety_approval WHERE org_uscc = $1", u),
        "health": (
            "SELECT count(*) FROM practice_licence JOIN supervised_unit USING (unit_id)"
            " WHERE uscc = %s",
            u,
        ),
    }
    for dept, (sql, arg) in permits.items():
        (row,) = await city.fetch(dept, sql, arg)
        assert row[0] >= 1, dept
    penalties = {
        "market": "SELECT count(*) FROM xzcf WHERE tyshxydm = $1",
        "ecology": "SELECT count(*) FROM env_sanction WHERE credit_code = $1",
        "emergency": "SELECT count(*) FROM punishment p JOIN reg_no_map m USING (reg_no)"
        " WHERE m.uscc = $1",
        "culture": 'SELECT count(*) FROM "adminPenalty" WHERE "creditCode" = $1',
        "fire": "SELECT count(*) FROM fire.penalty_case WHERE org_uscc = $1",
        "health": "SELECT count(*) FROM administrative_penalty JOIN supervised_unit"
        " USING (unit_id) WHERE uscc = %s",
    }
    punished = [d for d, sql in penalties.items() if (await city.fetch(d, sql, u))[0][0]]
    assert len(punished) >= 2
    records = await city.fetch(
        "credit", "SELECT type_code, source_dept FROM credit_record WHERE uscc = $1", u
    )
    assert {"CF01", "CN01"} <= {r["type_code"] for r in records}
    assert set(punished) <= {r["source_dept"] for r in records if r["type_code"] == "CF01"}


async def test_penalties_are_published_by_the_credit_platform(city: City) -> None:
    published = await city.fetch(
        "credit",
        "SELECT source_dept, count(*) FROM credit_record WHERE type_code = 'CF01' GROUP BY 1",
    )
    assert {r[0]: r[1] for r in published} == {
        dept: city.first.rows[dept][table]
        for dept, table in (
            ("market", "xzcf"),
            ("ecology", "env_sanction"),
            ("emergency", "punishment"),
            ("culture", "adminPenalty"),
            ("fire", "fire.penalty_case"),
            ("health", "administrative_penalty"),
        )
        if city.first.rows[dept][table]
    }
    repairs = await city.fetch(
        "credit",
        """
        SELECT o.type_code, o.withdrawn_on = r.decided_on AS consistent
          FROM credit_record r JOIN credit_record o ON o.record_id = r.ref_record_id
         WHERE r.type_code = 'XF01'""",
    )
    assert all(r["type_code"] == "CF01" and r["consistent"] for r in repairs)
    grades = await city.fetch(
        "credit", "SELECT grade, min(score), max(score) FROM credit_rating GROUP BY 1"
    )
    bands = {"A": (90, 100), "B": (75, 89), "C": (60, 74), "D": (0, 59)}
    for grade, lo, hi in grades:
        assert bands[grade][0] <= lo <= hi <= bands[grade][1]


async def test_code_values_are_those_the_mappings_translate(city: City) -> None:
    """Every coded column holds only values the adapters' mapping file knows (CODES.md)."""
    checked = 0
    for dept in (*INSPECTING, "credit"):
        if dept in ON_MARIADB:
            continue  # test_health_codes_json_and_money below
        mapping = tomllib.loads((MAPPINGS / f"{dept}.toml").read_text(encoding="utf-8"))
        for record in mapping["records"].values():
            for spec in record["fields"].values():
                if not isinstance(spec, dict) or "codes" not in spec:
                    continue
                known = set(mapping["codes"][spec["codes"]])
                table, column = _ident(record["table"]), _ident(spec["column"])
                if spec.get("type") in ("list", "csv"):
                    values = (
                        f"unnest({column})"
                        if spec["type"] == "list"
                        else (f"regexp_split_to_table({column}, ',')")
                    )
                else:
                    values = column
                rows = await city.fetch(dept, f"SELECT DISTINCT ({values})::text FROM {table}")
                used = {r[0] for r in rows if r[0] is not None}
                assert used <= known, (dept, record["table"], spec["column"], used - known)
                checked += bool(used)
    assert checked >= 20


def _ident(name: str) -> str:
    """SQL's rule for the mapping files' identifiers: mixed case is quoted, the rest folds."""
    parts = []
    for part in name.split("."):
        assert part.replace("_", "").isalnum(), part
        parts.append(
            '"' + (part if part not in (part.lower(), part.upper()) else part.lower()) + '"'
        )
    return ".".join(parts)


async def test_health_keys_resolve_through_its_units(city: City) -> None:
    """The MariaDB department: every row's unit id is a supervised unit with a valid USCC."""
    unresolved = await city.fetch(
        "health",
        """
        SELECT unit_id FROM practice_licence UNION SELECT unit_id FROM administrative_penalty
        UNION SELECT unit_id FROM supervision_check UNION SELECT unit_id FROM inspector_recusal
        EXCEPT SELECT unit_id FROM supervised_unit""",
    )
    assert unresolved == []
    units = await city.fetch("health", "SELECT uscc, unit_type_id FROM supervised_unit")
    assert units and all(not parse(u).legacy for u, _ in units)
    assert {t for _, t in units} <= {1, 2, 3, 4}


async def test_health_codes_json_and_money(city: City) -> None:
    """Integer codes the mapping translates, JSON arrays, DECIMAL yuan and DATETIME."""
    mapping = tomllib.loads((MAPPINGS / "health.toml").read_text(encoding="utf-8"))
    checked = 0
    for record in mapping["records"].values():
        for spec in record["fields"].values():
            if not isinstance(spec, dict) or "codes" not in spec:
                continue
            known = set(mapping["codes"][spec["codes"]])
            table, column = f"`{record['table']}`", f"`{spec['column']}`"
            if spec.get("type") == "json":
                sql = (
                    f"SELECT DISTINCT j.v FROM {table}, JSON_TABLE({column}, '$[*]'"
                    " COLUMNS (v VARCHAR(40) PATH '$')) AS j"
                )
            else:
                sql = f"SELECT DISTINCT {column} FROM {table}"
            used = {str(v) for (v,) in await city.fetch("health", sql)}
            assert used and used <= known, (record["table"], spec["column"], used - known)
            checked += 1
    assert checked == 4  # licence status, penalty type, check result, item kinds
    fines = await city.fetch(
        "health", "SELECT fine_yuan, decided_at FROM administrative_penalty WHERE fine_yuan > 0"
    )
    assert fines and all(isinstance(f, Decimal) and isinstance(d, datetime) for f, d in fines)
    staff = await city.fetch("health", "SELECT inspector_nos FROM supervision_check LIMIT 5")
    assert all(s.startswith('["WJ') for (s,) in staff)
