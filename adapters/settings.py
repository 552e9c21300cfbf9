"""Where things are: read once from the environment (and departments.toml)."""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from planning.calendar import WorkingCalendar, official_calendar, schedules_from_toml
from planning.credit_lists import PublicityRules

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_WORKDAYS = ROOT / "planning" / "data" / "workdays.toml"
# The server of MySQL-family departments (kind = "mysql"): MYSQL_URL, else this.
DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306"


def database_dsn(server_url: str, database: str) -> str:
    """The same server as `server_url`, another database on it."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


ADAPTER_KINDS = ("postgres", "http", "mysql")


@dataclass(frozen=True, slots=True)
class DepartmentConfig:
    code: str
    mapping: str
    dsn: str  # "" for an http department
    kind: str = "postgres"  # the adapter reading it: postgres | mysql | http
    url: str | None = None  # http: base URL of the department's API
    token_env: str | None = None  # http: variable holding its token (overrides the mapping's)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    redis_url: str
    db_prefix: str
    mysql_url: str = DEFAULT_MYSQL_URL
    departments: tuple[DepartmentConfig, ...] = field(default_factory=tuple)
    legacy_uscc: frozenset[str] = frozenset()
    max_page_size: int = 100
    cache: bool = False  # Redis read-through cache of department lookups
    cache_ttl: int = 300  # seconds; notifications invalidate sooner
    planned: bool = True  # known read operations run breadth-first (execution/executor.py)
    workdays_file: Path = DEFAULT_WORKDAYS  # years of the official calendar beyond the package

    @property
    def hub_dsn(self) -> str:
        return database_dsn(self.database_url, f"{self.db_prefix}hub")

    @property
    def calendar(self) -> WorkingCalendar:
        return load_calendar(self.workdays_file)


@functools.lru_cache(maxsize=8)
def load_calendar(path: Path) -> WorkingCalendar:
    """The official calendar with the years of the data file at `path`, read once."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
        return official_calendar(schedules_from_toml(data))
    except (OSError, tomllib.TOMLDecodeError, ValueError) as e:
        raise ValueError(f"working-day calendar {path}: {e}") from None


def mysql_url(env: dict[str, str] | None = None) -> str:
    return (os.environ if env is None else env).get("MYSQL_URL") or DEFAULT_MYSQL_URL


def load_departments(
    path: Path, server_url: str, prefix: str, mysql_server: str | None = None
) -> tuple[DepartmentConfig, ...]:
    """The departments of `path`; a database line names a database on `server_url` (on
    `mysql_server`, default MYSQL_URL, for kind = "mysql") with `prefix` in front."""
    with path.open("rb") as f:
        table = tomllib.load(f)["departments"]
    out = []
    for code, spec in table.items():
        kind = spec.get("kind", "postgres")
        if kind not in ADAPTER_KINDS:
            raise ValueError(f"department {code!r}: unknown kind {kind!r}; known: {ADAPTER_KINDS}")
        if kind == "http":
            # The URL may differ per deployment (url_env); the token is never in the file.
            url = os.environ.get(spec["url_env"]) if "url_env" in spec else spec.get("url")
            if not url:
                raise ValueError(
                    f'department {code!r}: kind = "http" needs url, or url_env naming a set '
                    "environment variable"
                )
            out.append(
                DepartmentConfig(
                    code=code,
                    mapping=spec["mapping"],
                    dsn="",
                    kind=kind,
                    url=url,
                    token_env=spec.get("token_env"),
                )
            )
            continue
        if "dsn_env" in spec:
            dsn = os.environ[spec["dsn_env"]]
        else:
            server = (mysql_server or mysql_url()) if kind == "mysql" else server_url
            dsn = database_dsn(server, f"{prefix}{spec['database']}")
        out.append(DepartmentConfig(code=code, mapping=spec["mapping"], dsn=dsn, kind=kind))
    return tuple(out)


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    database_url = env.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    mysql_server = mysql_url(env)
    prefix = env.get("HUB_DB_PREFIX", "jsh_")
    departments_file = Path(env.get("HUB_DEPARTMENTS", ROOT / "departments.toml"))
    legacy = frozenset(
        c.strip().upper() for c in env.get("HUB_LEGACY_USCC", "").split(",") if c.strip()
    )
    return Settings(
        database_url=database_url,
        redis_url=env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        db_prefix=prefix,
        mysql_url=mysql_server,
        departments=load_departments(departments_file, database_url, prefix, mysql_server),
        legacy_uscc=legacy,
        max_page_size=max_page_size(env),
        cache=env.get("HUB_CACHE", "off").lower() in ("1", "on", "true", "yes"),
        cache_ttl=int(env.get("HUB_CACHE_TTL", "300")),
        planned=env.get("HUB_PLANNED", "on").lower() in ("1", "on", "true", "yes"),
        workdays_file=Path(env.get("HUB_WORKDAYS_FILE", DEFAULT_WORKDAYS)),
    )


def publicity_rules_from(env: Mapping[str, str]) -> PublicityRules:
    """HUB_MINOR_PUBLICITY_MONTHS: minor penalties are not published (0, the default) or at
    most 3 months."""
    value = env.get("HUB_MINOR_PUBLICITY_MONTHS", "0")
    try:
        return PublicityRules(minor_months=int(value))
    except ValueError:
        raise ValueError(f"HUB_MINOR_PUBLICITY_MONTHS must be 0 to 3, not {value!r}") from None


@functools.cache
def publicity_rules() -> PublicityRules:
    """This deployment's credit publicity rules, read once: every computation of publicity (the
    read graph's flags, credit feedback, repairs) uses the same."""
    return publicity_rules_from(os.environ)


def max_page_size(env: Mapping[str, str] = os.environ) -> int:
    """The largest page of entities (HUB_MAX_PAGE_SIZE), also what the door's cost model uses."""
    return int(env.get("HUB_MAX_PAGE_SIZE", "100"))
