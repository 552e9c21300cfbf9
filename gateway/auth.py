"""Who is calling: signed JWTs for officers and planners, API keys for partners, nobody for the
public. Every failure is a 401 with a reason the caller can act on."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from domain.access import PUBLIC, ClientKind, Principal, Role

ALGORITHMS = ("HS256", "RS256", "ES256")
MAX_LEEWAY = 300  # seconds of clock skew tolerated at most, whatever is configured


class AuthError(Exception):
    code = "UNAUTHENTICATED"

    def __init__(self, reason: str, *, caller_fault: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        # False when the credential could not be checked for a reason of ours (the store is
        # down): such failures do not count against the caller's failed-authentication limit.
        self.caller_fault = caller_fault


@dataclass(frozen=True, slots=True)
class AuthConfig:
    issuer: str
    audience: str
    leeway: int = 30
    hs256_secret: str | None = None  # the demo's shared secret
    public_keys: dict[str, list[Any]] = field(default_factory=dict)  # alg -> keys (PEM)
    jwks: jwt.PyJWKSet | None = None
    dev_mode: bool = False  # introspection for partners and the public

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AuthConfig:
        env = dict(os.environ if env is None else env)
        keys: dict[str, list[Any]] = {}
        for alg, var in (
            ("RS256", "HUB_JWT_RS256_PUBLIC_KEY"),
            ("ES256", "HUB_JWT_ES256_PUBLIC_KEY"),
        ):
            if env.get(var):
                keys[alg] = [Path(env[var]).read_text()]
        jwks = None
        if env.get("HUB_JWKS_FILE"):
            jwks = jwt.PyJWKSet.from_dict(json.loads(Path(env["HUB_JWKS_FILE"]).read_text()))
        return cls(
            issuer=env.get("HUB_JWT_ISSUER", "joint-supervision-hub"),
            audience=env.get("HUB_JWT_AUDIENCE", "jsh-api"),
            leeway=min(int(env.get("HUB_JWT_LEEWAY", "30")), MAX_LEEWAY),
            hs256_secret=env.get("HUB_JWT_SECRET") or None,
            public_keys=keys,
            jwks=jwks,
            dev_mode=env.get("HUB_DEV_MODE", "") in ("1", "true", "yes"),
        )


def _key_for(cfg: AuthConfig, header: dict[str, Any]) -> tuple[str, Any]:
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise AuthError(f"token algorithm {alg!r} is not accepted ({', '.join(ALGORITHMS)})")
    kid = header.get("kid")
    if cfg.jwks is not None and kid:
        for k in cfg.jwks.keys:
            if k.key_id == kid:
                # A key verifies tokens of its own algorithm only: an RSA key offered to an
                # ES256 or HS256 token is a forgery attempt (or a broken issuer), not a 500.
                if k.algorithm_name != alg:
                    raise AuthError(
                        f"key {kid!r} ({k.key_type}) verifies {k.algorithm_name} tokens;"
                        f" this one is signed with {alg}"
                    )
                return alg, k.key
        raise AuthError(f"unknown key id {kid!r}")
    if alg == "HS256":
        if not cfg.hs256_secret:
            raise AuthError("HS256 tokens are not accepted here")
        return alg, cfg.hs256_secret
    keys = cfg.public_keys.get(alg)
    if not keys:
        raise AuthError(f"no public key configured for {alg}")
    return alg, keys[0]


ROLES = frozenset(Role)


def known_roles(roles: object) -> list[str]:
    """The roles of a token: at least one, each known. A token naming none, or one this
    hub does not know, was issued for something else; it is never read as an officer's."""
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthError("'roles' must be a list of strings")
    if not roles:
        raise AuthError(f"token names no role (one of {', '.join(sorted(ROLES))})")
    unknown = sorted(set(roles) - ROLES)
    if unknown:
        raise AuthError(
            f"token names unknown role(s) {unknown} (known: {', '.join(sorted(ROLES))})"
        )
    return roles


def verify_token(cfg: AuthConfig, token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise AuthError("malformed token") from None
    alg, key = _key_for(cfg, header)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=cfg.audience,
            issuer=cfg.issuer,
            leeway=cfg.leeway,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.ImmatureSignatureError:
        raise AuthError("token not valid yet") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"token is not for this audience (expected {cfg.audience!r})") from None
    except jwt.InvalidIssuerError:
        raise AuthError(f"token issuer is not {cfg.issuer!r}") from None
    except jwt.MissingRequiredClaimError as e:
        raise AuthError(f"token lacks the {e.claim!r} claim") from None
    except jwt.InvalidSignatureError:
        raise AuthError("token signature does not verify") from None
    except (jwt.InvalidTokenError, jwt.InvalidKeyError) as e:
        raise AuthError(f"invalid token: {e}") from None
    except (TypeError, ValueError):  # a key the library cannot use for this token
        raise AuthError(f"token cannot be verified with the configured {alg} key") from None
    dept = claims.get("dept")
    if not isinstance(dept, str) or not dept:
        raise AuthError("token lacks the 'dept' claim")
    if "roles" not in claims:
        raise AuthError("token lacks the 'roles' claim")
    roles = known_roles(claims["roles"])
    kind = ClientKind.PLANNER if Role.PLANNER in roles else ClientKind.OFFICER
    return Principal(
        kind, str(claims["sub"]), dept, frozenset(roles), name=claims.get("name"), claims=claims
    )


def issue_token(
    cfg: AuthConfig,
    subject: str,
    department: str,
    roles: list[str],
    ttl: int = 8 * 3600,
    name: str | None = None,
) -> str:
    """An HS256 token with the configured secret (the demo's; production uses its IdP)."""
    if not cfg.hs256_secret:
        raise AuthError("no HS256 secret configured (HUB_JWT_SECRET)")
    known_roles(roles)
    now = int(time.time())
    claims = {
        "iss": cfg.issuer,
        "aud": cfg.audience,
        "sub": subject,
        "iat": now,
        "exp": now + ttl,
        "dept": department,
        "roles": roles,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, cfg.hs256_secret, algorithm="HS256")


def bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def public(ip: str) -> Principal:
    return Principal(PUBLIC.kind, ip or "unknown")
