"""Issue 11, item 6: every malformed request answers a GraphQL-over-HTTP error body (in the
media type the client accepts) with a stable code and the right 4xx — never a 500, never
bare text — and random bytes in any header the hub reads never produce a 5xx."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import auth
from gateway.auth import AuthConfig
from tests.conftest import PLANNER, Hub
from tests.test_guard import _claims

NEW = "application/graphql-response+json"
TWO = "query A { __typename } query B { departments { code } }"

# (method, body, content type, query string) -> (status, code)
MALFORMED = {
    "operationName-number": (
        "POST",
        b'{"query": "{ __typename }", "operationName": 123}',
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
    "operationName-list": (
        "POST",
        json.dumps({"query": TWO, "operationName": ["B"]}).encode(),
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
    "query-object": ("POST", b'{"query": {"a": 1}}', "application/json", "", 400, "BAD_REQUEST"),
    "variables-string": (
        "POST",
        b'{"query": "{ __typename }", "variables": "x"}',
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
    "extensions-list": (
        "POST",
        b'{"query": "{ __typename }", "extensions": []}',
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
    "not-json": ("POST", b"{ __typename }", "application/json", "", 400, "BAD_REQUEST"),
    "bad-utf8": ("POST", b'{"query": "\xff\xfe"}', "application/json", "", 400, "BAD_REQUEST"),
    "json-string": ("POST", b'"{ __typename }"', "application/json", "", 400, "BAD_REQUEST"),
    "json-null": ("POST", b"null", "application/json", "", 400, "BAD_REQUEST"),
    "batch": ("POST", b'[{"query": "{ __typename }"}]', "application/json", "", 400, "BAD_REQUEST"),
    "empty-body": ("POST", b"", "application/json", "", 400, "BAD_REQUEST"),
    "no-query": ("POST", b"{}", "application/json", "", 400, "BAD_REQUEST"),
    "persisted-hash-not-hex": (
        "POST",
        b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x\\u0000"}}}',
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
    "text-plain": (
        "POST",
        b'{"query": "{ __typename }"}',
        "text/plain",
        "",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "no-content-type": (
        "POST",
        b'{"query": "{ __typename }"}',
        "",
        "",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "form": (
        "POST",
        b"query=%7B__typename%7D",
        "application/x-www-form-urlencoded",
        "",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "put": (
        "PUT",
        b'{"query": "{ __typename }"}',
        "application/json",
        "",
        405,
        "METHOD_NOT_ALLOWED",
    ),
    "get-mutation": ("GET", b"", "", "query=mutation%7B__typename%7D", 405, "METHOD_NOT_ALLOWED"),
    "get-variables-not-json": (
        "GET",
        b"",
        "",
        "query=%7B__typename%7D&variables=%7Bnope",
        400,
        "BAD_REQUEST",
    ),
    "two-operations-no-name": (
        "POST",
        json.dumps({"query": TWO}).encode(),
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
    "unknown-operation-name": (
        "POST",
        json.dumps({"query": TWO, "operationName": "C"}).encode(),
        "application/json",
        "",
        400,
        "BAD_REQUEST",
    ),
}


@pytest.mark.parametrize("accept", [NEW, "application/json"])
@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_request_gets_a_graphql_error_body(
    hub: Hub, case: str, accept: str
) -> None:
    method, body, content_type, query, status, code = MALFORMED[case]
    headers = {"accept": accept, **({"content-type": content_type} if content_type else {})}
    r = await hub.client.request(
        method, f"/graphql{'?' + query if query else ''}", content=body, headers=headers
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(accept), r.headers
    answer = r.json()
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] == code, answer
    assert answer["errors"][0]["message"]


async def test_the_named_one_of_two_operations_runs(hub: Hub) -> None:
    r = await hub.client.post("/graphql", json={"query": TWO, "operationName": "B"})
    assert r.status_code == 200 and r.json()["data"]["departments"]


async def test_non_ascii_request_id_is_replaced_by_a_fresh_one(hub: Hub) -> None:
    for sent in (b"\xc3\xa9t\xc3\xa9", b"\xff\xfe", b"a" * 500, b"a b", b"<script>"):
        r = await hub.client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": sent}
        )
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"].isalnum() and len(r.headers["x-request-id"]) == 32
    kept = await hub.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "req-42.a:b"}
    )
    assert kept.headers["x-request-id"] == "req-42.a:b"


def test_jwks_token_naming_a_key_of_another_type_is_refused(tmp_path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys = [
        json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())) | {"kid": "rsa-1"},
        json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key())) | {"kid": "ec-1"},
    ]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys}))
    cfg = AuthConfig.from_env({"HUB_JWKS_FILE": str(tmp_path / "jwks.json")})
    claims = _claims() | {"iss": cfg.issuer, "aud": cfg.audience}
    good = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert auth.verify_token(cfg, good).department == "market"
    crossed = [
        jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "rsa-1"}),
        jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "ec-1"}),
        jwt.encode(claims, "secret-" * 6, algorithm="HS256", headers={"kid": "rsa-1"}),
    ]
    for token in crossed:
        with pytest.raises(auth.AuthError, match=r"key '(rsa|ec)-1' \(\w+\) verifies"):
            auth.verify_token(cfg, token)


READ_HEADERS = [
    "authorization",
    "x-api-key",
    "x-request-id",
    "accept",
    "content-type",
    "content-length",
    "x-forwarded-for",
    "traceparent",
    "origin",
]
# Sometimes a value the hub understands, so the fuzz also gets past the first check.
PLAUSIBLE = {
    "authorization": [PLANNER["authorization"], "Bearer ", "Basic abc"],
    "x-api-key": [f"jsh_{'0' * 12}_{'x' * 32}", "jsh_"],
    "accept": [NEW, "application/json;q=nan", "*/*;q=inf"],
    "content-type": ["application/json", "application/json; charset=latin-1", "multipart/x"],
    "content-length": ["0", "-1", "99999999999999999999", "27"],
    "x-forwarded-for": ["198.51.100.1", "::1, ::1", ","],
    "traceparent": ["00-" + "a" * 32 + "-" + "b" * 16 + "-01"],
}
HEADER_VALUE = {
    name: st.one_of(st.binary(max_size=120), st.sampled_from(PLAUSIBLE.get(name, ["x"])))
    for name in READ_HEADERS
}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(headers=st.fixed_dictionaries({}, optional=HEADER_VALUE))
async def test_request_header_fuzz_never_answers_5xx(hub: Hub, headers: dict[str, bytes]) -> None:
    raw = [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()]
    r = await hub.raw.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers=raw,
    )
    assert r.status_code < 500, (headers, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.json()["errors"][0]["extensions"]["code"], r.text


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_headers_only_fuzz_case_with_an_empty_body(hub: Hub, method: str) -> None:
    """A request whose headers promise a body it does not send."""
    r = await hub.raw.request(
        method,
        "/graphql",
        headers=[
            (b"accept", b"application/json"),
            (b"content-type", b"application/json"),
            (b"content-length", b"40"),
        ],
    )
    assert r.status_code < 500 and r.json()["errors"][0]["extensions"]["code"]
