"""Observers of the seed: parties who take part in a task's seed so that nobody — the hub's
operator included — knows it before the draw (docs/draw-spec.md §1).

A task names its observers when it is created (a department, a citizen supervisor, …). The
planner issues each one a credential (``jso_…``, shown once; only its SHA-256 is kept) and
hands it over; with it the observer needs no hub account. Before the draw every observer
commits to a secret 32-byte share (its SHA-256), then — once all have committed — reveals
the share; the draw waits for every share and uses ``ranking.joint_seed``. The hub's own
share is committed to at creation and revealed by the draw, after the observers' shares.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from adapters.registry import UnknownDepartment
from planning.ranking import SHARE_BYTES, joint_seed
from resolvers.context import RequestContext
from resolvers.errors import ApiError, bad_input
from store import audit, content
from store import tasks as store
from tasks.common import INVALID_STATE, lock_task, parse_id, run_command

KINDS = ("DEPARTMENT", "CITIZEN_SUPERVISOR", "OTHER")
MAX_OBSERVERS = 10
MAX_NAME = 200
CREDENTIAL_PREFIX = "jso_"
FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class ObserverSpec:
    name: str
    kind: str
    department: str | None = None


def validate(ctx: RequestContext, observers: Sequence[ObserverSpec]) -> list[dict[str, Any]]:
    """The observers as stored; a malformed one refuses the whole task."""
    if len(observers) > MAX_OBSERVERS:
        raise bad_input(f"a task names at most {MAX_OBSERVERS} observers", "TOO_MANY_OBSERVERS")
    out = []
    for o in observers:
        name = o.name.strip()
        if not name or len(name) > MAX_NAME:
            raise bad_input(f"an observer's name is 1 to {MAX_NAME} characters", "INVALID_OBSERVER")
        if o.kind not in KINDS:
            raise bad_input(f"observer kind must be one of {', '.join(KINDS)}", "INVALID_OBSERVER")
        if (o.kind == "DEPARTMENT") != (o.department is not None):
            raise bad_input(
                "a department observer names its department, and only it does",
                "INVALID_OBSERVER",
            )
        if o.department is not None:
            try:
                ctx.registry.get(o.department)
            except UnknownDepartment as e:
                raise bad_input(str(e), "UNKNOWN_DEPARTMENT", department=o.department) from None
        out.append({"name": name, "kind": o.kind, "department": o.department})
    return out


async def observers_of(pool: asyncpg.Pool, task_id: uuid.UUID) -> list[Any]:
    return list(await store.observers_of(pool, [task_id]))


def _wait_for(observers: Sequence[Any], column: str, step: str, reason: str) -> None:
    """Refuse a step that needs every observer's ``column``; name those still missing."""
    missing = [o["ordinal"] for o in observers if o[column] is None]
    if missing:
        raise ApiError(
            f"{step}; waiting for observer(s) {', '.join(map(str, missing))}",
            INVALID_STATE,
            reason=reason,
            observers=missing,
        )


def seed_of(task: Any, observers: Sequence[Any]) -> bytes:
    """The seed the task's draw uses; every observer must have revealed a share."""
    _wait_for(
        observers, "share", "every observer reveals a share before the draw", "SHARES_NOT_REVEALED"
    )
    return joint_seed(bytes(task["seed"]), [bytes(o["share"]) for o in observers])


def _digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def _hex32(value: str, what: str) -> bytes:
    text = value.strip().lower()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != SHARE_BYTES or len(text) != 2 * SHARE_BYTES:
        raise bad_input(f"{what} is {SHARE_BYTES} bytes as 64 hex digits", "INVALID_HEX")
    return raw


async def issue_credential(ctx: RequestContext, task_ref: str, ordinal: int) -> str:
    """A fresh credential for one observer (the one issued before stops working)."""
    task_id = parse_id(task_ref, "task")
    credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task = await lock_task(conn, task_id)
        _still_draft(task)
        if not await store.set_observer_credential(conn, task_id, ordinal, _digest(credential)):
            raise bad_input(f"task {task_id} has no observer {ordinal}", "UNKNOWN_OBSERVER")
        await audit.append(
            conn,
            ctx.store.signer,
            task_id,
            ctx.actor,
            "OBSERVER_CREDENTIAL_ISSUED",
            {"observer": ordinal},
            content.Changed(),
        )
        return {}

    # Not idempotent by key: the credential is shown once and never stored to be replayed.
    await run_command(ctx, "issueObserverCredential", None, None, work)
    return credential


def _still_draft(task: Any) -> None:
    if task["status"] != "DRAFT":
        raise ApiError(
            "the seed is fixed once the task is drawn", INVALID_STATE, status=task["status"]
        )


async def _as_observer(
    conn: asyncpg.Connection, task_id: uuid.UUID, credential: str
) -> tuple[Any, Any, list[Any]]:
    """The task, the observer the credential belongs to (both locked), all its observers."""
    task = await lock_task(conn, task_id)
    me = await store.lock_observer(conn, task_id, _digest(credential.strip()))
    if me is None:
        raise ApiError(
            "this credential is not an observer's of this task",
            FORBIDDEN,
            reason="INVALID_CREDENTIAL",
        )
    _still_draft(task)
    return task, me, list(await store.observers_of(conn, [task_id]))


async def commit(ctx: RequestContext, task_ref: str, credential: str, commitment: str) -> int:
    """Record an observer's commitment (SHA-256 of its share, hex); made once."""
    task_id = parse_id(task_ref, "task")
    value = _hex32(commitment, "a commitment").hex()

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        _, me, _ = await _as_observer(conn, task_id, credential)
        if me["commitment"] is not None:
            if me["commitment"] != value:
                raise ApiError(
                    "this observer has committed already; a commitment cannot change",
                    INVALID_STATE,
                    reason="ALREADY_COMMITTED",
                )
            return {"observer": me["ordinal"]}
        await store.commit_share(conn, task_id, me["ordinal"], value)
        await audit.append(
            conn,
            ctx.store.signer,
            task_id,
            f"observer:{me['ordinal']}",
            "SHARE_COMMITTED",
            {"observer": me["ordinal"], "commitment": value},
            content.Changed(),
        )
        return {"observer": me["ordinal"]}

    answer = await run_command(ctx, "commitSeedShare", None, None, work)
    return int(answer["observer"])


async def reveal(ctx: RequestContext, task_ref: str, credential: str, share: str) -> int:
    """Reveal an observer's share, once every observer has committed; it must match."""
    task_id = parse_id(task_ref, "task")
    raw = _hex32(share, "a share")

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        _, me, everyone = await _as_observer(conn, task_id, credential)
        step = "shares are revealed once every observer has committed"
        _wait_for(everyone, "commitment", step, "COMMITMENTS_OPEN")
        if hashlib.sha256(raw).hexdigest() != me["commitment"]:
            raise bad_input("the share does not match this observer's commitment", "SHARE_MISMATCH")
        if me["share"] is None:
            await store.reveal_share(conn, task_id, me["ordinal"], raw)
            await audit.append(
                conn,
                ctx.store.signer,
                task_id,
                f"observer:{me['ordinal']}",
                "SHARE_REVEALED",
                {"observer": me["ordinal"], "share": raw.hex()},
                content.Changed(),
            )
        return {"observer": me["ordinal"]}

    answer = await run_command(ctx, "revealSeedShare", None, None, work)
    return int(answer["observer"])
