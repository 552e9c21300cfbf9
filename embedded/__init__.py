"""Embedded PostgreSQL, MariaDB and Redis for running and testing the hub without external
servers.

`python -m embedded exec -- CMD...` runs CMD with DATABASE_URL, MYSQL_URL and REDIS_URL set,
starting (and afterwards stopping) servers under `.hub/` for whichever of them is not
configured (MYSQL_URL: nor answered by a MariaDB at 127.0.0.1:3306).
"""

from ._process import EmbeddedServer, ServerStartError
from .mariadb import start_mariadb
from .postgres import start_postgres
from .redis import start_redis
from .services import ensure_services

__all__ = [
    "EmbeddedServer",
    "ServerStartError",
    "ensure_services",
    "start_mariadb",
    "start_postgres",
    "start_redis",
]
