"""Error shaping: every error leaves with a stable code; unexpected ones are masked."""

from __future__ import annotations

from graphql import GraphQLError

from gateway.errors import shape


def test_unexpected_exception_is_masked_with_the_request_id() -> None:
    original = RuntimeError("password=hunter2 at db.internal:5432")
    err = GraphQLError(
        "password=hunter2 at db.internal:5432", original_error=original, path=["entity"]
    )
    shaped = shape(err, "req-42")
    assert shaped.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "hunter2" not in shaped.message and "req-42" in shaped.message
    assert shaped.path == ["entity"]


def test_expected_errors_keep_their_code() -> None:
    err = GraphQLError("bad", extensions={"code": "BAD_USER_INPUT", "reason": "INVALID_USCC"})
    assert shape(err, "r").extensions == {"code": "BAD_USER_INPUT", "reason": "INVALID_USCC"}


def test_parse_and_validation_errors_get_codes() -> None:
    assert shape(GraphQLError("Syntax Error: Expected Name"), "r").extensions == {
        "code": "GRAPHQL_PARSE_FAILED"
    }
    assert shape(GraphQLError("Cannot query field 'x' on type 'Query'."), "r").extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED"
    }
