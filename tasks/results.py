"""Results of joint visits: entry, review (four eyes), publication, and credit feedback.

"Whoever inspects, enters and publishes": a visit's result is entered once for the joint form
by an inspector of the team, reviewed by another person, and on publication becomes one public
record per visit (its deadline on the official calendar) and a credit record at the credit
platform (through the event outbox and the delivery worker, tasks/credit_feedback.py, so a
platform outage loses nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

from domain.vocabulary import InspectionResult
from planning.deadlines import is_late, publication_deadline
from planning.forms import form_from_data
from planning.publication import InspectionRecord, public_record
from planning.results import (
    InvalidTransition,
    Outcome,
    ResultState,
    entry_refusal,
    outcomes_of,
    review_refusal,
    route_outcomes,
    transition,
)
from resolvers.context import RequestContext
from resolvers.errors import ApiError, bad_input
from store import audit, content
from store import tasks as store
from tasks import notices
from tasks.common import (
    INVALID_STATE,
    lock_task,
    lock_visit,
    parse_id,
    person,
    refuse,
    run_command,
)


@dataclass(frozen=True, slots=True)
class EntryInput:
    key: str
    outcome: str
    note: str = ""


def advance(state: str, target: ResultState) -> None:
    """Refuse, with the visit's state, a step the result's life does not allow."""
    try:
        transition(ResultState(state), target)
    except (InvalidTransition, ValueError) as e:
        raise ApiError(str(e), INVALID_STATE, state=state) from None


def drawn_on(task: Any) -> date:
    """The day of the draw, in the hub's time zone (the one `date.today()` uses)."""
    return task["drawn_at"].astimezone().date()


async def record_result(
    ctx: RequestContext,
    visit_ref: str,
    category: str,
    entries: Sequence[EntryInput],
    concluded_on: date,
    key: str | None,
) -> uuid.UUID:
    visit_id = parse_id(visit_ref, "visit")
    if concluded_on > date.today():
        raise bad_input("concludedOn is in the future", "INVALID_DATE")
    data = [{"key": e.key, "outcome": e.outcome, "note": e.note} for e in entries]
    if len({e.key for e in entries}) != len(entries):
        raise bad_input("an entry of the form is given twice", "DUPLICATE_ENTRY")
    payload = {
        "visitId": str(visit_id),
        "category": category,
        "entries": data,
        "concludedOn": concluded_on.isoformat(),
    }

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task, visit = await lock_visit(conn, visit_id)
        team = await store.assignments_of(conn, [visit_id], current_only=True)
        refuse(
            entry_refusal(person(ctx), frozenset(a["department"] for a in team)),
            "results are entered by inspectors of a department on the visit's team",
        )
        if task["status"] != "DRAWN":
            raise ApiError(
                f"task is {task['status']}: results are entered on a drawn task", INVALID_STATE
            )
        advance(visit["state"], ResultState.PENDING_REVIEW)
        if concluded_on < drawn_on(task):
            raise bad_input(
                f"concludedOn {concluded_on} is before the draw ({drawn_on(task)})",
                "INVALID_DATE",
            )
        # Outside the task's window is allowed (a visit that slipped), and flagged.
        outside = not task["window_start"] <= concluded_on <= task["window_end"]
        form = form_from_data(orjson.loads(visit["form"]))
        try:
            route_outcomes(form, outcomes_of(data))
        except ValueError as e:
            raise bad_input(str(e), "RESULT_DOES_NOT_MATCH_FORM") from None
        version = await store.insert_result(
            conn,
            visit_id,
            category,
            data,
            concluded_on,
            ctx.actor,
            ctx.principal.subject,
            ctx.principal.department or "",
            outside,
        )
        await audit.append(
            conn,
            ctx.store.signer,
            task["id"],
            ctx.actor,
            "RESULT_ENTERED",
            {
                "visit": str(visit_id),
                "uscc": visit["uscc"].strip(),
                "version": version,
                "category": category,
                "nonCompliant": sum(1 for e in data if e["outcome"] == Outcome.NON_COMPLIANT),
            },
            content.Changed(visits=[visit_id], results=[content.result_ref(visit_id, version)]),
        )
        await notices.visit_changed(conn, visit_id)
        return {"visitId": str(visit_id)}

    await run_command(ctx, "recordVisitResult", key, payload, work)
    return visit_id


async def review_result(
    ctx: RequestContext, visit_ref: str, approve: bool, comment: str, key: str | None
) -> uuid.UUID:
    visit_id = parse_id(visit_ref, "visit")
    if not approve and not comment.strip():
        raise bad_input("returning a result for correction needs a comment", "COMMENT_REQUIRED")
    payload = {"visitId": str(visit_id), "approve": approve, "comment": comment}

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task, visit = await lock_visit(conn, visit_id)
        target = ResultState.APPROVED if approve else ResultState.RETURNED
        advance(visit["state"], target)
        latest = await store.latest_result(conn, visit_id)
        refuse(
            review_refusal(
                person(ctx),
                latest["entered_subject"],
                latest["entered_department"],
                task["lead_department"],
            ),
            "a result is reviewed by a reviewer of the entering or the lead department, never "
            "by the person who entered it",
        )
        await store.review_result(conn, visit_id, latest["version"], approve, comment, ctx.actor)
        await audit.append(
            conn,
            ctx.store.signer,
            task["id"],
            ctx.actor,
            target.value,
            {
                "visit": str(visit_id),
                "version": latest["version"],
                "comment": comment,
            },
            content.Changed(
                visits=[visit_id], results=[content.result_ref(visit_id, latest["version"])]
            ),
        )
        await notices.visit_changed(conn, visit_id)
        return {"visitId": str(visit_id)}

    await run_command(ctx, "reviewVisitResult", key, payload, work)
    return visit_id


async def publish_results(
    ctx: RequestContext,
    task_ref: str,
    close_unfinished: bool,
    reason: str | None,
    key: str | None,
) -> uuid.UUID:
    task_id = parse_id(task_ref, "task")
    if close_unfinished and not (reason or "").strip():
        raise bad_input("closing a task with unfinished visits needs a reason", "REASON_REQUIRED")
    payload = {"taskId": str(task_id), "closeUnfinished": close_unfinished, "reason": reason}

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task = await lock_task(conn, task_id)
        if task["status"] != "DRAWN":
            raise ApiError(
                f"task is {task['status']}: only a drawn task is published",
                INVALID_STATE,
                status=task["status"],
            )
        visits = await store.visits_of(conn, task_id)
        unfinished = [v for v in visits if v["state"] != "APPROVED"]
        if unfinished and not close_unfinished:
            raise ApiError(
                f"{len(unfinished)} visit(s) lack an approved result; approve them or close "
                "the task with the rest marked (closeUnfinished)",
                "RESULTS_INCOMPLETE",
                pending=len(unfinished),
            )
        if unfinished:
            await conn.execute(
                "UPDATE visit SET state = 'CLOSED_UNFINISHED' WHERE id = ANY($1)",
                [v["id"] for v in unfinished],
            )
        approved = [v for v in visits if v["state"] == "APPROVED"]
        results = await store.latest_results(conn, [v["id"] for v in approved])
        today = date.today()
        calendar = ctx.settings.calendar
        publications, late = [], 0
        for v in approved:
            r = results[v["id"]]
            form = form_from_data(orjson.loads(v["form"]))
            departments = form.departments
            deadline = publication_deadline(calendar, r["concluded_on"])
            was_late = is_late(today, deadline.date)
            late += was_late
            record = public_record(
                InspectionRecord(
                    task_id=str(task_id),
                    task_name=task["title"],
                    uscc=v["uscc"].strip(),
                    entity_name=v["entity_name"] or "",
                    departments=departments,
                    concluded_on=r["concluded_on"],
                    category=InspectionResult(r["category"]),
                    state=ResultState.APPROVED,
                ),
                today,
            )
            public = {
                "taskId": record.task_id,
                "taskTitle": record.task_name,
                "uscc": record.uscc,
                "entityName": record.entity_name,
                "departments": list(record.departments),
                "concludedOn": record.concluded_on.isoformat(),
                "publishedOn": record.published_on.isoformat(),
                "category": record.category.value,
            }
            publications.append(
                (
                    v["id"],
                    task_id,
                    record.uscc,
                    today,
                    deadline.date,
                    was_late,
                    orjson.dumps(public).decode(),
                    deadline.provisional,
                )
            )
        if publications:
            await store.insert_publications(conn, publications)
        await conn.execute(
            "UPDATE task SET status = 'PUBLISHED', closed_at = now(), close_reason = $2"
            " WHERE id = $1",
            task_id,
            reason if unfinished else None,
        )
        await audit.append(
            conn,
            ctx.store.signer,
            task_id,
            ctx.actor,
            "PUBLISHED",
            {
                "published": len(publications),
                "late": late,
                "closedUnfinished": len(unfinished),
                "reason": reason if unfinished else None,
            },
            content.WHOLE_TASK,
        )
        await notices.task_published(conn, task_id)
        return {"taskId": str(task_id)}

    await run_command(ctx, "publishTaskResults", key, payload, work)
    return task_id


def department_view(
    visit_form: dict[str, Any], entries: Sequence[dict[str, Any]], department: str
) -> list[Any]:
    """One department's own items' outcomes, under its own codes and legal bases."""
    routed = route_outcomes(form_from_data(visit_form), outcomes_of(entries))
    return list(routed.get(department, ()))
