"""The door: credentials refused with reasons, partners held to registered operations,
limits enforced before any SQL, rate limits shared by worker processes, the access log."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys
import time
import uuid

import httpx
import jwt
import pytest

from gateway import auth
from gateway.auth import AuthConfig, issue_token
from gateway.guard import Guard
from store import access
from tests.conftest import ADMIN_URL, AUTH, REDIS_URL, Hub, token

Q = "{ departments { code } }"


async def _status(hub: Hub, headers: dict[str, str], body: dict | None = None) -> tuple[int, dict]:
    r = await hub.raw.post("/graphql", json=body or {"query": Q}, headers=headers)
    return r.status_code, r.json()


def _claims(**over: object) -> dict:
    now = int(time.time())
    base = {
        "iss": AUTH.issuer,
        "aud": AUTH.audience,
        "sub": "x",
        "iat": now,
        "exp": now + 600,
        "dept": "market",
        "roles": ["officer"],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda: jwt.encode(_claims(), "not-the-secret" * 3, algorithm="HS256"),
            "signature does not verify",
        ),
        (
            lambda: jwt.encode(
                _claims(exp=int(time.time()) - 3600), AUTH.hs256_secret, algorithm="HS256"
            ),
            "expired",
        ),
        (
            lambda: jwt.encode(_claims(aud="another-api"), AUTH.hs256_secret, algorithm="HS256"),
            "audience",
        ),
        (
            lambda: jwt.encode(_claims(iss="someone-else"), AUTH.hs256_secret, algorithm="HS256"),
            "issuer",
        ),
        (lambda: jwt.encode(_claims(dept=None), AUTH.hs256_secret, algorithm="HS256"), "dept"),
        (lambda: jwt.encode(_claims(), None, algorithm="none"), "algorithm"),
        (lambda: "not.a.token", "malformed"),
    ],
    ids=["forged", "expired", "wrong-audience", "wrong-issuer", "no-dept", "alg-none", "garbage"],
)
async def test_bad_tokens_are_refused_with_a_reason(hub: Hub, make, reason) -> None:
    status, body = await _status(hub, {"authorization": f"Bearer {make()}"})
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in body["errors"][0]["message"]


async def test_clock_skew_is_tolerated_within_the_leeway(hub: Hub) -> None:
    skewed = jwt.encode(
        _claims(iat=int(time.time()) + 10, nbf=int(time.time()) + 10),
        AUTH.hs256_secret,
        algorithm="HS256",
    )
    status, _ = await _status(hub, {"authorization": f"Bearer {skewed}"})
    assert status == 200


def test_rs256_public_key_configuration(tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from gateway.auth import verify_token

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "pub.pem").write_bytes(pem)
    cfg = AuthConfig.from_env({"HUB_JWT_RS256_PUBLIC_KEY": str(tmp_path / "pub.pem")})
    signed = jwt.encode(
        _claims(roles=["planner"]) | {"iss": cfg.issuer, "aud": cfg.audience},
        private,
        algorithm="RS256",
    )
    who = verify_token(cfg, signed)
    assert who.is_planner and who.department == "market"


async def test_revoked_key_and_unregistered_operation_are_refused(hub: Hub) -> None:
    pool = hub.app.state.store.pool
    key = await access.create_key(pool, "portal (test)", ["results:read"])
    registered = "{ publishedResults(first: 1) { edges { node { uscc } } } }"
    digest = await access.register_operation(pool, "latest", registered, ["results:read"])
    ok, body = await _status(
        hub,
        {"x-api-key": key},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
    )
    assert ok == 200 and "errors" not in body
    status, body = await _status(hub, {"x-api-key": key}, {"query": Q})
    assert status == 403
    assert body["errors"][0]["extensions"]["code"] == "OPERATION_NOT_REGISTERED"
    needs = await access.register_operation(pool, "needs credit", Q + " ", ["credit:read"])
    status, body = await _status(
        hub,
        {"x-api-key": key},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": needs}}},
    )
    assert status == 403 and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await access.revoke_key(pool, key.split("_")[1])
    status, body = await _status(hub, {"x-api-key": key})
    assert status == 401 and body["errors"][0]["message"] == "API key revoked"
    status, body = await _status(hub, {"x-api-key": key[:-2] + "zz"})
    assert status == 401


async def test_public_gets_published_results_only_and_no_introspection(hub: Hub) -> None:
    status, body = await _status(hub, {})
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, body = await _status(hub, {}, {"query": "{ __schema { types { name } } }"})
    assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    status, body = await _status(hub, {}, {"query": "{ publishedResults { edges { cursor } } }"})
    assert status == 200 and "errors" not in body


DEEP = (
    "{ __schema { types { fields { type " + "{ ofType " * 14 + "{ name }" + " }" * 14 + " } } } }"
)
_SPREADS = " ".join(f'e{i}: entity(uscc: "914403001922038216") {{ ...F }}' for i in range(8))
ALIASED = "fragment F on Entity { a: name b: name c: name d: name e: name } { " + _SPREADS + " }"
COSTLY = (
    "{ entities(first: 100) { edges { node { permits { id department { checklistItems "
    "{ code } } } penalties { id } creditRecords { id } } } } }"
)


@pytest.mark.parametrize(
    ("who", "query", "code"),
    [
        ("officer", DEEP, "QUERY_TOO_DEEP"),
        ("officer", ALIASED, "TOO_MANY_ALIASES"),
        ("officer", COSTLY, "QUERY_TOO_COMPLEX"),
        ("officer", "{ " + "departments { code } " * 2000 + "}", "TOO_MANY_TOKENS"),
    ],
)
async def test_limits_refuse_before_any_sql(hub: Hub, who, query, code) -> None:
    headers = {} if who == "public" else {"authorization": f"Bearer {token('fire', ('officer',))}"}
    before = sum(hub.registry.statements().values())
    _, body = await _status(hub, headers, {"query": query})
    assert body["errors"][0]["extensions"]["code"] == code
    assert body.get("data") is None
    assert sum(hub.registry.statements().values()) == before, "no statement ran"
    # …and the service keeps answering others meanwhile.
    ok, _ = await _status(hub, {"authorization": f"Bearer {token()}"})
    assert ok == 200


async def test_oversized_body_is_refused(hub: Hub) -> None:
    status, body = await _status(
        hub,
        {},
        {"query": "{ publishedResults { edges { cursor } } }", "variables": {"pad": "x" * 40_000}},
    )
    assert status == 413 and body["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"


async def test_reads_are_in_the_access_log(hub: Hub, seeded) -> None:
    officer = {"authorization": f"Bearer {token('fire', ('officer',), sub='reader-7')}"}
    await hub.gql(
        "query($u:String!){ entity(uscc:$u){ name permits { id } } }",
        {"u": seeded.sample_uscc},
        headers=officer,
    )
    body = await hub.gql(
        "query($u: String!) { accessLog(uscc: $u, first: 50) { subject "
        "readerDepartment entities departments clientKind } }",
        {"u": seeded.sample_uscc},
    )
    mine = [e for e in body["data"]["accessLog"] if e["subject"] == "reader-7"]
    assert mine and mine[0]["readerDepartment"] == "fire"
    assert seeded.sample_uscc in mine[0]["entities"]
    assert {"market", "fire", "ecology"} <= set(mine[0]["departments"])
    other = await hub.gql('{ accessLog(department: "market") { at } }', headers=officer)
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_rate_limit_holds_across_two_worker_processes(prefix, seeded) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": ADMIN_URL,
        "REDIS_URL": REDIS_URL,
        "HUB_DB_PREFIX": prefix,
        "HUB_JWT_SECRET": AUTH.hs256_secret or "",
        "HUB_RATE_PUBLIC": "12/60",
        "HUB_LOG_LEVEL": "WARNING",
    }
    # A key prefix of its own, so that this test's window starts empty.
    env["HUB_RATE_PREFIX"] = f"{prefix}{uuid.uuid4().hex[:6]}:"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                async with httpx.AsyncClient() as c:
                    if (await c.get(f"{url}/healthz")).status_code == 200:
                        break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        body = {"query": "{ publishedResults(first: 1) { edges { cursor } } }"}

        async def one() -> httpx.Response:
            # A fresh connection each time, so that both workers take requests.
            async with httpx.AsyncClient() as c:
                return await c.post(f"{url}/graphql", json=body)

        answers = await asyncio.gather(*(one() for _ in range(30)))
        allowed = [r for r in answers if r.status_code == 200]
        refused = [r for r in answers if r.status_code == 429]
        assert len(allowed) == 12 and len(refused) == 18, [
            (r.status_code, r.text[:200]) for r in answers
        ]
        assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
        assert refused[0].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_kept_verification_ends_when_the_token_expires() -> None:
    """Verified tokens are kept to spare the signature check, never past their expiry."""
    strict = dataclasses.replace(AUTH, leeway=0)
    guard = Guard(app=None)  # type: ignore[arg-type]
    short = issue_token(strict, "brief", "market", ["planner"], ttl=1)
    assert guard._verify(strict, short).subject == "brief"
    assert guard._verify(strict, short).subject == "brief"  # kept
    await asyncio.sleep(2.1)
    with pytest.raises(auth.AuthError, match="expired"):
        guard._verify(strict, short)
