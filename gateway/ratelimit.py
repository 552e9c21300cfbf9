"""Per-client rate limits: a sliding-log window in Redis, shared by every worker and replica.

Algorithm: one sorted set per client key, one member per *allowed* request, scored by the Redis
server's clock in microseconds. A Lua script (one round trip, atomic, EVALSHA with automatic
reload via `register_script`) drops members older than the window, counts the rest, and adds the
new one if there is room. That makes the limit exact: at no instant do more than `requests`
allowed hits lie within any `window_seconds` span, however many processes share the key.

Cost: memory is O(requests) per *active* client (a member is a 16-char nonce plus a score; about
50 B in a listpack up to 128 entries, about 100 B in a skiplist beyond), so a client at the full
600/min officer rate holds about 60 KB. Keys carry a PEXPIRE of one window, so idle clients cost
nothing. For limits in the tens of thousands per window, a two-bucket counter would be cheaper.

Refused requests are not recorded: a client that keeps hammering is let back in as soon as its
oldest allowed hit ages out, rather than locking itself out forever.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis

from gateway.forwarded import well_formed

log = logging.getLogger("gateway.ratelimit")


@dataclass(frozen=True)
class Rate:
    """At most `requests` requests in any sliding span of `window_seconds`."""

    requests: int
    window_seconds: float

    def __post_init__(self) -> None:
        # requests == 0 is allowed: it blocks a client kind outright via configuration.
        if self.requests < 0 or not self.window_seconds > 0:
            raise ValueError(f"invalid rate {self.requests}/{self.window_seconds}")


# Requests per client (not per kind), per minute. GraphQL requests vary in cost; these bound the
# count, so they are set from how each kind uses the hub, with head room for bursts:
RATES_BY_CLIENT: dict[str, Rate] = {
    # Inspectors in the UI: a page fires several queries at once; 10/s sustained is beyond any
    # person, so only runaway scripts or loops hit it.
    "officer": Rate(600, 60.0),
    # Planners draw inspection lists; each request fans out to every department database, so
    # fewer of them than officers.
    "planner": Rate(300, 60.0),
    # Other departments' systems syncing by API key: highest volume, but accountable (one key
    # per contract) and still bounded so one partner cannot saturate department databases.
    "partner": Rate(1200, 60.0),
    # Anonymous, keyed by IP: the only kind anyone can mint at will, so the strictest.
    "public": Rate(60, 60.0),
    # Failed authentication (bad tokens, unknown or wrong API keys) per client address, a
    # bucket of its own: past it, credentials from that address are not even checked (no
    # signature verified, no key looked up) until the failures age out. Generous for people
    # who mistype, tight for anyone guessing keys.
    "auth_failures": Rate(20, 60.0),
}

FAIL_ENV = "HUB_RATE_FAIL"


def parse_rate(text: str) -> Rate:
    """`"120/60"` → Rate(120, 60.0): requests per seconds."""
    requests, sep, seconds = text.strip().partition("/")
    if not sep:
        raise ValueError(f"rate {text!r} is not requests/seconds, e.g. 120/60")
    try:
        return Rate(int(requests), float(seconds))
    except ValueError as e:
        raise ValueError(f"rate {text!r} is not requests/seconds, e.g. 120/60: {e}") from None


def rates_from_env(env: Mapping[str, str] | None = None) -> dict[str, Rate]:
    """The defaults with `HUB_RATE_<KIND>=requests/seconds` overrides; bad values raise at start.

    Only known kinds are read, so `HUB_RATE_FAIL` is never taken for a kind.
    """
    env = os.environ if env is None else env
    rates = dict(RATES_BY_CLIENT)
    for kind in RATES_BY_CLIENT:
        value = env.get(f"HUB_RATE_{kind.upper()}")
        if value:
            rates[kind] = parse_rate(value)
    return rates


def fail_open_from_env(env: Mapping[str, str] | None = None) -> bool:
    """`HUB_RATE_FAIL=open|closed`, default open (see RateLimiter)."""
    env = os.environ if env is None else env
    value = env.get(FAIL_ENV, "open").strip().lower()
    if value not in ("open", "closed"):
        raise ValueError(f"{FAIL_ENV} must be open or closed, not {value!r}")
    return value == "open"


def _ip_bucket(ip: str) -> str:
    canonical = well_formed(ip)
    if canonical is None:
        return ip  # not an address (a test client, a unix socket): key by the text as given
    addr = ipaddress.ip_address(canonical)
    if isinstance(addr, ipaddress.IPv6Address):
        # One host usually owns a whole /64 and can rotate through it at will.
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return canonical


def client_key(kind: str, subject: str | None, api_key_id: str | None, ip: str) -> str:
    """Who a request is counted against: token subject for officers and planners, API key id
    for partners, IP (IPv6 by /64) for the public, and the IP whenever the identity is missing.

    The kind is part of the key so the same subject under two kinds has two budgets.
    """
    if kind in ("officer", "planner") and subject:
        return f"{kind}:sub:{subject}"
    if kind == "partner" and api_key_id:
        return f"{kind}:key:{api_key_id}"
    return f"{kind}:ip:{_ip_bucket(ip)}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # allowed hits left in the window after this one
    retry_after: float  # seconds until a slot frees; 0 when allowed
    degraded: bool  # Redis was unreachable: the answer is the fail-open/closed policy

    @property
    def retry_after_header(self) -> str:
        """`Retry-After` value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


# KEYS[1] = key; ARGV = limit, window in µs, nonce, record (1: count this hit, 0: only look).
# Returns {allowed, remaining, retry µs}.
_SLIDING_LOG = """
if redis.replicate_commands then pcall(redis.replicate_commands) end -- Redis < 5: TIME then write
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  if ARGV[4] == '0' then
    return {1, limit - count, 0}
  end
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
-- Full: a slot frees when the hit that brings the count below the limit ages out.
local retry = window
local hit = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
if hit[2] then
  retry = math.min(window, math.max(1, tonumber(hit[2]) + window - now))
end
return {0, 0, retry}
"""


class RateLimiter:
    """Sliding-window limits in Redis.

    `fail_open` decides what happens when Redis is unreachable. The default is open (allow):
    the limiter guards against overload and abuse, while a Redis outage is our own fault, and the
    hub already treats Redis as optional for reads; refusing everyone would turn a cache outage
    into a full outage for inspectors in the field. Set closed (`HUB_RATE_FAIL=closed`, or per
    call, e.g. for the public only) where unlimited traffic is the bigger danger.

    `timeout` bounds each check in seconds whatever the client's own timeouts and retries; a
    limiter slower than that is worse than none.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str = "hub:rl:",
        fail_open: bool = True,
        *,
        timeout: float | None = 0.25,
        log_every: float = 30.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.fail_open = fail_open
        self.timeout = timeout
        self.log_every = log_every
        # Only hashes the script locally; the first call loads it, EVALSHA reloads after a flush.
        self._script = redis.register_script(_SLIDING_LOG)
        self._last_warning = -math.inf
        self._suppressed = 0

    async def hit(
        self,
        client_key: str,
        rate: Rate,
        *,
        fail_open: bool | None = None,
        record: bool = True,
    ) -> Decision:
        """Count one request for `client_key` (with `record=False` only ask whether one more
        would be allowed); never raises for Redis trouble."""
        window_us = max(1, round(rate.window_seconds * 1_000_000))
        # Random member so hits in the same microsecond from different workers both count; the
        # score already carries the time.
        nonce = os.urandom(8).hex()
        try:
            async with asyncio.timeout(self.timeout):
                allowed, remaining, retry_us = await self._script(
                    keys=[self.prefix + client_key],
                    args=[rate.requests, window_us, nonce, int(record)],
                )
        except Exception as e:  # the limiter is a guard, not a dependency: any failure degrades
            return self._degraded(e, rate, self.fail_open if fail_open is None else fail_open)
        return Decision(bool(allowed), int(remaining), int(retry_us) / 1_000_000, False)

    def _degraded(self, error: Exception, rate: Rate, fail_open: bool) -> Decision:
        now = time.monotonic()
        if now - self._last_warning >= self.log_every:
            log.warning(
                "rate limiter degraded: redis unavailable",
                extra={
                    "reason": f"{type(error).__name__}: {error}",
                    "fail_open": fail_open,
                    "suppressed": self._suppressed,
                },
            )
            self._last_warning = now
            self._suppressed = 0
        else:
            self._suppressed += 1
        if fail_open:
            return Decision(True, rate.requests, 0.0, True)
        # Outages are usually short: ask callers back in a second, not after a whole window.
        return Decision(False, 0, 1.0, True)
