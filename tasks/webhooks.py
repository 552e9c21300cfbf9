"""Signed webhooks to department systems: registration, the signature, and the delivery of one
outbox event to one receiver.

Each POST carries the event as JSON and

    X-Hub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
    X-Hub-Event: <kind>          X-Hub-Delivery: <event id>   (the same on every retry)

A receiver recomputes the HMAC over the raw body with its secret, compares in constant time,
and refuses a timestamp more than five minutes away (a captured request cannot be replayed
later); it drops an event id it has already processed (delivery is at least once).

The receiver needs the secret to verify, so the hub must be able to read it too: it is kept
encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under a key that is not in the database
(HUB_WEBHOOK_KEY), and shown once, at registration.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from store import webhooks as store
from store.deliveries import Delivery
from store.events import Kind
from tasks.delivery import DeliveryFailed

SIGNATURE_HEADER = "X-Hub-Signature"
TOLERANCE = 300  # seconds a receiver accepts between the signature's time and its clock
DEFAULT_KEY_FILE = Path(__file__).resolve().parent.parent / ".hub" / "webhook.key"


class WebhookError(ValueError):
    """A registration refused; `reason` is stable."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = TOLERANCE) -> bool:
    """What a receiver does (the README has the same in a few lines of standard library)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class SecretBox:
    """Seals signing secrets with the key(s) in HUB_WEBHOOK_KEY (comma-separated Fernet keys:
    the first seals, any opens, so a key can be rotated), else with a key file created on
    first use (HUB_WEBHOOK_KEY_FILE, by default .hub/webhook.key, mode 0600)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SecretBox:
        env = dict(os.environ if env is None else env)
        if env.get("HUB_WEBHOOK_KEY"):
            return cls([k.strip().encode() for k in env["HUB_WEBHOOK_KEY"].split(",") if k])
        path = Path(env.get("HUB_WEBHOOK_KEY_FILE") or DEFAULT_KEY_FILE)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(Fernet.generate_key())
            except FileExistsError:
                pass  # another process made it first
        return cls([path.read_bytes().strip()])

    def seal(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(sealed)).decode()
        except InvalidToken:
            raise DeliveryFailed("the webhook's secret does not open with the key") from None


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError(f"{url!r} is not an http(s) URL", "INVALID_URL")
    if parts.username or parts.password:
        raise WebhookError("credentials do not belong in a webhook URL", "INVALID_URL")
    return url


def check_kinds(kinds: Sequence[str]) -> list[str]:
    known = {k.value for k in Kind}
    wrong = sorted(set(kinds) - known)
    if not kinds or wrong:
        raise WebhookError(
            f"event kinds must be among {sorted(known)} (got {wrong or 'none'})", "UNKNOWN_KIND"
        )
    return sorted(set(kinds))


async def register(
    pool: asyncpg.Pool,
    box: SecretBox,
    departments: Sequence[str],
    department: str,
    url: str,
    kinds: Sequence[str],
    actor: str,
) -> tuple[asyncpg.Record, str]:
    """A new webhook and its signing secret (shown to the caller once, stored sealed)."""
    if department not in departments:
        raise WebhookError(f"unknown department {department!r}", "UNKNOWN_DEPARTMENT")
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = await store.insert(
        pool, department, check_url(url), check_kinds(kinds), box.seal(secret), actor
    )
    return row, secret


class WebhookSender:
    """Delivers one event to one webhook (the worker's handler for "webhook:<id>")."""

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        box: Callable[[], SecretBox] = SecretBox.from_env,
        timeout: float = 5.0,
    ) -> None:
        """`box` is made at the first delivery: a hub with no webhooks needs no key."""
        self._pool = pool
        self._make_box = box
        self._box: SecretBox | None = None
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def _secret(self, sealed: bytes) -> str:
        if self._box is None:
            try:
                self._box = self._make_box()
            except (OSError, ValueError) as e:
                raise DeliveryFailed(f"no usable webhook key (HUB_WEBHOOK_KEY): {e}") from None
        return self._box.open(sealed)

    async def close(self) -> None:
        await self._client.aclose()

    async def __call__(self, d: Delivery) -> None:
        hook = await store.get(self._pool(), uuid.UUID(d.consumer.split(":", 1)[1]))
        if hook is None or hook["removed_at"] is not None:
            raise DeliveryFailed("webhook removed", final=True)
        body = orjson.dumps(d.event.envelope())
        headers = {
            "content-type": "application/json",
            "user-agent": "joint-supervision-hub",
            "x-hub-event": d.event.kind.value,
            "x-hub-delivery": str(d.event.id),
            SIGNATURE_HEADER.lower(): sign(self._secret(hook["secret"]), body, int(time.time())),
        }
        try:
            r = await self._client.post(hook["url"], content=body, headers=headers)
        except httpx.HTTPError as e:
            raise DeliveryFailed(f"{type(e).__name__} posting to {hook['url']}") from None
        if not 200 <= r.status_code < 300:
            raise DeliveryFailed(f"HTTP {r.status_code} from {hook['url']}")


def describe(row: Any) -> dict[str, Any]:
    """A webhook as listed (never its secret)."""
    return {
        "id": str(row["id"]),
        "department": row["department"],
        "url": row["url"],
        "kinds": list(row["kinds"]),
        "createdBy": row["created_by"],
        "createdAt": row["created_at"].isoformat(),
    }
