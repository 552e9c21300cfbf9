"""Content hashes of the rows a state change wrote: one canonical serialization per kind of
row, used when an audit entry anchors them and again when verify-audit recomputes them from
the rows as they are now.

A row's hash is sha256(kind + "\\n" + canonical JSON), where the canonical JSON is the row's
listed columns as an object with sorted keys, no spaces, UTF-8: uuids and dates as ISO
strings, times in UTC ISO 8601, bytes in hex, jsonb columns as the JSON they hold (re-sorted),
missing values as null. Kinds and their references:

    task         the task: its definition (title, departments, scope, plan, window, team
                 size, commitment), its status, and once drawn the seed, counts and the
                 frozen snapshot's sha256                                   ref: task id
    form         a merged form's body                                       ref: form hash
    visit        a drawn visit (entity, grade, rank, form, state)           ref: visit id
    team         every assignment of a visit, replaced ones too, by id      ref: visit id
    result       one version of a visit's result, with its outcomes and review
                                                                            ref: visit id/version
    publication  what was published for a visit                            ref: visit id

Only the listed columns count: a column added later is anchored once it is listed here (and
rows anchored before that keep verifying only if the new column is left out of old rows'
serialization — add it with a new kind name when that matters).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import orjson

Refs = Sequence[str] | None  # None: every row of that kind in the task
EVERY: Refs = None


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    columns: tuple[str, ...]
    json_columns: frozenset[str]
    sql: str  # $1 the task id, $2 the refs (text[]) or null for every row of the task
    grouped: bool = False  # several rows make one value (a team), in the SQL's order

    def value(self, row: asyncpg.Record) -> dict[str, Any]:
        return {c: _plain(row[c], c in self.json_columns) for c in self.columns}


def _plain(v: Any, is_json: bool) -> Any:
    if v is None:
        return None
    if is_json:
        return orjson.loads(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, list):
        return [_plain(x, False) for x in v]
    return v


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def row_hash(kind: str, value: Any) -> str:
    return hashlib.sha256(kind.encode() + b"\n" + canonical(value)).hexdigest()


TASK = Kind(
    "task",
    (
        "id",
        "title",
        "lead_department",
        "departments",
        "scope",
        "plan",
        "team_size",
        "window_start",
        "window_end",
        "status",
        "seed",
        "seed_commitment",
        "seed_revealed",
        "created_by",
        "created_at",
        "drawn_at",
        "population",
        "excluded",
        "savings",
        "closed_at",
        "close_reason",
        "snapshot_sha256",
    ),
    frozenset({"scope", "plan", "population", "excluded", "savings"}),
    "SELECT t.*, p.sha256 AS snapshot_sha256, t.id::text AS ref FROM task t"
    " LEFT JOIN task_population p ON p.task_id = t.id"
    " WHERE t.id = $1 AND ($2::text[] IS NULL OR t.id::text = ANY($2))",
)
FORM = Kind(
    "form",
    ("hash", "body"),
    frozenset({"body"}),
    "SELECT f.hash, f.body, f.hash AS ref FROM form f"
    " WHERE f.hash IN (SELECT form_hash FROM visit WHERE task_id = $1)"
    " AND ($2::text[] IS NULL OR f.hash = ANY($2))",
)
VISIT = Kind(
    "visit",
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
    frozenset(),
    "SELECT v.*, v.id::text AS ref FROM visit v"
    " WHERE v.task_id = $1 AND ($2::text[] IS NULL OR v.id::text = ANY($2))",
)
TEAM = Kind(
    "team",
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
        "assigned_at",
        "replaced_at",
        "replaced_by",
        "reason",
    ),
    frozenset(),
    "SELECT a.*, a.visit_id::text AS ref FROM assignment a JOIN visit v ON v.id = a.visit_id"
    " WHERE v.task_id = $1 AND ($2::text[] IS NULL OR a.visit_id::text = ANY($2))"
    " ORDER BY a.visit_id, a.id",
    grouped=True,
)
RESULT = Kind(
    "result",
    (
        "visit_id",
        "version",
        "category",
        "entries",
        "concluded_on",
        "entered_by",
        "entered_at",
        "reviewed_by",
        "reviewed_at",
        "approved",
        "review_comment",
    ),
    frozenset({"entries"}),
    "SELECT r.*, r.visit_id::text || '/' || r.version AS ref FROM result r"
    " JOIN visit v ON v.id = r.visit_id"
    " WHERE v.task_id = $1 AND ($2::text[] IS NULL OR r.visit_id::text || '/' || r.version"
    " = ANY($2))",
)
PUBLICATION = Kind(
    "publication",
    ("visit_id", "task_id", "uscc", "published_on", "deadline", "late", "record"),
    frozenset({"record"}),
    "SELECT p.*, p.visit_id::text AS ref FROM publication p"
    " WHERE p.task_id = $1 AND ($2::text[] IS NULL OR p.visit_id::text = ANY($2))",
)
KINDS: dict[str, Kind] = {k.name: k for k in (TASK, FORM, VISIT, TEAM, RESULT, PUBLICATION)}


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

    def selection(self) -> list[tuple[Kind, Refs]]:
        wanted = [
            (FORM, self.forms),
            (VISIT, self.visits),
            (TEAM, self.teams),
            (RESULT, self.results),
            (PUBLICATION, self.publications),
        ]
        out: list[tuple[Kind, Refs]] = [(TASK, EVERY)] if self.task else []
        return out + [(k, refs) for k, refs in wanted if refs is None or len(refs)]


# Every row of the task: what task-wide changes (create, draw, publish) anchor, and what
# verification recomputes.
WHOLE_TASK = Changed(
    task=True, forms=EVERY, visits=EVERY, teams=EVERY, results=EVERY, publications=EVERY
)


async def hashes(
    conn: asyncpg.Connection | asyncpg.Pool, task_id: uuid.UUID, changed: Changed
) -> dict[tuple[str, str], str]:
    """(kind, ref) -> content hash of the rows `changed` names, as they are now."""
    out: dict[tuple[str, str], str] = {}
    for kind, refs in changed.selection():
        rows = await conn.fetch(kind.sql, task_id, None if refs is None else [str(r) for r in refs])
        if kind.grouped:
            groups: dict[str, list[dict[str, Any]]] = {}
            for r in rows:
                groups.setdefault(r["ref"], []).append(kind.value(r))
            for ref, members in groups.items():
                out[(kind.name, ref)] = row_hash(kind.name, members)
        else:
            for r in rows:
                out[(kind.name, r["ref"])] = row_hash(kind.name, kind.value(r))
    return out


def digest(anchors: dict[tuple[str, str], str]) -> str:
    """One hash over an entry's anchors (sorted [kind, ref, hash] triples): the entry's own
    hash covers this, so an anchor cannot be changed without breaking the chain."""
    return hashlib.sha256(canonical(sorted([k, r, h] for (k, r), h in anchors.items()))).hexdigest()


def label(kind: str, ref: str) -> str:
    """How a verification message names a row."""
    if kind == "result":
        visit, _, version = ref.partition("/")
        return f"result of visit {visit} version {version}"
    if kind == "team":
        return f"team (assignments) of visit {ref}"
    if kind == "publication":
        return f"publication of visit {ref}"
    return f"{kind} {ref}"
