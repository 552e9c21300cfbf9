"""Process plumbing shared by the embedded PostgreSQL, MariaDB and Redis servers."""

from __future__ import annotations

import ctypes
import fcntl
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
_MAX_SLOTS = 8
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


class ServerStartError(RuntimeError):
    """An embedded server could not be started or did not accept connections in time."""


@dataclass
class EmbeddedServer:
    """A server process we started; `stop()` is idempotent."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    on_stop: list[Callable[[], None]] = field(default_factory=list)

    def stop(self, timeout: float = 15.0) -> None:
        terminate(self.process, self.stop_signal, timeout)
        while self.on_stop:
            self.on_stop.pop()()

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A port free right now; the server binds it a moment later (that race is retried)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def claim_slot(parent: Path, stem: str) -> tuple[Path, IO[str]]:
    """Lock the first free `<parent>/<stem>[-N]`, so concurrent runs (say `run` and `test`
    from one checkout) get separate servers. The lock lives as long as the returned file;
    Python opens it non-inheritable, so it dies with us and not with an orphaned server."""
    parent.mkdir(parents=True, exist_ok=True)
    for i in range(_MAX_SLOTS):
        name = stem if i == 0 else f"{stem}-{i}"
        lock = (parent / f"{name}.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return parent / name, lock
    raise ServerStartError(f"all {_MAX_SLOTS} slots under {parent} are held by other runs")


def kill_orphan(
    pidfile: Path, comm: str, sig: int, timeout: float = 15.0, *, argv_has: bytes | None = None
) -> int | None:
    """Stop a server left running by a run that died without cleaning up; answer its pid,
    or None if there was none.

    Only called while holding the slot lock (or the port the server is for), so a live
    `comm` process named in the pid file — whose command line holds `argv_has`, when
    given — cannot belong to a live run."""
    try:
        pid = int(pidfile.read_text().split()[0])
        alive_comm = Path(f"/proc/{pid}/comm").read_text().strip()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes() if argv_has is not None else b""
    except (OSError, ValueError, IndexError):
        return None
    if alive_comm != comm or (argv_has is not None and argv_has not in argv):
        return None
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
    return pid


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> None:
    """Have the kernel send `sig` to this process when the thread that started it exits,
    even by SIGKILL (Linux). Call it first thing in the child (a preexec_fn, a worker's
    start); with `parent`, a parent already gone by then is noticed too."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, sig)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)


def service_ids(user: str, server: str) -> tuple[int, int] | None:
    """(uid, gid) to run a database server as when we are root (the servers refuse to run as
    root, or should not), creating the system user once; None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        # A concurrent run may create it first; getpwnam below is the real check.
        result = subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user],
            capture_output=True, text=True,
        )  # fmt: skip
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise ServerStartError(
                f"running as root, {server} needs an unprivileged user, but "
                f"`useradd {user}` failed: {result.stderr.strip()}"
            ) from None
    return entry.pw_uid, entry.pw_gid


def check_reachable(path: Path, uid: int, gid: int, user: str, server: str) -> None:
    """Fail clearly when the service user cannot traverse to `path` (e.g. a 0700 home)."""
    for directory in path.parents:
        st = directory.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        else:
            bit = stat.S_IXGRP if st.st_gid == gid else stat.S_IXOTH
        if not st.st_mode & bit:
            raise ServerStartError(
                f"{server} does not run as root, so it runs as {user!r}, which cannot "
                f"enter {directory} (mode {stat.filemode(st.st_mode)}) to reach {path}; "
                f"`chmod o+x {directory}` or choose another root"
            )


def spawn(
    argv: Sequence[str | Path],
    log_path: Path,
    *,
    ids: tuple[int, int] | None = None,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start a server in its own session (a terminal's Ctrl-C goes to the command we wrap,
    not to its database) that is signalled when this thread exits, even by SIGKILL."""

    def preexec() -> None:
        # Runs after subprocess's setuid, which would otherwise clear the setting.
        die_with_parent(death_signal)

    kwargs: dict[str, Any] = {}
    if ids is not None:
        kwargs = {"user": ids[0], "group": ids[1], "extra_groups": []}
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
            **kwargs,
        )


def terminate(proc: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        # The whole session, so no PostgreSQL backend outlives its postmaster.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(server: EmbeddedServer, probe: Callable[[], bool], timeout: float) -> None:
    """Poll `probe` until it succeeds; on failure stop the server and raise with its log."""
    deadline = time.monotonic() + timeout
    while not probe():
        if server.process.poll() is not None:
            problem = f"exited with code {server.process.returncode}"
        elif time.monotonic() > deadline:
            problem = f"did not accept connections within {timeout:g}s"
        else:
            time.sleep(0.05)
            continue
        server.stop()
        raise ServerStartError(
            f"{server.name} {problem}; last lines of {server.log_path}:\n"
            f"{log_tail(server.log_path)}"
        )


def start_on_free_port(
    start_once: Callable[[int], EmbeddedServer], attempts: int = 3
) -> EmbeddedServer:
    """Retry with a new port when another process grabbed ours between pick and bind."""
    for attempt in range(attempts):
        try:
            return start_once(free_port())
        except ServerStartError as err:
            if "already in use" not in str(err) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
