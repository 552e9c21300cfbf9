"""Issue 11, item 3: rate limits cannot be dodged with X-Forwarded-For, and failed
authentication is limited per client address before any store lookup.

The first two tests run a real uvicorn process (the hole was in the server's own handling of
forwarded headers); the third runs in-process against the real Redis and hub store.
"""

from __future__ import annotations

import uuid

import httpx

from gateway.forwarded import TrustedProxies, client_address
from gateway.ratelimit import Rate
from tests.conftest import token
from tests.test_crash import Server
from tests.test_partial import own_hub, stopped

PUBLIC = {"query": "{ publishedResults(first: 1) { edges { cursor } } }"}


async def _statuses(server: Server, forwarded: list[str]) -> list[int]:
    async with httpx.AsyncClient(timeout=30) as c:
        return [
            (
                await c.post(f"{server.url}/graphql", json=PUBLIC, headers={"x-forwarded-for": f})
            ).status_code
            for f in forwarded
        ]


async def test_forwarded_for_rotation_does_not_bypass_public_limit(prefix, seeded) -> None:
    """No proxy is trusted by default: whatever X-Forwarded-For says, the public bucket is
    the peer's, so rotating the header (garbage or well-formed) buys nothing."""
    server = Server(prefix, HUB_RATE_PUBLIC="5/60", HUB_RATE_PREFIX=f"{prefix}{uuid.uuid4().hex}:")
    await server.start()
    try:
        rotating = [f"not-an-ip-{i}" if i % 2 else f"198.51.100.{i}" for i in range(15)]
        statuses = await _statuses(server, rotating)
    finally:
        await server.stop()
    assert statuses.count(200) == 5 and statuses.count(429) == 10, statuses


async def test_forwarded_for_is_honoured_only_from_trusted_proxies_when_well_formed(
    prefix, seeded
) -> None:
    server = Server(
        prefix,
        HUB_RATE_PUBLIC="3/60",
        HUB_RATE_PREFIX=f"{prefix}{uuid.uuid4().hex}:",
        HUB_TRUSTED_PROXIES="127.0.0.0/8, ::1",
    )
    await server.start()
    try:
        # Two clients behind the trusted proxy: a bucket each.
        first = await _statuses(server, ["198.51.100.1"] * 4)
        second = await _statuses(server, ["198.51.100.2"])
        # Garbage is not an address: the proxy that passed it on is the client, one bucket.
        garbage = await _statuses(server, [f"not-an-ip-{i}" for i in range(6)])
        # Entries left of the one the proxy appended are the client's own words: ignored.
        spoofed = await _statuses(server, [f"203.0.113.{i}, 198.51.100.1" for i in range(3)])
    finally:
        await server.stop()
    assert first == [200, 200, 200, 429]
    assert second == [200]
    assert garbage == [200, 200, 200, 429, 429, 429]
    assert spoofed == [429, 429, 429]


def test_client_address_takes_the_nearest_untrusted_well_formed_hop() -> None:
    proxies = TrustedProxies.parse("10.0.0.0/8, 192.0.2.1")
    assert client_address("203.0.113.5", b"198.51.100.1", proxies) == "203.0.113.5"
    assert client_address("10.1.1.1", b"198.51.100.1", proxies) == "198.51.100.1"
    assert client_address("10.1.1.1", b"6.6.6.6, 198.51.100.1, 10.2.2.2", proxies) == (
        "198.51.100.1"
    )
    assert client_address("10.1.1.1", b"not-an-ip, 10.2.2.2", proxies) == "10.2.2.2"
    assert client_address("10.1.1.1", b"\xff\xfe", proxies) == "10.1.1.1"
    assert client_address("10.1.1.1", b"2001:db8::1", proxies) == "2001:db8::1"
    assert client_address("10.1.1.1", None, proxies) == "10.1.1.1"
    assert client_address("10.1.1.1", b"198.51.100.1", TrustedProxies.parse("")) == "10.1.1.1"


async def test_failed_authentication_is_rate_limited_per_address_before_any_store_lookup(
    settings, prefix
) -> None:
    async with own_hub(settings) as hub:
        hub.app.state.rates["auth_failures"] = Rate(4, 60)
        hub.app.state.rate_limiter.prefix = f"{prefix}{uuid.uuid4().hex}:"
        query = {"query": "{ departments { code } }"}

        async def status(headers: dict[str, str]) -> httpx.Response:
            return await hub.raw.post("/graphql", json=query, headers=headers)

        assert (await hub.client.post("/graphql", json=query)).status_code == 200
        bad_token = {"authorization": "Bearer not.a.token"}
        answers = [await status(bad_token) for _ in range(4)]
        assert [r.status_code for r in answers] == [401] * 4
        refused = await status(bad_token)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # An unknown API key from the same address is refused before the store is asked:
        # with the store down, a lookup would have answered 401 "cannot be checked now".
        async with stopped(f"{prefix}hub"):
            unknown = await status({"x-api-key": f"jsh_{'0' * 12}_{'x' * 32}"})
        assert unknown.status_code == 429, unknown.text
        # A token verified before still passes, and the public's own bucket is untouched;
        # a credential not seen before waits until the failures age out.
        assert (await hub.client.post("/graphql", json=query)).status_code == 200
        assert (await hub.raw.post("/graphql", json=PUBLIC)).status_code == 200
        fresh = {"authorization": f"Bearer {token(sub='another')}"}
        assert (await status(fresh)).status_code == 429
