"""The case page's forms: reply on a chosen channel, note, call back, wrap up, assign, merge."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response

from carepath.access import Permission, authorize, scoped
from carepath.actions import do_merge_customers, do_unmerge_customers
from carepath.actions.agent_callbacks import do_request_case_callback
from carepath.actions.cases import (
    CaseChanges,
    do_add_note,
    do_assign_case,
    do_reply,
    do_resolve_case,
    do_update_case,
)
from carepath.domain.cases import validate_intent
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput, NotFound
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, see_other

router = APIRouter(prefix="/app/cases", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
Text = Annotated[str, Form(min_length=1, max_length=20_000)]


class Outcome(enum.StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"


def _back(case_id: str) -> Response:
    return see_other(f"/app/cases/{case_id}")


@router.post("/{case_id}/reply")
async def reply(
    case_id: str, db: DB, viewer: CurrentViewer, text: Text, channel: Annotated[Channel, Form()]
) -> Response:
    await do_reply(db, viewer.principal, case_id, text=text, channel=channel)
    return _back(case_id)


@router.post("/{case_id}/note")
async def note(case_id: str, db: DB, viewer: CurrentViewer, text: Text) -> Response:
    await do_add_note(db, viewer.principal, case_id, text=text)
    return _back(case_id)


@router.post("/{case_id}/callback")
async def callback(
    case_id: str,
    db: DB,
    viewer: CurrentViewer,
    phone: Annotated[str, Form(max_length=40)] = "",
    when: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Now, or at `when` (the form's local date and time, read as UTC)."""
    await do_request_case_callback(
        db, viewer.principal, case_id, phone=phone.strip() or None, when=_utc(when)
    )
    return _back(case_id)


def _utc(when: str) -> datetime | None:
    if not when.strip():
        return None
    try:
        at = datetime.fromisoformat(when.strip())
    except ValueError as exc:
        raise InvalidInput("the time is YYYY-MM-DDTHH:MM (UTC)", field="when") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@router.post("/{case_id}/wrap-up")
async def wrap_up(
    case_id: str,
    db: DB,
    viewer: CurrentViewer,
    outcome: Annotated[Outcome, Form()],
    intent: Annotated[str, Form(max_length=80)] = "",
    disposition: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Intent, a disposition note, then resolve when it was: each its own action, in the order
    that refuses bad input before anything is written."""
    if intent.strip():
        intent = validate_intent(intent)
        await do_update_case(db, viewer.principal, case_id, CaseChanges(intent=intent))
    words = f"Wrap-up: {outcome.value.replace('_', ' ')}"
    if disposition.strip():
        words += f". {disposition.strip()}"
    await do_add_note(db, viewer.principal, case_id, text=words)
    if outcome is Outcome.RESOLVED:
        await do_resolve_case(db, viewer.principal, case_id)
        return see_other("/app")
    return _back(case_id)


@router.post("/{case_id}/assign")
async def assign(
    case_id: str,
    db: DB,
    viewer: CurrentViewer,
    assignee_id: Annotated[str, Form(max_length=60)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Take the case (`me`), give it back to the queue (empty), or reassign it (supervisor)."""
    target = viewer.user.id if assignee_id == "me" else (assignee_id or None)
    await do_assign_case(db, viewer.principal, case_id, target)
    return see_other(back if back.startswith("/app") else f"/app/cases/{case_id}")


@router.post("/{case_id}/merge")
async def merge(
    case_id: str,
    db: DB,
    viewer: CurrentViewer,
    other: Annotated[str, Form(min_length=1, max_length=320)],
) -> Response:
    """Merge another customer (by id, or by an identity such as their email or phone number)
    into this case's customer."""
    authorize(viewer.principal, Permission.MERGE_CUSTOMERS)
    tenant_id = viewer.principal.tenant_id
    async with db.uow(write=False) as uow:
        case = scoped(viewer.principal, await uow.cases.get(tenant_id, case_id), "case")
        survivor = await uow.customers.live(tenant_id, case.customer_id)
        found = await uow.customers.get(tenant_id, other.strip())
        if found is None:
            matches = await uow.identities.search(tenant_id, other.strip().lower(), limit=1)
            if not matches:
                matches = await uow.identities.search(tenant_id, other.strip(), limit=1)
            found = await uow.customers.live(tenant_id, matches[0].customer_id) if matches else None
    if survivor is None or found is None:
        raise NotFound("no customer with that id, email or phone number", kind="customer")
    if found.id == survivor.id:
        raise InvalidInput("that is already this customer", field="other")
    await do_merge_customers(db, viewer.principal, survivor.id, found.id, reason="merged by agent")
    return _back(case_id)


@router.post("/{case_id}/unmerge/{merge_id}")
async def unmerge(case_id: str, merge_id: str, db: DB, viewer: CurrentViewer) -> Response:
    await do_unmerge_customers(db, viewer.principal, merge_id)
    return _back(case_id)
