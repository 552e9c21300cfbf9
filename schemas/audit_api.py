"""The audit log in the graph: a task's trail and its verification (planners), and the
signed checkpoints anyone may read and keep (public, a contract)."""

from __future__ import annotations

from datetime import datetime

import orjson
import strawberry
from strawberry.scalars import JSON

from schemas.permissions import Planner
from store.audit_verify import AuditCheck
from store.checkpoints import Checkpoint
from store.proofs import Proof
from tasks import trail


@strawberry.type(
    description="A signed checkpoint of an audit trail (or of the whole log): the entry count "
    "and the head hash, signed with the hub's Ed25519 key. Keep it: `hub verify-audit TASK "
    "--checkpoint FILE` later proves the trail still holds exactly what it covered."
)
class AuditCheckpoint:
    task_id: strawberry.ID | None = strawberry.field(description="null for the whole log.")
    count: int = strawberry.field(description="Entries covered.")
    head_hash: str = strawberry.field(description="Hash of the last entry covered (hex).")
    signature: str = strawberry.field(description="Ed25519 signature of signedMessage, base64.")
    public_key: str = strawberry.field(
        description="The hub's Ed25519 public key: base64 of its 32 raw bytes (RFC 8032)."
    )
    signed_at: datetime
    signed_message: str = strawberry.field(
        description="The exact text signed: 'jsh-audit-checkpoint v1', then 'scope <task id | "
        "log>', 'count <n>', 'head <hex>', 'signed-at <signedAt>', joined by newlines."
    )

    @classmethod
    def of(cls, cp: Checkpoint | None) -> AuditCheckpoint | None:
        if cp is None:
            return None
        public = cp.public()
        return cls(
            task_id=None if public["taskId"] is None else strawberry.ID(public["taskId"]),
            count=cp.count,
            head_hash=cp.head,
            signature=cp.signature,
            public_key=cp.public_key,
            signed_at=datetime.fromisoformat(cp.signed_at),
            signed_message=cp.message().decode(),
        )


@strawberry.type(
    description="What lets the keeper of a checkpoint check, with SHA-256 alone, that the trail "
    "still holds what it covered: fold the leaves into the kept headHash (head = "
    "sha256(head + leaf) as hex text) and reach the headHash of `checkpoint`, signed with "
    "entry #toCount. From count 0 a task's trail starts at sha256('task:' + taskId), the log "
    "at sha256('jsh-audit-log'). toCount below fromCount: the trail now holds fewer entries."
)
class AuditProof:
    from_count: int
    to_count: int
    leaves: list[str] = strawberry.field(
        description="Entries fromCount+1 … toCount: a trail's leaves (SHA-256 of each entry's "
        "canonical JSON), or the log's entry hashes."
    )
    checkpoint: AuditCheckpoint | None

    @classmethod
    def of(cls, p: Proof | None) -> AuditProof | None:
        if p is None:
            return None
        return cls(
            from_count=p.from_count,
            to_count=p.to_count,
            leaves=p.leaves,
            checkpoint=AuditCheckpoint.of(p.checkpoint),
        )


@strawberry.type
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    detail: JSON
    prev_hash: str
    hash: str
    content_hash: str | None = strawberry.field(
        description="Digest of the content hashes of the rows this change wrote; null for an "
        "entry written before anchoring."
    )


@strawberry.type(description="One thing that does not match, naming the entry or the row.")
class AuditProblem:
    message: str
    seq: int | None = strawberry.field(description="The entry concerned, when it still exists.")
    entry: int | None = strawberry.field(description="Its position in the trail (1 = first).")


@strawberry.type(
    description="Whether the trail is intact: its chain, every row its entries anchored "
    "recomputed from the rows as they are now, its signed checkpoints, and its place in the "
    "whole log. Names the first broken entry."
)
class ChainVerification:
    ok: bool
    entries: int
    first_broken_seq: int | None
    first_broken_entry: int | None
    reason: str | None
    problems: list[AuditProblem]
    pre_anchoring: int = strawberry.field(
        description="Entries written before content hashes and checkpoints (not failures)."
    )
    unanchored_rows: int = strawberry.field(
        description="Rows of a task drawn before anchoring that no entry has anchored yet."
    )
    checkpoint: AuditCheckpoint | None
    log_entries: int
    log_checkpoint: AuditCheckpoint | None

    @classmethod
    def of(cls, check: AuditCheck) -> ChainVerification:
        return cls(
            ok=check.ok,
            entries=check.entries,
            first_broken_seq=check.first_broken_seq,
            first_broken_entry=check.first_broken_entry,
            reason=check.reason,
            problems=[
                AuditProblem(message=p.message, seq=p.seq, entry=p.entry) for p in check.problems
            ],
            pre_anchoring=check.pre_anchoring,
            unanchored_rows=check.unanchored_rows,
            checkpoint=AuditCheckpoint.of(check.checkpoint),
            log_entries=check.log_entries,
            log_checkpoint=AuditCheckpoint.of(check.log_checkpoint),
        )


@strawberry.type
class AuditTrail:
    entries: list[AuditEntry]
    verification: ChainVerification


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=[Planner],
        description="Every state change of a task (or of an entity's credit trail, by its "
        "auditTrailId), hash-chained, and whether the trail is intact.",
    )
    async def audit_trail(self, info: strawberry.Info, task_id: strawberry.ID) -> AuditTrail:
        rows, check = await trail.audit_trail(info.context, task_id)
        return AuditTrail(
            entries=[
                AuditEntry(
                    seq=r["seq"],
                    at=r["at"],
                    actor=r["actor"],
                    action=r["action"],
                    detail=orjson.loads(r["detail"]),
                    prev_hash=r["prev_hash"],
                    hash=r["hash"],
                    content_hash=r["content"],
                )
                for r in rows
            ],
            verification=ChainVerification.of(check),
        )

    @strawberry.field(
        description="The latest signed checkpoint of a task's audit trail (public); null when "
        "the task is unknown or its trail predates signing."
    )
    async def audit_checkpoint(
        self, info: strawberry.Info, task_id: strawberry.ID
    ) -> AuditCheckpoint | None:
        return AuditCheckpoint.of(await trail.checkpoint(info.context, task_id))

    @strawberry.field(
        description="The latest signed checkpoint of the whole log, every task's entries in "
        "one sequence (public): a deleted trail no longer fits it."
    )
    async def audit_log_checkpoint(self, info: strawberry.Info) -> AuditCheckpoint | None:
        return AuditCheckpoint.of(await trail.log_checkpoint(info.context))

    @strawberry.field(
        description="A consistency proof of a task's trail from a kept checkpoint's count "
        "(public): at most `first` entries, walk on from toCount for more."
    )
    async def audit_proof(
        self, info: strawberry.Info, task_id: strawberry.ID, from_count: int, first: int = 500
    ) -> AuditProof | None:
        return AuditProof.of(await trail.proof(info.context, task_id, from_count, first))

    @strawberry.field(
        description="A consistency proof of the whole log from a kept checkpoint's count (public)."
    )
    async def audit_log_proof(
        self, info: strawberry.Info, from_count: int, first: int = 500
    ) -> AuditProof | None:
        return AuditProof.of(await trail.proof(info.context, None, from_count, first))
