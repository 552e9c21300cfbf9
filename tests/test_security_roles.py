"""Issue 11, item 7: a token whose `roles` are missing, empty or unknown is refused (401 with
a reason), never taken for an officer's."""

from __future__ import annotations

import jwt
import pytest

from gateway.auth import AuthError, issue_token
from tests.conftest import AUTH, Hub
from tests.test_guard import _claims


@pytest.mark.parametrize(
    ("roles", "reason"),
    [
        (None, "lacks the 'roles' claim"),
        ([], "names no role"),
        (["admin"], "unknown role(s) ['admin']"),
        (["officer", "superuser"], "unknown role(s) ['superuser']"),
        ("planner", "'roles' must be a list of strings"),
    ],
    ids=["missing", "empty", "unknown", "one-unknown", "not-a-list"],
)
async def test_token_without_known_roles_is_refused(hub: Hub, roles, reason) -> None:
    signed = jwt.encode(
        _claims(roles=roles), AUTH.hs256_secret, algorithm="HS256"
    )  # None: no claim
    r = await hub.raw.post(
        "/graphql",
        json={"query": "{ departments { code } }"},
        headers={"authorization": f"Bearer {signed}"},
    )
    assert r.status_code == 401, r.text
    error = r.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in error["message"], error["message"]


def test_tokens_are_not_issued_with_unknown_roles() -> None:
    with pytest.raises(AuthError, match="unknown role"):
        issue_token(AUTH, "x", "market", ["root"])
