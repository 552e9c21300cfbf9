"""A department read through its own HTTP JSON API (demo/fire_api.py served for real, read by
adapters/http_source.py through mappings/fire_http.toml): the same records its database gives,
a bounded number of calls, and every failure a partial result naming the reason."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from adapters.errors import DepartmentUnavailable, MappingError
from adapters.http_mapping import load_http_mapping, parse_http_mapping
from adapters.http_source import HttpSource, NotSupported
from adapters.mapping import MAPPINGS_DIR
from adapters.postgres import Filter
from adapters.registry import Registry
from adapters.settings import ROOT, DepartmentConfig, Settings, load_departments
from demo.fire_api import MAX_KEYS, create_app
from tests.conftest import ADMIN_URL, Hub
from tests.test_joint_tasks import drawn_task
from tests.test_partial import QUERY as PARTIAL_QUERY
from tests.test_partial import _check_partial, own_hub

TOKEN = "fire-api-test-token"
TOKEN_ENV = "HUB_TEST_FIRE_API_TOKEN"
os.environ[TOKEN_ENV] = TOKEN

RECORDS = """
query($u: String!) {
  entity(uscc: $u) {
    permits(department: "fire") { id number name status validFrom validTo }
    penalties(department: "fire") { id decisionNumber kind fine decidedOn violation serious }
    inspections(department: "fire") { id inspectedOn result }
  }
}"""
DEPARTMENT = """
query($d: String!) {
  departments { code adapter health { status reason }
    checklistItems { code name legalBasis kinds industries standardCode delegable tags }
    inspectors(district: $d) { id name certificate tags district available
                               conflicts { uscc reason } } }
}"""
PAGE = """
{ entities(first: 100) { edges { node { uscc
    permits { id } penalties { id } inspections { id } credit { grade } } } } }"""


class _InProcessServer(uvicorn.Server):
    def capture_signals(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # Ctrl-C belongs to pytest, not to this server


@contextlib.asynccontextmanager
async def fire_api(dsn: str, delay: float = 0.0) -> AsyncIterator[str]:
    """The fire API served by uvicorn on a free port of this event loop; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(dsn, TOKEN, delay), log_level="warning", timeout_graceful_shutdown=1
    )
    server = _InProcessServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def fire_api_process(dsn: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The fire API as the demo starts it: `python -m demo.fire_api` in its own process."""
    port = _free_port()
    args = ["--port", str(port), "--database-url", dsn, "--token", TOKEN]
    proc = subprocess.Popen([sys.executable, "-m", "demo.fire_api", *args], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"{url}/health", headers={"authorization": f"Bearer {TOKEN}"})
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the fire API exited"
            assert time.monotonic() < deadline, "the fire API did not start"
            time.sleep(0.05)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def http_departments(
    tmp: Path,
    prefix: str,
    url: str,
    *,
    mapping: str = "fire_http",
    token_env: str = TOKEN_ENV,
) -> tuple[DepartmentConfig, ...]:
    """The demo's department list with fire switched to its API, as a departments.toml line."""
    line = (
        f'fire = {{ kind = "http", mapping = "{mapping}", url = "{url}", '
        f'token_env = "{token_env}" }}'
    )
    text = re.sub(r"(?m)^fire\s*=.*$", line, (ROOT / "departments.toml").read_text())
    path = tmp / f"departments-{abs(hash(line))}.toml"
    path.write_text(text)
    return load_departments(path, ADMIN_URL, prefix)


def with_fire(settings: Settings, departments: tuple[DepartmentConfig, ...]) -> Settings:
    return dataclasses.replace(settings, departments=departments)


def mapping_file(tmp: Path, **changes: str) -> str:
    """A copy of fire_http.toml with some `name = value` lines changed."""
    text = (MAPPINGS_DIR / "fire_http.toml").read_text()
    for name, value in changes.items():
        text, n = re.subn(rf"(?m)^{name} = \S+", f"{name} = {value}", text)
        assert n, name
    path = tmp / f"fire_http-{abs(hash(text))}.toml"
    path.write_text(text)
    return str(path)


def by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["id"])


def pool(inspectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inspectors by id, each one's conflicts by entity (neither source orders them)."""
    return by_id(
        [{**i, "conflicts": sorted(i["conflicts"], key=lambda c: c["uscc"])} for i in inspectors]
    )


@pytest.fixture(scope="module")
async def api_url(dept_dsn: Any) -> AsyncIterator[str]:
    async with fire_api(dept_dsn("fire")) as url:
        yield url


@pytest.fixture(scope="module")
async def http_hub(
    settings: Settings, prefix: str, api_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    departments = http_departments(tmp_path_factory.mktemp("http"), prefix, api_url)
    async with own_hub(with_fire(settings, departments)) as hub:
        yield hub


@pytest.fixture(scope="module")
async def all_uscc(dept_dsn: Any) -> list[str]:
    conn = await asyncpg.connect(dept_dsn("market"))
    try:
        return [r[0] for r in await conn.fetch("SELECT tyshxydm FROM scztdj ORDER BY 1")]
    finally:
        await conn.close()


async def _fire_rich_uscc(dsn: str) -> str:
    """An entity with fire approvals, a fined penalty and inspections."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT p.org_uscc FROM fire.penalty_case p"
            " JOIN fire.safety_approval a USING (org_uscc) JOIN fire.inspection i USING (org_uscc)"
            " WHERE p.fine_yuan IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        )
    finally:
        await conn.close()


# -- the same records as the database gives ---------------------------------------------------
async def test_entity_records_are_the_sql_adapters(hub: Hub, http_hub: Hub, dept_dsn) -> None:
    assert http_hub.registry.get("fire").kind == "http"
    uscc = await _fire_rich_uscc(dept_dsn("fire"))
    sql = (await hub.gql(RECORDS, {"u": uscc}))["data"]["entity"]
    api = await http_hub.gql(RECORDS, {"u": uscc})
    assert "errors" not in api, api
    got = api["data"]["entity"]
    for field in ("permits", "penalties", "inspections"):
        assert sql[field], (field, "the entity has fire records")
        assert by_id(got[field]) == by_id(sql[field]), field
    assert any(p["fine"] for p in got["penalties"])


async def test_sample_entity_and_department_lists_match(
    hub: Hub, http_hub: Hub, seeded, dept_dsn
) -> None:
    body = await http_hub.gql(RECORDS, {"u": seeded.sample_uscc})
    assert "errors" not in body
    assert body == await hub.gql(RECORDS, {"u": seeded.sample_uscc})
    conn = await asyncpg.connect(dept_dsn("fire"))
    try:
        district = await conn.fetchval(
            "SELECT district FROM fire.firefighter_inspector i WHERE EXISTS (SELECT 1 FROM "
            "fire.inspector_conflict c WHERE c.inspector_id = i.inspector_id) LIMIT 1"
        )
    finally:
        await conn.close()
    sql = await hub.gql(DEPARTMENT, {"d": district})
    api = await http_hub.gql(DEPARTMENT, {"d": district})
    assert "errors" not in api, api
    (s,) = [d for d in sql["data"]["departments"] if d["code"] == "fire"]
    (a,) = [d for d in api["data"]["departments"] if d["code"] == "fire"]
    assert (s["adapter"], a["adapter"]) == ("postgres", "http")
    assert a["health"] == {"status": "UP", "reason": None}
    assert a["checklistItems"] and a["checklistItems"] == s["checklistItems"]
    assert a["inspectors"] and pool(a["inspectors"]) == pool(s["inspectors"])
    assert any(i["conflicts"] for i in a["inspectors"])


async def test_every_record_of_every_entity_matches(hub: Hub, http_hub: Hub, all_uscc) -> None:
    sql, api = hub.registry.get("fire"), http_hub.registry.get("fire")
    for kind in ("permit", "penalty", "inspection", "conflict"):
        want, got = await sql.by_keys(kind, all_uscc), await api.by_keys(kind, all_uscc)
        assert set(got) == set(want)
        sort = (lambda r: (r["inspector_id"], r["uscc"])) if kind == "conflict" else None
        for k in want:
            assert sorted(got[k], key=sort or (lambda r: r["id"])) == sorted(
                want[k], key=sort or (lambda r: r["id"])
            ), (kind, k)
    assert sum(map(len, want.values())) > 0


async def test_draw_reads_match(hub: Hub, http_hub: Hub, all_uscc) -> None:
    """What a joint draw reads from a department: items, inspectors, recent inspections."""
    sql, api = hub.registry.get("fire"), http_hub.registry.get("fire")
    assert await api.all("checklist_item") == await sql.all("checklist_item")
    assert by_id(await api.all("inspector")) == by_id(await sql.all("inspector"))
    recent = [Filter("inspected_on", "gte", (await sql.all("inspection"))[-1]["inspected_on"])]
    for filters in ([], recent):
        fields = ["uscc", "inspected_on"]
        got = await api.scan("inspection", filters, fields, timeout=30)
        assert sorted(got) == sorted(await sql.scan("inspection", filters, fields))
        assert await api.count("inspection", filters) == len(got)
    conflicts = ["inspector_id", "uscc", "reason"]
    assert sorted(await api.scan("conflict", [], conflicts)) == sorted(
        await sql.scan("conflict", [], conflicts)
    )
    with pytest.raises(NotSupported, match="not supported by this source"):
        await api.scan("permit", [], ["id"])
    with pytest.raises(NotSupported, match="not supported"):
        await api.scan("inspection", [Filter("result", "in", ["REFUSED"])], ["id"])
    with pytest.raises(NotSupported):
        await api.page("inspection", [], None, 10)
    assert isinstance(NotSupported("fire", "x"), DepartmentUnavailable)


async def test_a_joint_draw_reads_fire_through_its_api(http_hub: Hub) -> None:
    fire = http_hub.registry.get("fire")
    before = fire.statements
    plan = {"ratios": [{"grade": g, "ratio": 0.2} for g in "ABCD"], "floor": 3, "cap": 40}
    draw = await drawn_task(http_hub, plan={**plan, "exclusionDays": 365})
    assert draw["status"] == "DRAWN" and draw["visits"]
    teams = {m["department"]["code"] for v in draw["visits"] for m in v["team"]}
    assert "fire" in teams
    assert fire.statements > before  # items, inspectors, recent inspections, conflicts


# -- bounded calls ------------------------------------------------------------------------------
async def test_page_of_100_costs_one_call_per_kind(http_hub: Hub) -> None:
    before = http_hub.registry.statements()
    body = await http_hub.gql(PAGE)
    spent = {c: n - before[c] for c, n in http_hub.registry.statements().items()}
    assert "errors" not in body
    assert len(body["data"]["entities"]["edges"]) == 100
    assert spent["fire"] == 3, spent  # approvals, penalties, inspections: 100 keys each


async def test_large_batches_are_split_at_the_apis_maximum(http_hub: Hub, all_uscc) -> None:
    source = http_hub.registry.get("fire")
    keys = (all_uscc * 2)[: 2 * MAX_KEYS + 1]  # duplicates are sent once
    assert len(set(keys)) == len(all_uscc) > MAX_KEYS
    before = source.statements
    grouped = await source.by_keys("permit", keys)
    assert source.statements - before == -(-len(set(keys)) // MAX_KEYS)
    assert set(grouped) == set(keys)


async def test_over_the_apis_maximum_is_refused_with_its_reason(
    api_url: str, all_uscc, tmp_path
) -> None:
    """A 4xx with a message is the department unavailable, with the API's words."""
    hm = load_http_mapping(mapping_file(tmp_path, batch_max=str(MAX_KEYS + 50)))
    source = HttpSource(hm, api_url, token_env=TOKEN_ENV)
    await source.open()
    try:
        with pytest.raises(DepartmentUnavailable, match=f"HTTP 400: at most {MAX_KEYS} keys"):
            await source.by_keys("permit", all_uscc[: MAX_KEYS + 1])
    finally:
        await source.close()


async def test_pages_are_followed(api_url: str, hub: Hub, tmp_path) -> None:
    hm = load_http_mapping(mapping_file(tmp_path, page_size="7"))
    source = HttpSource(hm, api_url, token_env=TOKEN_ENV)
    await source.open()
    try:
        items = await source.all("checklist_item")
        assert items == await hub.registry.get("fire").all("checklist_item")
        assert source.statements == -(-len(items) // 7) > 1
    finally:
        await source.close()


# -- failures are partial results ---------------------------------------------------------------
async def test_api_down_is_a_partial_result(settings, prefix, seeded, dept_dsn, tmp_path) -> None:
    with fire_api_process(dept_dsn("fire")) as (url, proc):
        async with own_hub(with_fire(settings, http_departments(tmp_path, prefix, url))) as hub:
            warm = await hub.gql(PARTIAL_QUERY, {"u": seeded.sample_uscc})
            assert "errors" not in warm, warm  # keep-alive connections are now open
            proc.terminate()
            proc.wait(10)
            body = await hub.gql(PARTIAL_QUERY, {"u": seeded.sample_uscc})
            _check_partial(body, "fire")
            assert body["data"]["entity"]["credit"] is not None


async def test_wrong_token_is_reported_with_the_reason(
    settings, prefix, seeded, api_url, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("HUB_TEST_WRONG_TOKEN", "not-the-token")
    departments = http_departments(tmp_path, prefix, api_url, token_env="HUB_TEST_WRONG_TOKEN")
    async with own_hub(with_fire(settings, departments)) as hub:
        body = await hub.gql(PARTIAL_QUERY, {"u": seeded.sample_uscc})
        _check_partial(body, "fire")
        assert any("HTTP 401" in e["message"] for e in body["errors"])
        (fire,) = [d for d in body["data"]["departments"] if d["code"] == "fire"]
        assert fire["health"]["reason"] == "HTTP 401: missing or invalid bearer token"


async def test_missing_token_variable_is_reported(api_url: str, tmp_path) -> None:
    source = HttpSource(load_http_mapping("fire_http"), api_url, token_env="HUB_TEST_UNSET_TOKEN")
    await source.open()
    try:
        with pytest.raises(DepartmentUnavailable, match="HUB_TEST_UNSET_TOKEN is not set"):
            await source.ping()
        assert source.statements == 0, "nothing was sent"
    finally:
        await source.close()


async def test_slow_api_times_out_within_the_mappings_timeout(
    settings, prefix, seeded, dept_dsn, tmp_path
) -> None:
    mapping = mapping_file(tmp_path, timeout_ms="300")
    async with fire_api(dept_dsn("fire"), delay=1.0) as url:
        departments = http_departments(tmp_path, prefix, url, mapping=mapping)
        async with own_hub(with_fire(settings, departments)) as hub:
            start = time.perf_counter()
            body = await hub.gql(PARTIAL_QUERY, {"u": seeded.sample_uscc})
            elapsed = time.perf_counter() - start
            _check_partial(body, "fire")
            assert any("no answer within 0.3s" in e["message"] for e in body["errors"])
            assert elapsed < 0.9, elapsed  # well before the API would have answered


# -- failures of a misbehaving API, without a server --------------------------------------------
def _mock_source(handler: Any) -> HttpSource:
    return HttpSource(
        load_http_mapping("fire_http"),
        "http://fire.invalid",
        token="t",
        transport=httpx.MockTransport(handler),
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(503, json={"error": "maintenance"}), "HTTP 503: maintenance"),
        (httpx.Response(500, text="boom"), "HTTP 500: boom"),
        (httpx.Response(200, text="<html>"), "invalid JSON"),
        (httpx.Response(200, json={"rows": []}), "no list of records"),
        (httpx.Response(200, json={"items": [1]}), "not objects"),
        (
            httpx.Response(200, json={"items": [{"orgCode": "X", "issuedDate": "soon"}]}),
            "unreadable permit",
        ),
        (httpx.Response(200, json={"items": [{"approvalId": 1}]}), "has no orgCode"),
        (httpx.Response(302, headers={"location": "http://elsewhere/"}), "HTTP 302"),
        (
            httpx.Response(200, json={"items": [], "next": "same"}),
            "do not advance",
        ),
    ],
)
async def test_a_misbehaving_api_is_unavailable(answer: httpx.Response, reason: str) -> None:
    source = _mock_source(lambda request: answer)
    await source.open()
    try:
        with pytest.raises(DepartmentUnavailable, match=reason) as info:
            await source.by_keys("permit", ["91370200MA3C5Q4X7N"])
        assert type(info.value) is DepartmentUnavailable
    finally:
        await source.close()


async def test_connection_refused_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    source = _mock_source(refuse)
    await source.open()
    try:
        with pytest.raises(DepartmentUnavailable, match=r"unavailable: connection refused$"):
            await source.ping()
    finally:
        await source.close()


async def test_what_is_sent() -> None:
    """Keys as one comma list, the page size, the token in the declared header."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "next": None})

    source = _mock_source(answer)
    await source.open()
    try:
        assert await source.by_keys("penalty", ["A", "B", "A"]) == {"A": [], "B": []}
        (req,) = seen
        assert req.url.path == "/api/v1/penalties"
        assert dict(req.url.params) == {"org": "A,B", "size": "1000"}
        assert req.headers["authorization"] == "Bearer t"
        assert await source.by_keys("penalty", []) == {}
        assert len(seen) == 1, "no call for no keys"
    finally:
        await source.close()


async def test_chunks_of_a_large_batch_go_out_concurrently() -> None:
    in_flight, most, calls = 0, 0, 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most, calls
        calls += 1
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        keys = request.url.params["org"].split(",")
        assert len(keys) <= MAX_KEYS
        if "FAIL" in keys:
            return httpx.Response(502, json={"error": "upstream"})
        return httpx.Response(200, json={"items": [{"orgCode": k, "approvalId": 1} for k in keys]})

    source = _mock_source(answer)
    await source.open()
    try:
        keys = [f"K{i:03d}" for i in range(450)]
        grouped = await source.by_keys("permit", keys)
        assert (calls, most) == (3, 3)
        assert all(len(grouped[k]) == 1 for k in keys)
        with pytest.raises(DepartmentUnavailable, match="HTTP 502: upstream"):
            await source.by_keys("permit", [*keys, "FAIL"])  # one failed chunk fails it all
    finally:
        await source.close()


async def test_breaker_opens_after_repeated_failures() -> None:
    source = _mock_source(lambda request: httpx.Response(503, json={"error": "down"}))
    source.breaker.reset_seconds = 60
    await source.open()
    try:
        for _ in range(source.breaker.failure_threshold):
            with pytest.raises(DepartmentUnavailable, match="HTTP 503"):
                await source.ping()
        assert source.breaker.state == "OPEN"
        sent = source.statements
        with pytest.raises(DepartmentUnavailable, match="circuit open"):
            await source.by_keys("permit", ["K"])
        assert source.statements == sent, "an open breaker sends nothing"
    finally:
        await source.close()


# -- configuration ------------------------------------------------------------------------------
def test_departments_line_with_url_env(tmp_path, monkeypatch, prefix) -> None:
    monkeypatch.setenv("HUB_TEST_FIRE_URL", "http://fire.example:8101/")
    path = tmp_path / "departments.toml"
    path.write_text(
        "[departments]\n"
        'market = { mapping = "market", database = "market" }\n'
        'fire = { kind = "http", mapping = "fire_http", url_env = "HUB_TEST_FIRE_URL",'
        ' token_env = "HUB_TEST_FIRE_TOKEN" }\n'
    )
    market, fire = load_departments(path, ADMIN_URL, prefix)
    assert (market.kind, fire.kind, fire.url, fire.token_env, fire.dsn) == (
        "postgres",
        "http",
        "http://fire.example:8101/",
        "HUB_TEST_FIRE_TOKEN",
        "",
    )
    registry = Registry.from_settings(
        Settings(ADMIN_URL, "redis://x", prefix, departments=(market, fire))
    )
    source = registry.get("fire")
    assert isinstance(source, HttpSource) and source.url == "http://fire.example:8101"
    assert registry.get("market").kind == "postgres"
    assert "fire" in [s.code for s in registry.holding("inspection")]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('{ kind = "http", mapping = "fire_http" }', "needs url"),
        ('{ kind = "http", mapping = "fire_http", url_env = "HUB_TEST_NOT_SET" }', "needs url"),
        ('{ kind = "soap", mapping = "fire" }', "unknown kind"),
    ],
)
def test_bad_departments_lines(tmp_path, prefix, line: str, error: str) -> None:
    path = tmp_path / "departments.toml"
    path.write_text(f"[departments]\nfire = {line}\n")
    with pytest.raises(ValueError, match=error):
        load_departments(path, ADMIN_URL, prefix)


def _mapping(**record: Any) -> dict[str, Any]:
    spec = {"path": "/p", "key": "org", "batch_param": "org", "fields": {"uscc": "org"}}
    return {"code": "x", "name": "x", "http": {}, "records": {"permit": {**spec, **record}}}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (_mapping(fields={"colour": "c"}), "not a field of the unified model"),
        (_mapping(fields={"status": "s"}), "needs a code map"),
        (_mapping(fields={"valid_to": {"field": "v", "type": "iso"}}), "unknown type"),
        (_mapping(tabel="x"), "unknown keys"),
        (_mapping(path="p"), "start with '/'"),
        (_mapping(batch_param=None), "go together"),
        (_mapping(order_by="valid_to"), "not a mapped field"),
        (_mapping(filters={"uscc": {"like": "q"}}), "unknown filter op"),
        ({**_mapping(), "http": {"tokn_env": "X"}}, "unknown keys"),
        ({**_mapping(), "crosswalk": {"table": "t"}}, "unknown keys"),
        ({k: v for k, v in _mapping().items() if k != "http"}, "missing 'http'"),
    ],
)
def test_http_mappings_are_validated(data: dict[str, Any], error: str) -> None:
    if data["records"]["permit"].get("batch_param") is None:
        del data["records"]["permit"]["batch_param"]
    with pytest.raises(MappingError, match=error):
        parse_http_mapping(data)


async def test_json_names_need_not_be_identifiers() -> None:
    """Any JSON name may be mapped (dots reach into nested objects)."""
    data = _mapping(key="org-code", fields={"uscc": "org-code", "id": "case.no"})
    hm = parse_http_mapping(data)
    assert [f.column for f in hm.mapping.records["permit"].fields] == ["org-code", "case.no"]
    body = {"items": [{"org-code": "K", "case": {"no": 7}}]}
    source = HttpSource(
        hm,
        "http://x.invalid",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=body)),
    )
    await source.open()
    try:
        (row,) = (await source.by_keys("permit", ["K"]))["K"]
        assert (row["uscc"], row["id"], row["department"], row["status"]) == ("K", "7", "x", None)
    finally:
        await source.close()
