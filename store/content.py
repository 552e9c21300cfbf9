"""Content hashes of the rows a state change wrote: one canonical serialization per kind of
row, used when an audit entry anchors them and again when verify-audit recomputes them from
the rows as they are now.

Computed inside PostgreSQL (a draw anchors every one of its visits and teams: tens of
thousands of rows, hashed where they lie, never sent over the wire). A row's hash is

    hex(sha256(kind || "\\n" || the row's listed columns in order, each as
               "<length in characters>:<text>", or "-" when null))

where the text of a date is YYYY-MM-DD, of a time YYYY-MM-DDTHH:MI:SS.ffffff in UTC, of
bytea its hex, of jsonb PostgreSQL's canonical jsonb text, of an array its array literal, of
a boolean true/false; a team is its assignments' texts one after the other, by id. Kinds and
their references:

    task         the task: its definition (title, departments, scope, plan, window, team
                 size, commitment), its status, and once drawn the seed, counts and the
                 frozen snapshot's sha256                                   ref: task id
    form         a merged form's body                                       ref: form hash
    visit        a drawn visit (entity, grade, rank, form, state)           ref: visit id
    team         every assignment of a visit, replaced ones too, by id      ref: visit id
    result       one version of a visit's result, with its outcomes and review
                                                                            ref: visit id/version
    publication  what was published for a visit                            ref: visit id
    repair       a credit-repair application and its decision (in an entity's credit
                 trail)                                                     ref: repair id

Only the listed columns count: a column added later is anchored once it is listed here, and
rows anchored before then stop verifying unless it is left out of their serialization — add
it under a new kind name when that matters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

Refs = Sequence[str | uuid.UUID] | None  # None: every row of that kind in the task
EVERY: Refs = None


def _fields(alias: str, columns: Sequence[str]) -> str:
    """The listed columns ("name", "name:date", "name:time", "name:hex", or "name=expression")
    as one text: each "<length>:<text>", or "-" for null, one after the other."""
    parts = []
    for c in columns:
        name, _, expression = c.partition("=")
        name, _, kind = name.partition(":")
        value = expression or f"{alias}.{name}"
        if kind == "date":
            value = f"to_char({value}, 'YYYY-MM-DD')"
        elif kind == "time":
            value = f"to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        elif kind == "hex":
            value = f"encode({value}, 'hex')"
        else:
            value = f"({value})::text"
        parts.append(f"coalesce(length({value}) || ':' || {value}, '-')")
    return f"concat({', '.join(parts)})"


def _hash(kind: str, text: str) -> str:
    return f"encode(sha256(convert_to('{kind}' || chr(10) || {text}, 'UTF8')), 'hex')"


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    sql: str  # (ref, hash) of the task's rows: $1 the task id, $2 refs (text[]) or null: all


def _kind(name: str, ref: str, source: str, json: str, group: str = "") -> Kind:
    where = f"($2::text[] IS NULL OR {ref} = ANY($2))"
    sql = f"SELECT {ref} AS ref, {_hash(name, json)} AS hash FROM {source} AND {where}{group}"
    return Kind(name, sql)


TASK = _kind(
    "task",
    "t.id::text",
    "task t LEFT JOIN task_population p ON p.task_id = t.id WHERE t.id = $1",
    _fields(
        "t",
        (
            "id",
            "title",
            "lead_department",
            "departments",
            "scope",
            "plan",
            "team_size",
            "window_start:date",
            "window_end:date",
            "status",
            "seed:hex",
            "seed_commitment",
            "seed_revealed",
            "created_by",
            "created_at:time",
            "drawn_at:time",
            "population",
            "excluded",
            "savings",
            "closed_at:time",
            "close_reason",
            "snapshot_sha256=p.sha256",
        ),
    ),
)
FORM = _kind(
    "form",
    "f.hash",
    "form f WHERE f.hash IN (SELECT form_hash FROM visit WHERE task_id = $1)",
    _fields("f", ("hash", "body")),
)
VISIT = _kind(
    "visit",
    "v.id::text",
    "visit v WHERE v.task_id = $1",
    _fields(
        "v",
        (
            "id",
            "task_id",
            "uscc",
            "entity_name",
            "district",
            "kind",
            "industry",
            "grade",
            "rank",
            "form_hash",
            "state",
        ),
    ),
)
TEAM = _kind(
    "team",
    "a.visit_id::text",
    "assignment a JOIN visit v ON v.id = a.visit_id WHERE v.task_id = $1",
    "string_agg("
    + _fields(
        "a",
        (
            "id",
            "visit_id",
            "inspector_id",
            "department",
            "role",
            "wider_pool",
            "rank",
            "seat",
            "origin",
            "assigned_at:time",
            "replaced_at:time",
            "replaced_by",
            "reason",
        ),
    )
    + ", '' ORDER BY a.id)",
    " GROUP BY a.visit_id",
)
RESULT = _kind(
    "result",
    "r.visit_id::text || '/' || r.version",
    "result r JOIN visit v ON v.id = r.visit_id WHERE v.task_id = $1",
    _fields(
        "r",
        (
            "visit_id",
            "version",
            "category",
            "entries",
            "concluded_on:date",
            "entered_by",
            "entered_subject",
            "entered_department",
            "entered_at:time",
            "reviewed_by",
            "reviewed_at:time",
            "approved",
            "review_comment",
            "outside_window",
        ),
    ),
)
PUBLICATION = _kind(
    "publication",
    "p.visit_id::text",
    "publication p WHERE p.task_id = $1",
    _fields(
        "p",
        (
            "visit_id",
            "task_id",
            "uscc",
            "published_on:date",
            "deadline:date",
            "late",
            "record",
            "provisional",
        ),
    ),
)
# An entity's credit trail (tasks/credit_repair.py) anchors its repair applications; its rows
# are the repairs of the entities its entries anchored repairs of (or the refs being anchored).
REPAIR = _kind(
    "repair",
    "c.id::text",
    "credit_repair c WHERE (c.id::text = ANY(coalesce($2::text[], '{}')) OR c.uscc IN ("
    "SELECT r.uscc FROM credit_repair r WHERE r.id::text IN (SELECT an.ref FROM audit a"
    " JOIN audit_anchor an ON an.seq = a.seq WHERE a.task_id = $1 AND an.kind = 'repair')))",
    _fields(
        "c",
        (
            "id",
            "uscc",
            "record_id",
            "record_kind",
            "record_title",
            "publicity_class",
            "decided_on:date",
            "reason",
            "applied_by",
            "applied_subject",
            "applied_department",
            "applied_on:date",
            "review_due:date",
            "review_due_provisional",
            "state",
            "reviewed_by",
            "reviewed_on:date",
            "review_comment",
            "share_by:date",
            "share_by_provisional",
            "created_at:time",
        ),
    ),
)
KINDS: dict[str, Kind] = {k.name: k for k in (TASK, FORM, VISIT, TEAM, RESULT, PUBLICATION, REPAIR)}

# One hash over an entry's anchors: sha256 of "kind ref hash\n" lines in byte order. The
# entry's own hash covers it, so no anchor changes without breaking the chain.
DIGEST = (
    "encode(sha256(convert_to(coalesce(string_agg(kind || ' ' || ref || ' ' || hash || chr(10),"
    " '' ORDER BY kind COLLATE \"C\", ref COLLATE \"C\"), ''), 'UTF8')), 'hex')"
)


def result_ref(visit_id: uuid.UUID | str, version: int) -> str:
    return f"{visit_id}/{version}"


@dataclass(frozen=True, slots=True)
class Changed:
    """The rows a state change wrote, whose content its audit entry anchors: per kind, the
    refs of the rows, or EVERY row of that kind in the task, or none (an empty list)."""

    task: bool = False
    forms: Refs = ()
    visits: Refs = ()
    teams: Refs = ()
    results: Refs = ()
    publications: Refs = ()
    repairs: Refs = ()

    def selection(self) -> list[tuple[Kind, list[str] | None]]:
        wanted = [
            (FORM, self.forms),
            (VISIT, self.visits),
            (TEAM, self.teams),
            (RESULT, self.results),
            (PUBLICATION, self.publications),
            (REPAIR, self.repairs),
        ]
        out: list[tuple[Kind, list[str] | None]] = [(TASK, None)] if self.task else []
        return out + [
            (k, None if refs is None else [str(r) for r in refs])
            for k, refs in wanted
            if refs is None or len(refs)
        ]


# Every row of the task: what task-wide changes (create, draw, publish) anchor, and what
# verification recomputes.
WHOLE_TASK = Changed(
    task=True,
    forms=EVERY,
    visits=EVERY,
    teams=EVERY,
    results=EVERY,
    publications=EVERY,
    repairs=EVERY,
)


async def anchor(conn: asyncpg.Connection, seq: int, task_id: uuid.UUID, changed: Changed) -> str:
    """Store the content hashes of the rows `changed` names, as they now are, under entry
    `seq`; return their digest."""
    for kind, refs in changed.selection():
        await conn.execute(
            "INSERT INTO audit_anchor (seq, kind, ref, hash)"
            f" SELECT $3, '{kind.name}', ref, hash FROM ({kind.sql}) x",
            task_id,
            refs,
            seq,
        )
    return await conn.fetchval(f"SELECT {DIGEST} FROM audit_anchor WHERE seq = $1", seq)


async def hashes(
    conn: asyncpg.Connection | asyncpg.Pool, task_id: uuid.UUID, changed: Changed
) -> dict[tuple[str, str], str]:
    """(kind, ref) -> content hash of the rows `changed` names, as they are now."""
    out: dict[tuple[str, str], str] = {}
    for kind, refs in changed.selection():
        for r in await conn.fetch(kind.sql, task_id, refs):
            out[(kind.name, r["ref"])] = r["hash"]
    return out


async def digests(conn: asyncpg.Connection | asyncpg.Pool, seqs: list[int]) -> dict[int, str]:
    """The digest of each entry's stored anchors."""
    rows = await conn.fetch(
        f"SELECT seq, {DIGEST} AS digest FROM audit_anchor WHERE seq = ANY($1) GROUP BY seq",
        seqs,
    )
    return {r["seq"]: r["digest"] for r in rows}


def label(kind: str, ref: str) -> str:
    """How a verification message names a row."""
    if kind == "result":
        visit, _, version = ref.partition("/")
        return f"result of visit {visit} version {version}"
    if kind == "team":
        return f"team (assignments) of visit {ref}"
    if kind == "publication":
        return f"publication of visit {ref}"
    if kind == "repair":
        return f"credit repair {ref}"
    return f"{kind} {ref}"
