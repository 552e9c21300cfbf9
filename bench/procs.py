"""Processes of the benchmark: the servers under test, their memory and CPU, the load tool."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

BENCH = Path(__file__).parent
ROOT = BENCH.parent
NODE_DIR = BENCH / ".node"
NODE_PACKAGES = ["postgraphile@4", "autocannon@7"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_node_packages() -> dict[str, str]:
    """Install PostGraphile 4 and autocannon into bench/.node (git-ignored) unless present;
    answer their versions."""
    modules = NODE_DIR / "node_modules"
    if not ((modules / "postgraphile").exists() and (modules / "autocannon").exists()):
        if shutil.which("npm") is None:
            sys.exit("npm is needed (PostGraphile and autocannon are installed from the registry)")
        NODE_DIR.mkdir(exist_ok=True)
        pkg = NODE_DIR / "package.json"
        if not pkg.exists():
            pkg.write_text('{"name": "jsh-bench-node", "private": true}\n')
        print(f"installing {' '.join(NODE_PACKAGES)} into {NODE_DIR}…", flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *NODE_PACKAGES],
            cwd=NODE_DIR,
            check=True,
        )
    versions = {}
    for name in ("postgraphile", "autocannon"):
        versions[name] = json.loads((modules / name / "package.json").read_text())["version"]
    return versions


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(pid: int) -> int:
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the live processes of a tree."""
    total = 0.0
    for p in _tree(pid):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


class RssSampler:
    """Peak resident memory of a process tree (sum over its processes), sampled every 0.25 s."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss(self.pid))
            await asyncio.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = tree_rss(self.pid)
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.peak = max(self.peak, tree_rss(self.pid))


@dataclass
class Server:
    name: str  # "hub" or "postgraphile"
    processes: int
    url: str
    headers: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def wait_ready(self, probe: dict[str, Any], timeout: float = 90) -> None:
        """Until the server answers a GraphQL probe without errors (every worker up)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(headers=self.headers, timeout=10) as client:
            ok = 0
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited; see {self.log}:\n{self.tail()}")
                try:
                    r = await client.post(self.url, json=probe)
                    ok = ok + 1 if r.status_code == 200 and "errors" not in r.json() else 0
                except httpx.HTTPError:
                    ok = 0
                if ok >= 2:
                    return
                await asyncio.sleep(0.3 if ok else 1)
        raise RuntimeError(f"{self.name} not ready after {timeout} s; see {self.log}")

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's own process group (it was started in a new session), then
        SIGKILL after 15 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _spawn(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def start_hub(port: int, workers: int, env: dict[str, str], token: str, logdir: Path) -> Server:
    log = logdir / f"hub-{workers}-{port}.log"
    cmd = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    proc = _spawn([*cmd, "--workers", str(workers)], ROOT, env, log)
    return Server(
        "hub",
        workers,
        f"http://127.0.0.1:{port}/graphql",
        {"authorization": f"Bearer {token}"},
        proc,
        log,
    )


def start_postgraphile(port: int, workers: int, dsn: str, logdir: Path) -> Server:
    """PostGraphile 4 over the market-regulation database, production-like: no GraphiQL, no
    query log, NODE_ENV=production; `--cluster-workers` for more than one process. Run in
    bench/ so that it reads bench/postgraphile.tags.json5 (the relations' smart tags)."""
    log = logdir / f"postgraphile-{workers}-{port}.log"
    cmd = [
        str(NODE_DIR / "node_modules" / ".bin" / "postgraphile"),
        "-c",
        dsn,
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-graphiql",
        "--no-setof-functions-contain-nulls",
        "--disable-query-log",
    ]
    if workers > 1:
        cmd += ["--cluster-workers", str(workers)]
    env = {**os.environ, "NODE_ENV": "production"}
    proc = _spawn(cmd, BENCH, env, log)
    return Server("postgraphile", workers, f"http://127.0.0.1:{port}/graphql", {}, proc, log)


async def run_load(
    server: Server,
    bodies: list[str],
    connections: int,
    seconds: float,
    workdir: Path,
    amount: int | None = None,
) -> dict[str, Any]:
    """One autocannon run (bench/load.mjs) against a server, for `seconds` or `amount`
    requests, with the server's peak memory and CPU."""
    fd, bodies_file = tempfile.mkstemp(suffix=".json", dir=workdir)
    with os.fdopen(fd, "w") as f:
        json.dump(bodies, f)
    config = {
        "url": server.url,
        "bodiesFile": bodies_file,
        "headers": server.headers,
        "connections": connections,
        "duration": seconds,
        "amount": amount,
    }
    fd, config_file = tempfile.mkstemp(suffix=".json", dir=workdir)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    try:
        cpu0 = tree_cpu(server.pid)
        with RssSampler(server.pid) as rss:
            proc = await asyncio.create_subprocess_exec(
                "node",
                str(BENCH / "load.mjs"),
                config_file,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
        cpu = tree_cpu(server.pid) - cpu0
    finally:
        os.unlink(bodies_file)
        os.unlink(config_file)
    if proc.returncode != 0:
        raise RuntimeError(f"load.mjs failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["peakRssMiB"] = rss.peak / 2**20
    result["serverCpuSeconds"] = cpu
    result["serverCpuMsPerRequest"] = (
        1000 * cpu / result["requests"] if result["requests"] else None
    )
    result["failed"] = (
        result["non2xx"] + result["errors"] + result["timeouts"] + result["graphqlErrors"]
    )
    return result
