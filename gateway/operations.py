"""What an operation may be, decided before execution: the persisted document a partner must
use, what the public may ask, introspection, and the query limits (depth, aliases, tokens,
cost) — so a refused operation costs nothing downstream."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
)

from adapters.redis_client import RedisUnavailable
from domain.access import ClientKind, Principal
from gateway import inputs
from gateway import limits as limits_mod
from store import access

log = logging.getLogger(__name__)
PUBLIC_ROOT_FIELDS = frozenset(
    {
        "publishedResults",
        "addWorkingDays",
        "auditCheckpoint",
        "auditLogCheckpoint",
        "auditProof",
        "auditLogProof",
        "__typename",
        "drawRecord",
        "commitSeedShare",
        "revealSeedShare",
    }
)
INTROSPECTION = frozenset({"__schema", "__type"})


class Refused(Exception):
    def __init__(self, message: str, code: str, status: int = 200, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extensions = {"code": code, **extensions}

    def error(self) -> GraphQLError:
        return GraphQLError(str(self), extensions=self.extensions)


@dataclass(frozen=True, slots=True)
class Admitted:
    query: str
    document: DocumentNode
    registered: str | None = None  # the name it was registered under, if it was


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    pq = (extensions or {}).get("persistedQuery")
    if not isinstance(pq, dict) or pq.get("sha256Hash") is None:
        return None
    digest = pq["sha256Hash"]
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
        raise Refused(
            "persistedQuery.sha256Hash must be 64 hexadecimal characters", "BAD_REQUEST", 400
        )
    return digest.lower()


async def admit(
    who: Principal,
    query: str | None,
    extensions: dict[str, Any] | None,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    schema: GraphQLSchema,
    store_pool: Any,
    dev_mode: bool,
    redis: Any = None,
) -> Admitted:
    digest = _persisted_hash(extensions)
    registered = None
    if who.kind == ClientKind.PARTNER:
        # Partners run registered operations only, each registered against scopes.
        if digest is None and query:
            digest = access.document_hash(query)
        if digest is None:
            raise Refused(
                "partners send a registered operation's sha256Hash",
                "PERSISTED_OPERATION_REQUIRED",
                403,
            )
        op = await access.operation(store_pool, digest)
        if op is None:
            raise Refused(
                "this operation is not registered for partners",
                "OPERATION_NOT_REGISTERED",
                403,
                sha256Hash=digest,
            )
        missing = set(op["scopes"]) - set(who.scopes)
        if missing:
            raise Refused(
                f"the API key lacks scope(s) {sorted(missing)} for this operation", "FORBIDDEN", 403
            )
        query, registered = op["document"], op["name"]
    elif digest is not None:
        query, registered = await _automatic_persisted(digest, query, store_pool, redis)
    elif not query:
        raise Refused("no GraphQL query in the request", "BAD_REQUEST", 400)
    limits = limits_mod.limits_for(who.kind.value)
    try:
        document = _parse(query, limits)
    except limits_mod.LimitExceeded as e:
        raise Refused(e.message, e.code, limit=e.limit, actual=e.actual) from None
    except GraphQLSyntaxError:
        raise  # answered by the executor as GRAPHQL_PARSE_FAILED
    _check_operation_name(document, operation_name)
    roots = _root_fields(document, operation_name)
    if (
        roots & INTROSPECTION
        and who.kind in (ClientKind.PUBLIC, ClientKind.PARTNER)
        and not dev_mode
    ):
        raise Refused("introspection is off for this client", "INTROSPECTION_DISABLED")
    if who.kind == ClientKind.PUBLIC and roots - PUBLIC_ROOT_FIELDS - (
        INTROSPECTION if dev_mode else frozenset()
    ):
        raise Refused(
            "sign in: without credentials only "
            + ", ".join(sorted(PUBLIC_ROOT_FIELDS - {"__typename"}))
            + " are available",
            "UNAUTHENTICATED",
            401,
        )
    try:
        limits_mod.check(document, schema, variables, operation_name, limits)
    except limits_mod.LimitExceeded as e:
        raise Refused(e.message, e.code, limit=e.limit, actual=e.actual) from None
    if (bad := inputs.refusal(document, schema, variables, operation_name)) is not None:
        raise Refused(str(bad), "BAD_USER_INPUT", **bad.extensions)
    return Admitted(query, document, registered)


def _check_operation_name(document: DocumentNode, operation_name: str | None) -> None:
    """Which operation runs must be clear before anything runs (GraphQL, GetOperation):
    of several, the one named; a name the document lacks is refused, never guessed."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(ops) > 1:
            raise Refused(
                f"the document has {len(ops)} operations: name the one to run in operationName",
                "BAD_REQUEST",
                400,
                reason="OPERATION_NAME_REQUIRED",
            )
    elif not any(o.name and o.name.value == operation_name for o in ops):
        raise Refused(
            f"the document has no operation named {operation_name[:64]!r}",
            "BAD_REQUEST",
            400,
            reason="UNKNOWN_OPERATION",
        )


APQ_PREFIX = "jsh:apq:"
APQ_TTL = 7 * 24 * 3600


async def _automatic_persisted(
    digest: str, query: str | None, store_pool: Any, redis: Any
) -> tuple[str, str | None]:
    """Automatic persisted queries: a client sends the hash alone; the first time, or after
    it expired, it is told PERSISTED_QUERY_NOT_FOUND and sends hash and document together,
    which is then kept in Redis (shared by every worker). Registered operations count too
    (the document, and the name it was registered under)."""
    if query is not None:
        if access.document_hash(query) != digest:
            raise Refused("sha256Hash does not match the query", "PERSISTED_QUERY_HASH_MISMATCH")
        if redis is not None:
            try:
                await redis.set(APQ_PREFIX + digest, query, ex=APQ_TTL)
            except RedisUnavailable:
                pass  # its circuit is open: said once by the breaker
            except Exception as e:
                log.warning("persisted query not kept", extra={"reason": type(e).__name__})
        return query, None
    if redis is not None:
        try:
            cached = await redis.get(APQ_PREFIX + digest)
        except RedisUnavailable:
            cached = None
        except Exception as e:
            log.warning("persisted queries unavailable", extra={"reason": type(e).__name__})
            cached = None
        if cached is not None:
            return (cached.decode() if isinstance(cached, bytes) else cached), None
    if store_pool is not None:
        op = await access.operation(store_pool, digest)
        if op is not None:
            return op["document"], op["name"]
    raise Refused("persisted query not found; send it with its hash", "PERSISTED_QUERY_NOT_FOUND")


@functools.lru_cache(maxsize=512)
def _parse(query: str, limits: limits_mod.Limits) -> DocumentNode:
    """Parsing is the costliest step before execution: the same document parses once."""
    return limits_mod.parse_limited(query, limits)


def _root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        ops = [o for o in ops if o.name and o.name.value == operation_name]
    fields: set[str] = set()
    for op in ops[:1] if not operation_name else ops:
        for sel in op.selection_set.selections:
            if isinstance(sel, FieldNode):
                fields.add(sel.name.value)
            else:
                fields.add("<fragment>")  # root fragments: the public may not use them
    return fields


def is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        ops = [o for o in ops if o.name and o.name.value == operation_name]
    return bool(ops) and ops[0].operation.value == "mutation"


def operation_name(document: DocumentNode) -> str | None:
    """The name of the document's only operation, for metrics and traces."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return ops[0].name.value if len(ops) == 1 and ops[0].name else None
