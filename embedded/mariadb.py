"""Embedded MariaDB: a throwaway dev/test server under `<root>/mariadb/`, on 127.0.0.1.

Debian's MariaDB binaries (mariadbd, mariadb-install-db). When they are missing and we run as
root with apt-get, Debian's `mariadb-server-core` is installed first: the server binaries of
the `mariadb-server` package without its system service, so nothing starts on port 3306 behind
our back. Root may connect over TCP from 127.0.0.1 without a password, as on the development
machines and CI.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

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

SERVICE_USER = "hub-mariadb"
PACKAGE = "mariadb-server-core"
_SEARCH = (Path("/usr/sbin"), Path("/usr/bin"), Path("/usr/local/sbin"), Path("/usr/local/bin"))
# Runs at every start: root over TCP from 127.0.0.1 (install-db only makes root@localhost,
# which --skip-name-resolve never matches for a TCP client).
_INIT_SQL = (
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n"
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
)


def _which(*names: str) -> Path | None:
    for name in names:
        if found := shutil.which(name):
            return Path(found)
        for directory in _SEARCH:
            if (directory / name).is_file():
                return directory / name
    return None


def _install() -> None:
    """Debian's MariaDB server binaries, as the test command installs Chromium."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    print(f"embedded: installing Debian's {PACKAGE} for the MariaDB department…", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE],
    ):
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise ServerStartError(
                f"`{' '.join(argv)}` failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )


def find_binaries() -> tuple[Path, Path]:
    """(server, install-db): $HUB_MARIADB_BINDIR, else the machine's (installed when missing)."""
    if override := os.environ.get("HUB_MARIADB_BINDIR"):
        bindir = Path(override)
        server, setup = bindir / "mariadbd", bindir / "mariadb-install-db"
        if server.is_file() and setup.is_file():
            return server, setup
        raise ServerStartError(f"no mariadbd and mariadb-install-db in {bindir}")
    for attempt in range(2):
        server = _which("mariadbd", "mysqld")
        setup = _which("mariadb-install-db", "mysql_install_db")
        if server is not None and setup is not None:
            return server, setup
        if attempt == 0:
            _install()
    raise ServerStartError(
        f"no MariaDB binaries found: apt-get install {PACKAGE} (or mariadb-server), "
        "or set MYSQL_URL to an existing server"
    )


def _version(server: Path) -> str:
    out = subprocess.run([server, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"Ver\s+(\d+\.\d+)", out)  # "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 …"
    if match is None:
        raise ServerStartError(f"cannot parse the MariaDB version from {out!r}")
    return match.group(1)


def greets(host: str, port: int, timeout: float = 1.0) -> str | None:
    """The server version a MySQL-family server on host:port announces, or None (nothing
    listening, or not such a server)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            packet = b""
            while len(packet) < 6 or b"\0" not in packet[5:]:
                if not (chunk := sock.recv(512)):
                    return None
                packet += chunk
    except OSError:
        return None
    if packet[4] != 10:  # protocol version 10: the handshake every MySQL-family server sends
        return None
    return packet[5 : packet.index(b"\0", 5)].decode(errors="replace")


def local_server(url: str) -> str | None:
    """`url` if a MySQL-family server answers there (the development machines' and CI's)."""
    parts = urlsplit(url)
    return url if greets(parts.hostname or HOST, parts.port or 3306) else None


def _install_db(setup: Path, data: Path, ids: tuple[int, int] | None) -> None:
    """Initialise into a scratch dir and rename it, so a half-done one is never reused."""
    scratch = data.with_name(data.name + ".install")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)  # exists only if someone broke it: no mysql/
    scratch.mkdir(mode=0o700)
    if ids is not None:
        os.chown(scratch, *ids)
    result = subprocess.run(
        [setup, "--no-defaults", f"--datadir={scratch}", "--skip-test-db",
         "--auth-root-authentication-method=normal"],
        capture_output=True, text=True, timeout=300,
        **({"user": ids[0], "group": ids[1], "extra_groups": []} if ids else {}),
    )  # fmt: skip
    if result.returncode != 0:
        raise ServerStartError(f"mariadb-install-db failed:\n{result.stdout}{result.stderr}")
    scratch.rename(data)


def _ours(port: int, pid: int, pidfile: Path) -> bool:
    """Ready once the server on `port` greets and the pid file names our process: a stranger
    that took the port between our pick and bind would make ours exit instead."""
    try:
        written = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return written == pid and greets(HOST, port) is not None


def start_mariadb(root: Path, *, timeout: float = 60.0) -> EmbeddedServer:
    """Start mariadbd with its data dir under `<root>/mariadb/`, reusing an initialised one.

    Listens on 127.0.0.1 only; root connects from there without a password."""
    server_bin, setup = find_binaries()
    version = _version(server_bin)
    ids = service_ids(SERVICE_USER, "MariaDB")
    data, lock = claim_slot(root.resolve() / "mariadb", version)
    pidfile = data / "mariadbd.pid"  # inside: only the data dir is the service user's
    try:
        if ids is not None:
            check_reachable(data, *ids, SERVICE_USER, "MariaDB")
        kill_orphan(pidfile, server_bin.name[:15], signal.SIGTERM)
        if not (data / "mysql").is_dir():
            _install_db(setup, data, ids)
        init = data.with_name(data.name + ".init.sql")
        init.write_text(_INIT_SQL)
        init.chmod(0o644)

        def start_once(port: int) -> EmbeddedServer:
            log = data.with_name(data.name + ".log")
            sock = Path(tempfile.gettempdir()) / f"hub-mariadb-{port}.sock"  # short enough
            proc = spawn(
                [server_bin, "--no-defaults", f"--datadir={data}", f"--port={port}",
                 f"--bind-address={HOST}", f"--socket={sock}", f"--pid-file={pidfile}",
                 f"--init-file={init}", "--skip-name-resolve", "--skip-log-bin",
                 "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
                 # Dev/test data: small memory, no flush at each commit.
                 "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0"],
                log, ids=ids,
            )  # fmt: skip
            server = EmbeddedServer(f"MariaDB {version}", f"mysql://root@{HOST}:{port}", proc, log)
            wait_ready(server, lambda: _ours(port, proc.pid, pidfile), timeout)
            return server

        server = start_on_free_port(start_once)
    except BaseException:
        lock.close()
        raise
    server.on_stop.append(lock.close)
    return server
