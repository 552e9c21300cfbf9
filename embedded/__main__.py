"""CLI: `python -m embedded exec [--root DIR] -- CMD ARGS...`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from ._process import ServerStartError, die_with_parent
from .services import LOCAL, STARTERS, ensure_services


def _default_root() -> Path:
    """`.hub/` at the root of the checkout this package lives in (it is git-ignored)."""
    checkout = Path(__file__).resolve().parents[1]
    return (checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()) / ".hub"


def _run(cmd: list[str], env: dict[str, str]) -> int:
    """Run cmd like a shell would, so that it, not we, decides how to react to signals."""
    # Ctrl-C already reaches cmd through the terminal's process group: don't die of it
    # before cmd has finished (it may still need the servers to shut down cleanly).
    # A Python handler, unlike SIG_IGN, is not inherited by cmd.
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, lambda signum, frame: None)}
    try:
        try:
            # Killed outright (SIGKILL), we take cmd with us: the servers it uses die with
            # us too, and an orphan would keep its ports.
            parent = os.getpid()
            proc = subprocess.Popen(
                cmd,
                env={**os.environ, **env},
                preexec_fn=lambda: die_with_parent(signal.SIGTERM, parent),
            )
        except OSError as err:
            print(f"embedded: cannot run {cmd[0]}: {err}", file=sys.stderr)
            return 127

        def forward(signum: int, frame: FrameType | None) -> None:
            proc.send_signal(signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, forward)
        returncode = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - returncode if returncode < 0 else returncode


def _origin(var: str, env: dict[str, str], from_env: set[str]) -> str:
    if var in from_env:
        return f"{var} from environment"
    if var in LOCAL and env[var] == LOCAL[var]():
        return f"{var}={env[var]} (running on this machine)"
    return f"{var}={env[var]} (embedded)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    exec_parser = commands.add_parser(
        "exec",
        help="run CMD with DATABASE_URL/MYSQL_URL/REDIS_URL, starting embedded servers if unset",
    )
    exec_parser.add_argument("--root", type=Path, default=None, help="state dir (default .hub/)")
    exec_parser.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    args = parser.parse_args(argv)
    cmd: list[str] = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("exec needs a command: python -m embedded exec -- CMD ARGS...")

    from_env = {var for var in STARTERS if os.environ.get(var)}
    try:
        with ensure_services(args.root or _default_root()) as env:
            # Never echo URLs from the environment: they may hold passwords.
            print(
                "embedded: " + ", ".join(_origin(var, env, from_env) for var in STARTERS),
                file=sys.stderr,
                flush=True,
            )
            return _run(cmd, env)
    except ServerStartError as err:
        print(f"embedded: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
