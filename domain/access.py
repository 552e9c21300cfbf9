"""Who is asking: the principal every request carries, and the roles and scopes it may hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ClientKind(StrEnum):
    OFFICER = "officer"  # a department officer, signed JWT
    PLANNER = "planner"  # the coordinating office, signed JWT with role planner
    PARTNER = "partner"  # an integration partner, API key, registered operations only
    PUBLIC = "public"  # no credential: published results only


class Role(StrEnum):
    OFFICER = "officer"
    INSPECTOR = "inspector"
    REVIEWER = "reviewer"
    PLANNER = "planner"


class Scope(StrEnum):
    """What an API key may read, checked per registered operation."""

    ENTITIES = "entities:read"
    PERMITS = "permits:read"
    PENALTIES = "penalties:read"
    CREDIT = "credit:read"
    RESULTS = "results:read"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: ClientKind
    subject: str  # token subject, API key id, or the client's IP for the public
    department: str | None = None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    name: str | None = None
    claims: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def is_planner(self) -> bool:
        return self.kind == ClientKind.PLANNER

    @property
    def is_department_staff(self) -> bool:
        return self.kind in (ClientKind.OFFICER, ClientKind.PLANNER)

    @property
    def inspector_id(self) -> str | None:
        """An inspector's id in their department's pool: the subject of a department token with
        role inspector (the department's identity provider issues it so)."""
        return self.subject if self.is_department_staff and Role.INSPECTOR in self.roles else None

    def expires_at(self, leeway: float) -> float | None:
        """When the credential stops being valid: a token's exp plus the tolerated clock
        skew; None for what does not expire (API keys, the public)."""
        exp = self.claims.get("exp")
        return float(exp) + leeway if isinstance(exp, int | float) else None

    @property
    def actor(self) -> str:
        """How the audit chain names this principal."""
        dept = f"@{self.department}" if self.department else ""
        return f"{self.kind.value}:{self.subject}{dept}"


PUBLIC = Principal(ClientKind.PUBLIC, "anonymous")
