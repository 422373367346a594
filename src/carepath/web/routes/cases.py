"""Cases: list, read with the whole cross-channel history, and act on them."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query

from carepath.access import Permission, authorize, scoped
from carepath.actions.cases import (
    CaseChanges,
    do_add_note,
    do_assign_case,
    do_reopen_case,
    do_reply,
    do_resolve_case,
    do_update_case,
)
from carepath.actions.personal_data import do_record_case_access
from carepath.domain.cases import CaseStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.whatsapp import Template
from carepath.ids import CustomerId
from carepath.storage.repositories import CaseFilter
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut
from carepath.web.schemas_cases import (
    AssignIn,
    CaseDetailOut,
    CaseOut,
    CaseUpdateIn,
    ContactOut,
    JourneyEventOut,
    MessageOut,
    NoteIn,
    ReplyIn,
)

router = APIRouter(prefix="/v1/cases", tags=["cases"])
JOURNEY_WINDOW = timedelta(days=30)


@router.get("", summary="List cases", response_model=PageOut[CaseOut])
async def list_cases(
    principal: CurrentPrincipal,
    db: DB,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: CaseStatus | None = None,
    channel: Channel | None = None,
    intent: str | None = None,
    assignee: str | None = Query(default=None, description="A user id, or `me`."),
    customer: str | None = Query(default=None, description="A customer id (merges included)."),
) -> PageOut[CaseOut]:
    authorize(principal, Permission.READ_CASES)
    if assignee == "me":
        assignee = principal.user_id or ""
    async with db.uow(write=False) as uow:
        customer_ids = None
        if customer is not None:
            customer_ids = await uow.customers.cluster_ids(
                principal.tenant_id, CustomerId(customer)
            )
        where = CaseFilter(
            status=status,
            channel=channel,
            intent=intent,
            assignee_id=assignee,
            customer_ids=customer_ids,
        )
        page = await uow.cases.list(principal.tenant_id, where, limit=limit, cursor=cursor)
    return PageOut[CaseOut](items=[CaseOut.of(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/{case_id}", summary="A case with its messages, contacts and the customer's journey")
async def get_case(case_id: str, principal: CurrentPrincipal, db: DB) -> CaseDetailOut:
    authorize(principal, Permission.READ_CASES)
    async with db.uow(write=False) as uow:
        case = scoped(principal, await uow.cases.get(principal.tenant_id, case_id), "case")
        messages = await uow.messages.of_case(principal.tenant_id, case.id)
        contacts = await uow.contacts.of_case(principal.tenant_id, case.id)
        cluster = await uow.customers.cluster_ids(principal.tenant_id, case.customer_id)
        journey = await uow.journey.of_customers(
            principal.tenant_id, cluster, since=utcnow() - JOURNEY_WINDOW
        )
    await do_record_case_access(db, principal, case.id, "read", "api")
    return CaseDetailOut(
        **CaseOut.of(case).model_dump(),
        handoff=case.handoff,
        messages=[MessageOut.of(m) for m in messages],
        contacts=[ContactOut.of(c) for c in contacts],
        journey=[JourneyEventOut.of(j) for j in journey],
    )


@router.post("/{case_id}/replies", status_code=201, summary="Reply to the customer")
async def reply(case_id: str, body: ReplyIn, principal: CurrentPrincipal, db: DB) -> MessageOut:
    template = body.template
    message = await do_reply(
        db,
        principal,
        case_id,
        text=body.text or "",
        channel=body.channel,
        set_pending=body.set_pending,
        template=Template.of(template.name, template.language, template.components)
        if template
        else None,
    )
    return MessageOut.of(message)


@router.post("/{case_id}/notes", status_code=201, summary="Add an internal note")
async def add_note(case_id: str, body: NoteIn, principal: CurrentPrincipal, db: DB) -> MessageOut:
    return MessageOut.of(await do_add_note(db, principal, case_id, text=body.text))


@router.patch("/{case_id}", summary="Set intent, priority or subject")
async def update_case(
    case_id: str, body: CaseUpdateIn, principal: CurrentPrincipal, db: DB
) -> CaseOut:
    changes = CaseChanges(
        intent=body.intent,
        clear_intent=body.clear_intent,
        priority=body.priority,
        subject=body.subject,
    )
    return CaseOut.of(await do_update_case(db, principal, case_id, changes))


@router.post("/{case_id}/assign", summary="Assign the case, or give it back to the queue")
async def assign(case_id: str, body: AssignIn, principal: CurrentPrincipal, db: DB) -> CaseOut:
    return CaseOut.of(await do_assign_case(db, principal, case_id, body.assignee_id))


@router.post("/{case_id}/resolve", summary="Resolve the case (sends the survey)")
async def resolve(case_id: str, principal: CurrentPrincipal, db: DB) -> CaseOut:
    return CaseOut.of(await do_resolve_case(db, principal, case_id))


@router.post("/{case_id}/reopen", summary="Reopen a resolved case")
async def reopen(case_id: str, principal: CurrentPrincipal, db: DB) -> CaseOut:
    return CaseOut.of(await do_reopen_case(db, principal, case_id))
