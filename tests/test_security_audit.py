"""Issue 11, item 6: graphql-http's `auditServer` (the GraphQL-over-HTTP conformance audit)
scores 61 of 61 "ok" against a real uvicorn process — with a planner's token, and without a
token (the public's rate limit raised above the audit's 61 requests).

The audit's queries introspect (`__type(name: …)`), which the public may do only with
HUB_DEV_MODE=1, as `./hub run` sets it; without it the public is answered
INTROSPECTION_DISABLED, by design. Planners may introspect either way.

graphql-http is installed from the npm registry into .hub/node/ (git-ignored) the first time.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

from adapters.settings import ROOT
from tests.conftest import token
from tests.test_crash import Server

NODE_DIR = ROOT / ".hub" / "node"
PACKAGES = {"graphql-http": "1.23.1", "graphql": "16.15.0"}
SCRIPT = ROOT / "tests" / "node" / "graphql_http_audit.cjs"


def _installed() -> bool:
    for name, version in PACKAGES.items():
        manifest = NODE_DIR / "node_modules" / name / "package.json"
        if not manifest.exists() or json.loads(manifest.read_text())["version"] != version:
            return False
    return True


def _install() -> None:
    if _installed():
        return
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    (NODE_DIR / "package.json").write_text('{"name": "jsh-test-node", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
        + [f"{name}@{version}" for name, version in PACKAGES.items()],
        cwd=NODE_DIR,
        check=True,
        timeout=300,
    )


def _audit(url: str, bearer: str | None) -> list[dict]:
    out = subprocess.run(
        ["node", str(SCRIPT), url, *([bearer] if bearer else [])],
        env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


async def test_graphql_http_audit_scores_61_of_61(prefix, seeded) -> None:
    _install()
    server = Server(
        prefix,
        HUB_DEV_MODE="1",
        HUB_RATE_PUBLIC="200/60",
        HUB_RATE_PREFIX=f"{prefix}{uuid.uuid4().hex}:",
    )
    await server.start()
    try:
        for who, bearer in (("planner", token()), ("public", None)):
            results = _audit(f"{server.url}/graphql", bearer)
            not_ok = [r for r in results if r["status"] != "ok"]
            assert len(results) == 61, (who, len(results))
            assert not not_ok, (who, json.dumps(not_ok, ensure_ascii=False, indent=1))
    finally:
        await server.stop()
