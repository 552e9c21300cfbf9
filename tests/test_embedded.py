"""The embedded PostgreSQL, MariaDB and Redis really start, answer, restart and stop (never
skipped: `run` and `test` depend on them when no DATABASE_URL / MYSQL_URL / REDIS_URL is
configured)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from asyncmy.errors import OperationalError

from adapters.mysql import Server, connect
from adapters.settings import DEFAULT_MYSQL_URL
from embedded import ensure_services, services, start_mariadb, start_postgres, start_redis

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def hub_root() -> Iterator[Path]:
    # Not tmp_path: /tmp/pytest-of-root is 0700, and as root PostgreSQL runs as an
    # unprivileged user that must be able to enter every parent of its data dir.
    root = Path(tempfile.mkdtemp(prefix="hub-embedded-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def test_postgres_starts_answers_and_keeps_data_across_restart(hub_root: Path) -> None:
    with start_postgres(hub_root) as pg:
        conn = await asyncpg.connect(pg.url)
        try:
            assert await conn.fetchval("SELECT 1") == 1
            await conn.execute("CREATE TABLE survives_restart (id int)")
        finally:
            await conn.close()
    assert pg.process.poll() is not None, "stop() must end the server"

    # The second start reuses the initialised data dir instead of running initdb again.
    with start_postgres(hub_root) as pg:
        conn = await asyncpg.connect(pg.url)
        try:
            assert await conn.fetchval("SELECT to_regclass('survives_restart') IS NOT NULL")
        finally:
            await conn.close()
    assert pg.process.poll() is not None


async def _databases(url: str, *statements: str) -> list[str]:
    conn = await connect(Server.from_url(url), 10)
    try:
        async with conn.cursor() as cursor:
            for statement in statements:
                await cursor.execute(statement)
            await cursor.execute("SHOW DATABASES")
            return [row[0] for row in await cursor.fetchall()]
    finally:
        conn.close()


async def test_mariadb_starts_answers_and_keeps_data_across_restart(hub_root: Path) -> None:
    """The MariaDB department's server where none runs: root over TCP without a password."""
    with start_mariadb(hub_root) as server:
        assert server.url.startswith("mysql://root@127.0.0.1:")
        assert server.url != DEFAULT_MYSQL_URL, "its own port, never the machine's server"
        names = await _databases(
            server.url,
            "CREATE DATABASE survives_restart CHARACTER SET utf8mb4",
            "CREATE TABLE survives_restart.t (id INT PRIMARY KEY, note JSON)",
        )
        assert "survives_restart" in names
    assert server.process.poll() is not None, "stop() must end the server"

    # The second start reuses the initialised data dir instead of running install-db again.
    with start_mariadb(hub_root) as server:
        assert "survives_restart" in await _databases(server.url)
    assert server.process.poll() is not None


async def test_redis_starts_answers_and_stops(hub_root: Path) -> None:
    with start_redis(hub_root) as server:
        client = aioredis.from_url(server.url)
        try:
            assert await client.ping() is True
        finally:
            await client.aclose()
    assert server.process.poll() is not None


def test_ensure_services_takes_configured_urls_as_they_are(
    hub_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.invalid/x")
    monkeypatch.setenv("MYSQL_URL", "mysql://u@mariadb.invalid/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache.invalid/0")
    with ensure_services(hub_root) as env:
        assert env == {
            "DATABASE_URL": "postgresql://u@db.invalid/x",
            "MYSQL_URL": "mysql://u@mariadb.invalid/x",
            "REDIS_URL": "redis://cache.invalid/0",
        }
    assert not any(hub_root.iterdir()), "nothing may be started for configured URLs"


def test_a_mariadb_running_at_its_default_address_is_used(
    hub_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This machine and CI run MariaDB at 127.0.0.1:3306: with MYSQL_URL unset it is used."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.invalid/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache.invalid/0")
    monkeypatch.delenv("MYSQL_URL", raising=False)
    with ensure_services(hub_root) as env:
        assert env["MYSQL_URL"] == DEFAULT_MYSQL_URL
    assert not any(hub_root.iterdir()), "nothing is started beside a running server"


async def test_without_a_local_mariadb_one_is_started_and_stopped(
    hub_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine with no MariaDB where MYSQL_URL points by default: the run and test commands
    get an embedded one (the machine's own server is never touched: the probe of its address
    is what is replaced here)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.invalid/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache.invalid/0")
    monkeypatch.delenv("MYSQL_URL", raising=False)
    monkeypatch.setitem(services.LOCAL, "MYSQL_URL", lambda: None)
    with ensure_services(hub_root) as env:
        assert env["MYSQL_URL"] != DEFAULT_MYSQL_URL
        assert "information_schema" in await _databases(env["MYSQL_URL"])
    assert (hub_root / "mariadb").is_dir()
    assert services.LOCAL["MYSQL_URL"]() is None
    with pytest.raises(OperationalError):  # stopped on exit: nothing listens
        await _databases(env["MYSQL_URL"])


def test_exec_cli_passes_urls_and_exit_code(hub_root: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://u@db.invalid/x"}
    env.pop("REDIS_URL", None)
    script = "import os; print(os.environ['DATABASE_URL'], os.environ['REDIS_URL']); exit(3)"
    result = subprocess.run(
        [sys.executable, "-m", "embedded", "exec", "--root", str(hub_root), "--",
         sys.executable, "-c", script],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    database_url, redis_url = result.stdout.split()
    assert database_url == "postgresql://u@db.invalid/x"
    assert redis_url.startswith("redis://127.0.0.1:")
    assert "DATABASE_URL from environment" in result.stderr
    assert "REDIS_URL=redis://127.0.0.1:" in result.stderr
