"""What the planned executor (execution/executor.py) may run without strawberry, declared here
beside the schema: the async fields it loads a whole level at a time, and the resolvers that
use nothing of `info` but `context` and `path`. Any other resolver that takes `info`, or any
field of an operation outside these, sends the operation to strawberry's executor."""

from __future__ import annotations

from execution.batched import Batched
from schemas.entity import BATCHED as ENTITY_BATCHED
from schemas.entity import CONNECTION_BATCHED

BATCHED: dict[tuple[str, str], Batched] = {
    **{("Entity", name): spec for name, spec in ENTITY_BATCHED.items()},
    **{("EntityConnection", name): spec for name, spec in CONNECTION_BATCHED.items()},
}

# Resolvers that read info.context / info.path only: the executor passes them a small Info.
INFO_CONTEXT_ONLY: frozenset[tuple[str, str]] = frozenset(
    {
        ("Query", "entity"),
        ("Query", "entities"),
        ("Query", "departments"),
        ("Permit", "department"),
        ("Penalty", "department"),
        ("Inspection", "department"),
        ("CreditRecord", "department"),
    }
)
