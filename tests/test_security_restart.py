"""Issue 11, item 8: the run command's children die with it. After a SIGKILL of the run
command (the `embedded exec` wrapper `./hub run` is) or of the demo process itself, the fire
rescue API frees its port and the next run starts; a fire API left behind by an earlier run
is found through its pid file under .hub/ and replaced, with a message saying so.

Real processes: `python -m embedded exec -- python -m gateway.cli demo` with a database
prefix and ports of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.settings import ROOT
from embedded._process import free_port
from tests.conftest import ADMIN_URL, REDIS_URL, drop_databases

READY_SECONDS = 180  # the first run seeds its departments
GONE_SECONDS = 20


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    return [pid, *(p for child in _children(pid) for p in _tree(child))]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Run:
    """One `./hub run`, as the script runs it, on ports of its own."""

    def __init__(
        self, env: dict[str, str], port: int, fire_port: int, log: Path, workers: int = 1
    ) -> None:
        self.port, self.fire_port, self.log = port, fire_port, log
        demo = ["-m", "gateway.cli", "demo", "--port", str(port), "--workers", str(workers)]
        demo += ["--entities", "300"]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "embedded", "exec", "--", sys.executable, *demo],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.pids: set[int] = {self.proc.pid}

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            self.pids.update(_tree(self.proc.pid))
            with contextlib.suppress(httpx.TransportError):
                up = httpx.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200
                if up and _listening(self.fire_port):
                    self.pids.update(_tree(self.proc.pid))
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the run did not start:\n{self.log.read_text()[-3000:]}")

    @property
    def demo_pid(self) -> int:
        (pid,) = _children(self.proc.pid)
        return pid

    def reap(self) -> None:
        """Whatever is left of this run (on a failing build: the orphans) is killed."""
        for pid in self.pids:
            with contextlib.suppress(OSError):
                if "gateway.cli" in (cmd := Path(f"/proc/{pid}/cmdline").read_text()) or (
                    "demo.fire_api" in cmd or "embedded" in cmd
                ):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


def _wait_free(*ports: int) -> bool:
    start = time.monotonic()
    while time.monotonic() < start + GONE_SECONDS:
        if not any(_listening(p) for p in ports):
            print(f"ports {ports} free {time.monotonic() - start:.2f} s after the kill")
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def run_env() -> Iterator[dict[str, str]]:
    prefix = f"r{uuid.uuid4().hex[:8]}_"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FIRE_API_URL", "FIRE_API_TOKEN", "HUB_JWT_SECRET", "HUB_DEPARTMENTS")
    }
    env |= {
        "DATABASE_URL": ADMIN_URL,
        "REDIS_URL": REDIS_URL,
        "HUB_DB_PREFIX": prefix,
        "HUB_LOG_LEVEL": "WARNING",
        "FIRE_API_PORT": str(free_port()),
    }
    try:
        yield env
    finally:
        asyncio.run(drop_databases(ADMIN_URL, prefix))


def test_sigkill_of_the_run_command_frees_its_ports_and_the_next_run_starts(
    run_env, tmp_path
) -> None:
    fire = int(run_env["FIRE_API_PORT"])
    runs: list[Run] = []
    try:
        # The wrapper killed: the demo, and through it the fire API, follow.
        runs.append(first := Run(run_env, free_port(), fire, tmp_path / "first.log"))
        first.wait_ready()
        first.proc.send_signal(signal.SIGKILL)
        assert _wait_free(first.port, fire), "the first run's children kept their ports"
        # The demo process itself killed: its fire API and its uvicorn workers follow.
        runs.append(second := Run(run_env, free_port(), fire, tmp_path / "second.log", 2))
        second.wait_ready()
        os.kill(second.demo_pid, signal.SIGKILL)
        assert _wait_free(second.port, fire), "children outlived the demo process"
        second.proc.wait(GONE_SECONDS)
        # And the run after starts on the same fire API port, and stops cleanly.
        runs.append(third := Run(run_env, free_port(), fire, tmp_path / "third.log"))
        third.wait_ready()
        third.proc.send_signal(signal.SIGTERM)
        assert third.proc.wait(GONE_SECONDS) is not None
        assert _wait_free(third.port, fire)
        assert not (ROOT / ".hub" / f"fire-api-{fire}.pid").exists()
    finally:
        for run in runs:
            run.reap()


def test_a_stale_fire_api_from_an_earlier_run_is_replaced_with_a_message(run_env, tmp_path) -> None:
    fire = int(run_env["FIRE_API_PORT"])
    # A fire API an earlier run left behind (as a run before this fix, or one killed in the
    # instant between start and the parent-death signal, could): its own session, no
    # parent-death signal, its pid in the file a run keeps.
    stale = subprocess.Popen(
        [sys.executable, "-m", "demo.fire_api", "--port", str(fire), "--token", "old"],
        cwd=ROOT,
        env=run_env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pidfile = ROOT / ".hub" / f"fire-api-{fire}.pid"
    pidfile.parent.mkdir(exist_ok=True)
    pidfile.write_text(f"{stale.pid}\n")
    run = None
    try:
        deadline = time.monotonic() + 60
        while not _listening(fire) and time.monotonic() < deadline:
            time.sleep(0.1)
        run = Run(run_env, free_port(), fire, tmp_path / "run.log")
        run.wait_ready()
        assert stale.wait(GONE_SECONDS) is not None, "the stale fire API was not stopped"
        said = run.log.read_text()
        assert f"pid {stale.pid}" in said and "earlier run" in said, said[-2000:]
        run.proc.send_signal(signal.SIGTERM)
        run.proc.wait(GONE_SECONDS)
    finally:
        stale.kill()
        stale.wait()
        if run is not None:
            run.reap()
