"""Provide DATABASE_URL, MYSQL_URL and REDIS_URL: from the environment, else from embedded
servers (MYSQL_URL first from a MariaDB already running on its default address)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType

from adapters.settings import DEFAULT_MYSQL_URL

from ._process import EmbeddedServer
from .mariadb import local_server, start_mariadb
from .postgres import start_postgres
from .redis import start_redis

STARTERS: dict[str, Callable[[Path], EmbeddedServer]] = {
    "DATABASE_URL": start_postgres,
    "MYSQL_URL": start_mariadb,
    "REDIS_URL": start_redis,
}
# A server that may already run where the variable's default points (the development
# machines and CI run MariaDB at 127.0.0.1:3306): used as is, nothing started.
LOCAL: dict[str, Callable[[], str | None]] = {
    "MYSQL_URL": lambda: local_server(DEFAULT_MYSQL_URL),
}


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so `finally` blocks stop the servers; by default it
    would kill us on the spot (the servers would still follow via PR_SET_PDEATHSIG)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def raise_exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def ensure_services(root: Path) -> Iterator[dict[str, str]]:
    """Yield {"DATABASE_URL": ..., "MYSQL_URL": ..., "REDIS_URL": ...}.

    A variable set (non-empty) in os.environ is used as is; otherwise a server already
    running at its default address (LOCAL), else its embedded server is started under `root`
    and stopped on exit, including on KeyboardInterrupt
    and SIGTERM. Use it from the main thread: the servers are bound to the starting
    thread's lifetime, so they also die if the whole process is killed."""
    env: dict[str, str] = {}
    with _sigterm_raises(), ExitStack() as stack:
        for var, start in STARTERS.items():
            if os.environ.get(var):
                env[var] = os.environ[var]
            elif var in LOCAL and (url := LOCAL[var]()):
                env[var] = url
            else:
                server = start(root)
                stack.callback(server.stop)
                env[var] = server.url
        yield env
