"""Every error leaves with a stable `extensions.code`; unexpected ones leave masked."""

from __future__ import annotations

import logging

from graphql import GraphQLError

log = logging.getLogger("gateway.errors")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"


def shape(error: GraphQLError, request_id: str) -> GraphQLError:
    """Give an error its code; replace an unexpected exception by a generic message."""
    if (error.extensions or {}).get("code"):
        return error
    original = error.original_error
    if original is None:
        code = PARSE_FAILED if error.message.startswith("Syntax Error") else VALIDATION_FAILED
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    if isinstance(original, GraphQLError) or (
        isinstance(original, ValueError) and error.path is None
    ):
        # Variable coercion and scalar parsing: the client's input was wrong.
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "BAD_USER_INPUT"},
        )
    log.error("unexpected error", exc_info=original, extra={"path": error.path})
    return GraphQLError(
        f"Internal error; quote request id {request_id} when reporting it.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": INTERNAL, "requestId": request_id},
    )


# Codes of errors raised before execution: the operation never ran.
REQUEST_ERRORS = frozenset(
    {
        PARSE_FAILED,
        VALIDATION_FAILED,
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_TOKENS",
        "QUERY_TOO_COMPLEX",
        "BODY_TOO_LARGE",
        "INTROSPECTION_DISABLED",
        "UNAUTHENTICATED",
        "PERSISTED_OPERATION_REQUIRED",
        "OPERATION_NOT_REGISTERED",
        "PERSISTED_QUERY_NOT_FOUND",
        "BAD_REQUEST",
        "PERSISTED_QUERY_HASH_MISMATCH",
        # Without a path: refused at the door (gateway/inputs.py) or variables that do not
        # coerce; a field's bad argument always carries its path and stays an execution error.
        "BAD_USER_INPUT",
    }
)


def is_request_error(error: GraphQLError) -> bool:
    return error.path is None and (error.extensions or {}).get("code") in REQUEST_ERRORS
