"""Shared fixtures: each test run seeds its own uniquely-named databases and drops them after.

Real PostgreSQL, MariaDB and Redis only: the servers named by DATABASE_URL / MYSQL_URL /
REDIS_URL (the `./hub test` command starts embedded ones when those are unset and, for MariaDB,
none answers at 127.0.0.1:3306).
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.mysql import Server, connect
from adapters.settings import ROOT, Settings, database_dsn, load_departments, mysql_url
from demo import mariadb
from demo.seed import SeedReport, seed
from gateway.app import create_app
from gateway.auth import AuthConfig, issue_token
from store import signing

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = mysql_url()  # the MariaDB server of the health commission (MYSQL_URL)
# One secret per test process (this module may be imported as conftest and tests.conftest).
AUTH = AuthConfig(
    issuer="joint-supervision-hub",
    audience="jsh-api",
    hs256_secret=os.environ.setdefault("HUB_TEST_JWT_SECRET", uuid.uuid4().hex),
)
# The audit log's signing key of this test process (and of the servers it starts).
os.environ.setdefault("HUB_AUDIT_KEY", signing.new_private_key())
# The suite sends hundreds of requests a minute as one planner, and many bad credentials from
# one address: rate limits are tested on their own (tests/test_guard.py,
# tests/test_security_forwarded.py), not here.
for _kind in ("OFFICER", "PLANNER", "PARTNER", "PUBLIC", "AUTH_FAILURES"):
    os.environ.setdefault(f"HUB_RATE_{_kind}", "1000000/60")
# Deliveries retry within a second and give up after four attempts, so that retries and dead
# letters show in seconds; every hub the tests start (processes too) shares one webhook key.
os.environ.setdefault("HUB_DELIVERY_BACKOFF", "0.2")
os.environ.setdefault("HUB_DELIVERY_MAX_ATTEMPTS", "4")
os.environ.setdefault("HUB_WEBHOOK_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
# The machine is shared by several suites at once and its Redis at times answers in tens of
# milliseconds: the 50 ms bound is tested where it is the point (test_security_redis.py),
# elsewhere a slow answer must not fail the rate limits open and make counts inexact.
os.environ.setdefault("HUB_REDIS_TIMEOUT_MS", "1000")


# The suite reads fire rescue from its database (the demo reads it through its HTTP API;
# tests/test_http_source.py runs that path, a joint draw included). Server processes that
# tests start inherit this list through HUB_DEPARTMENTS.
TEST_DEPARTMENTS = ROOT / ".hub" / f"departments-test-{os.getpid()}.toml"
TEST_DEPARTMENTS.parent.mkdir(exist_ok=True)
TEST_DEPARTMENTS.write_text(
    "\n".join(
        'fire = { mapping = "fire", database = "fire" }' if line.startswith("fire ") else line
        for line in (ROOT / "departments.toml").read_text().splitlines()
    )
    + "\n"
)
os.environ["HUB_DEPARTMENTS"] = str(TEST_DEPARTMENTS)


def token(
    dept: str = "market",
    roles: tuple[str, ...] = ("planner",),
    sub: str = "tester",
    ttl: int = 3600,
) -> str:
    return issue_token(AUTH, sub, dept, list(roles), ttl=ttl)


PLANNER = {"authorization": f"Bearer {token()}"}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_ENTITIES = 400


async def drop_databases(admin_url: str, prefix: str) -> None:
    """Every database of the prefix: PostgreSQL's, and MariaDB's (the health commission)."""
    await mariadb.drop(MYSQL_URL, await mariadb.list_databases(MYSQL_URL, prefix))
    conn = await asyncpg.connect(admin_url)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix
        )
        for (name,) in names:
            await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await conn.close()


async def mariadb_rows(database: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of one statement (%s placeholders) in a database on the MariaDB server."""
    conn = await connect(Server.from_url(MYSQL_URL), 10, db=database)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(sql, args or None)
            return list(await cursor.fetchall())
    finally:
        conn.close()


@pytest.fixture(scope="session")
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}_"


@pytest.fixture(scope="session")
async def seeded(prefix: str) -> AsyncIterator[SeedReport]:
    try:
        yield await seed(ADMIN_URL, prefix, TEST_ENTITIES, seed=11)
    finally:
        await drop_databases(ADMIN_URL, prefix)


def make_settings(prefix: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": ADMIN_URL,
        "redis_url": REDIS_URL,
        "db_prefix": prefix,
        "mysql_url": MYSQL_URL,
        "departments": load_departments(TEST_DEPARTMENTS, ADMIN_URL, prefix, MYSQL_URL),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(prefix: str, seeded: SeedReport) -> Settings:
    return make_settings(prefix)


class Hub:
    """The app under test with a client, and direct access to its sources."""

    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client  # sends a planner's token
        self.raw = httpx.AsyncClient(transport=client._transport, base_url="http://hub")

    @property
    def registry(self) -> Any:
        return self.app.state.registry

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run as a planner unless other headers (another identity, none) are given."""
        client = self.client if headers is None else self.raw
        r = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert r.status_code == 200, r.text
        return r.json()


async def start_hub(settings: Settings) -> tuple[Any, Any, httpx.AsyncClient]:
    app = create_app(settings, AUTH)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=PLANNER
    )
    return app, lifespan, client


@pytest.fixture(scope="session")
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    app, lifespan, client = await start_hub(settings)
    try:
        yield Hub(app, client)
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def own_store(prefix: str, seeded: SeedReport) -> AsyncIterator[Hub]:
    """A hub on the seeded departments with a hub store of its own, dropped after the test:
    for tests that tamper with the store (its audit log spans every task in it)."""
    own_prefix = f"{prefix}s{uuid.uuid4().hex[:6]}_"
    app, lifespan, client = await start_hub(make_settings(prefix, db_prefix=own_prefix))
    try:
        yield Hub(app, client)
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
        await drop_databases(ADMIN_URL, own_prefix)


@pytest.fixture(scope="session")
def dept_dsn(prefix: str, seeded: SeedReport) -> Any:
    def dsn(code: str) -> str:
        return database_dsn(ADMIN_URL, f"{prefix}{code}")

    return dsn
