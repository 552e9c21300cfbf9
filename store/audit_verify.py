"""Verify a task's audit trail: its chain, the rows its entries anchored (recomputed from the
rows as they are now), its signed checkpoints and those a user kept, and the one log of all
tasks that it is part of. Every problem names the entry or the row concerned."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from store import audit, checkpoints, content
from store.checkpoints import Checkpoint

NO_ANCHORS = hashlib.sha256(b"").hexdigest()  # the digest of an entry that anchored nothing


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    seq: int | None = None  # the entry concerned, when it still exists
    entry: int | None = None  # the broken entry's position in the task's trail (1 = first)


@dataclass
class AuditCheck:
    entries: int = 0
    pre_anchoring: int = 0  # entries written before content hashes and checkpoints existed
    unanchored_rows: int = 0  # rows of a pre-anchoring task no entry has anchored yet
    checkpoint: Checkpoint | None = None  # the latest signed checkpoint of the task's trail
    log_entries: int = 0
    log_checkpoint: Checkpoint | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The earliest problem in the trail (by position), else the first found."""
        placed = [p for p in self.problems if p.entry is not None]
        if placed:
            return min(placed, key=lambda p: p.entry or 0)
        return self.problems[0] if self.problems else None

    @property
    def first_broken_seq(self) -> int | None:
        return self.first.seq if self.first else None

    @property
    def first_broken_entry(self) -> int | None:
        return self.first.entry if self.first else None

    @property
    def reason(self) -> str | None:
        return self.first.message if self.first else None


async def verify(
    pool: asyncpg.Pool | asyncpg.Connection,
    task_id: uuid.UUID,
    trusted: frozenset[str],
    kept: Sequence[Checkpoint] = (),
    whole_log: bool = False,
) -> AuditCheck:
    """Check the task's trail; `kept` are checkpoints a user saved earlier (the task's or the
    log's); `whole_log` walks every entry of the log too (the CLI does; the graph checks the
    log's signed head and this task's place in it)."""
    rows = await audit.trail(pool, task_id)
    check = AuditCheck(entries=len(rows))
    problems = check.problems
    _chain(rows, check)
    anchored = [r["seq"] for r in rows if r["format"] >= audit.ANCHORED]
    anchors = await audit.anchors_of(pool, anchored)
    digests = await content.digests(pool, anchored)
    for i, r in enumerate(rows, start=1):
        if r["format"] >= audit.ANCHORED and digests.get(r["seq"], NO_ANCHORS) != r["content"]:
            problems.append(Problem("its content hashes were altered", r["seq"], i))
    await _contents(pool, task_id, rows, anchors, check)
    scope = str(task_id)
    history = await checkpoints.history(pool, scope)
    check.checkpoint = history[-1] if history else None
    heads, seqs = [r["hash"] for r in rows], [r["seq"] for r in rows]
    if history:
        _covers(heads, seqs, history[-1], trusted, False, problems)
        _first_rewritten(heads, seqs, history, trusted, "the trail", problems)
    elif anchored:
        problems.append(Problem("the trail's signed checkpoints were deleted"))
    for cp in kept:
        if cp.scope == scope:
            _covers(heads, seqs, cp, trusted, True, problems)
    await _log(pool, rows, check, trusted, [k for k in kept if k.scope == checkpoints.LOG])
    if whole_log:
        await _walk_log(pool, trusted, problems)
    return check


def _chain(rows: Sequence[asyncpg.Record], check: AuditCheck) -> None:
    prev = audit.genesis(str(rows[0]["task_id"])) if rows else ""
    anchoring = False
    for i, r in enumerate(rows, start=1):
        seq = r["seq"]
        if r["prev_hash"] != prev:
            check.problems.append(Problem("does not follow the entry before", seq, i))
        elif r["hash"] != audit.stored_entry_hash(r):
            check.problems.append(Problem("content does not match its hash", seq, i))
        if r["format"] >= audit.ANCHORED:
            anchoring = True
            if r["task_index"] != i:
                check.problems.append(
                    Problem(f"was written as entry #{r['task_index']} but stands at #{i}", seq, i)
                )
        else:
            check.pre_anchoring += 1
            if anchoring:
                check.problems.append(
                    Problem("has no content hashes although anchoring had begun", seq, i)
                )
        prev = r["hash"]


async def _contents(
    pool: asyncpg.Pool | asyncpg.Connection,
    task_id: uuid.UUID,
    rows: Sequence[asyncpg.Record],
    anchors: dict[int, dict[tuple[str, str], str]],
    check: AuditCheck,
) -> None:
    """Each row as it is now against what the last entry that wrote it anchored (the problem
    names that entry: the row changed after it, so the entry itself is not broken)."""
    last: dict[tuple[str, str], tuple[int, str]] = {}
    for seq in sorted(anchors):
        for key, h in anchors[seq].items():
            last[key] = (seq, h)
    current = await content.hashes(pool, task_id, content.WHOLE_TASK)
    from_start = bool(rows) and rows[0]["format"] >= audit.ANCHORED
    for (kind, ref), (seq, h) in sorted(last.items(), key=lambda kv: kv[1][0]):
        now = current.get((kind, ref))
        if now is None:
            check.problems.append(
                Problem(
                    f"{content.label(kind, ref)} anchored by entry seq {seq} no longer exists", seq
                )
            )
        elif now != h:
            check.problems.append(
                Problem(f"{content.label(kind, ref)} was altered after entry seq {seq}", seq)
            )
    for kind, ref in sorted(set(current) - set(last)):
        if from_start:
            check.problems.append(
                Problem(
                    f"{content.label(kind, ref)} is in no entry of the trail: written outside "
                    "the hub's commands"
                )
            )
        else:
            check.unanchored_rows += 1


def _covers(
    heads: Sequence[str],
    seqs: Sequence[int],
    cp: Checkpoint,
    trusted: frozenset[str],
    kept: bool,
    problems: list[Problem],
) -> None:
    """The trail against one checkpoint: the store's latest, which covers exactly the trail
    (one is signed with each entry: fewer entries were cut off, more were added without the
    key), or one kept outside the hub, whose entries the store must still hold unchanged."""
    which = "kept checkpoint" if kept else "checkpoint"
    why = cp.valid(trusted)
    if why:
        problems.append(Problem(f"the {which} of the trail (#{cp.count}) {why}"))
        return
    n = len(heads)
    if cp.count > n:
        problems.append(
            Problem(
                f"entry #{n + 1} of the trail is missing: the {which} signed at "
                f"{cp.signed_at} covers {cp.count} entries, the trail has {n}",
                entry=n + 1,
            )
        )
    elif kept and heads[cp.count - 1] != cp.head:
        problems.append(
            Problem(
                f"entry #{cp.count} of the trail (seq {seqs[cp.count - 1]}) or one before it "
                f"differs from the kept checkpoint signed at {cp.signed_at}: the trail was "
                "rewritten",
                seqs[cp.count - 1],
                cp.count,
            )
        )
    elif not kept and cp.count < n:
        k = cp.count + 1
        problems.append(
            Problem(
                f"entry #{k} of the trail and those after it are covered by no signed "
                "checkpoint: appended without the hub's key",
                seqs[k - 1],
                k,
            )
        )


def _first_rewritten(
    heads: Sequence[str],
    seqs: Sequence[int],
    history: Sequence[Checkpoint],
    trusted: frozenset[str],
    what: str,
    problems: list[Problem],
) -> None:
    """The chain's heads against every checkpoint signed along it: the first that disagrees
    names the first rewritten entry (even when every hash after it was recomputed)."""
    in_trail = what == "the trail"
    for cp in history:
        if cp.count <= len(heads) and heads[cp.count - 1] != cp.head:
            k = cp.count
            problems.append(
                Problem(
                    f"entry #{k} of {what} (seq {seqs[k - 1]}) differs from the one signed at "
                    f"{cp.signed_at}: {what} was rewritten from there on"
                    + ("" if cp.valid(trusted) is None else " (that checkpoint is not trusted)"),
                    seqs[k - 1] if in_trail else None,
                    k if in_trail else None,
                )
            )
            return


async def _log(
    pool: asyncpg.Pool | asyncpg.Connection,
    rows: Sequence[asyncpg.Record],
    check: AuditCheck,
    trusted: frozenset[str],
    kept: Sequence[Checkpoint],
) -> None:
    """This task's entries in their places in the log, and the log against its latest signed
    checkpoint: a whole task's trail deleted, or the log cut short, shows here."""
    problems = check.problems
    mine = [r for r in rows if r["format"] >= audit.ANCHORED]
    before = await pool.fetch(
        "SELECT log_index, log_hash FROM audit WHERE log_index = ANY($1)",
        [r["log_index"] - 1 for r in mine],
    )
    prev_of = {r[0] + 1: r[1] for r in before} | {1: audit.LOG_GENESIS}
    for i, r in enumerate(rows, start=1):
        if r["format"] < audit.ANCHORED:
            continue
        if r["log_hash"] != audit.log_hash(r["log_prev"], r["hash"]):
            problems.append(Problem("its place in the whole log was altered", r["seq"], i))
        elif prev_of.get(r["log_index"]) != r["log_prev"]:
            problems.append(
                Problem(
                    f"does not follow log entry #{r['log_index'] - 1}: the log was altered "
                    "before it",
                    r["seq"],
                    i,
                )
            )
    stats = await pool.fetchrow(
        "SELECT count(*) AS n, max(log_index) AS top FROM audit WHERE log_index IS NOT NULL"
    )
    check.log_entries = stats["n"]
    cp = await checkpoints.latest(pool, checkpoints.LOG)
    check.log_checkpoint = cp
    if cp is None:
        if stats["n"]:
            problems.append(Problem("the whole log's signed checkpoints were deleted"))
        return
    for c in (cp, *kept):
        kind = "latest" if c is cp else "kept"
        why = c.valid(trusted)
        if why:
            problems.append(Problem(f"the {kind} checkpoint of the whole log (#{c.count}) {why}"))
            continue
        if stats["n"] < c.count:
            problems.append(
                Problem(
                    f"the whole log has {stats['n']} entries, its {kind} checkpoint signed at "
                    f"{c.signed_at} covers {c.count}: entries were deleted (a task's trail or "
                    "part of one)"
                )
            )
            continue
        head = await pool.fetchval("SELECT log_hash FROM audit WHERE log_index = $1", c.count)
        if head != c.head:
            problems.append(
                Problem(
                    f"log entry #{c.count} differs from the {kind} checkpoint signed at "
                    f"{c.signed_at}: the log was rewritten"
                )
            )
    if (stats["top"] or 0) > cp.count:
        problems.append(
            Problem(f"log entries after #{cp.count} are covered by no signed checkpoint")
        )


async def _walk_log(
    pool: asyncpg.Pool | asyncpg.Connection, trusted: frozenset[str], problems: list[Problem]
) -> None:
    """Every entry of the log in order: nothing missing, each chained to the one before, and
    each head as the checkpoint signed with it says."""
    rows = await pool.fetch(
        "SELECT seq, task_id, hash, log_index, log_prev, log_hash FROM audit"
        " WHERE log_index IS NOT NULL ORDER BY log_index"
    )
    prev = audit.LOG_GENESIS
    for i, r in enumerate(rows, start=1):
        where = f"log entry #{i} (seq {r['seq']}, task {r['task_id']})"
        if r["log_index"] != i:
            problems.append(Problem(f"log entry #{i} is missing (the next is seq {r['seq']})"))
            return
        if r["log_prev"] != prev or r["log_hash"] != audit.log_hash(prev, r["hash"]):
            problems.append(Problem(f"{where} does not chain from the entry before"))
            return
        prev = r["log_hash"]
    history = await checkpoints.history(pool, checkpoints.LOG)
    _first_rewritten(
        [r["log_hash"] for r in rows],
        [r["seq"] for r in rows],
        history,
        trusted,
        "the whole log",
        problems,
    )
