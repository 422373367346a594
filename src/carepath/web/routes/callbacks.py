"""Callbacks for agents and supervisors: ask for one from any case, list them, call now, cancel;
and the calls of a case."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from carepath.access import Permission, authorize, scoped
from carepath.actions.agent_callbacks import do_cancel_callback, do_request_case_callback
from carepath.actions.outbound_calls import do_call_now
from carepath.domain.callbacks import CallbackStatus
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut
from carepath.web.schemas_calls import CallbackDetailOut, CallbackOut, CallOut, CaseCallbackIn

router = APIRouter(tags=["callbacks"])


@router.post(
    "/v1/cases/{case_id}/callbacks",
    status_code=201,
    summary="Ask for a callback about the case (now or at a time)",
)
async def request_case_callback(
    case_id: str, principal: CurrentPrincipal, db: DB, body: CaseCallbackIn | None = None
) -> CallbackOut:
    body = body or CaseCallbackIn()
    when = None if body.when == "now" else body.when
    assert when is None or isinstance(when, datetime)
    callback = await do_request_case_callback(db, principal, case_id, phone=body.phone, when=when)
    return CallbackOut.of(callback)


@router.get("/v1/cases/{case_id}/calls", summary="The phone calls of a case")
async def case_calls(case_id: str, principal: CurrentPrincipal, db: DB) -> list[CallOut]:
    authorize(principal, Permission.READ_CASES)
    async with db.uow(write=False) as uow:
        case = scoped(principal, await uow.cases.get(principal.tenant_id, case_id), "case")
        calls = await uow.calls.of_case(principal.tenant_id, case.id)
    return [CallOut.of(call) for call in calls]


@router.get("/v1/callbacks", summary="List callbacks", response_model=PageOut[CallbackOut])
async def list_callbacks(
    principal: CurrentPrincipal,
    db: DB,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: CallbackStatus | None = None,
    case_id: str | None = None,
) -> PageOut[CallbackOut]:
    authorize(principal, Permission.READ_CASES)
    async with db.uow(write=False) as uow:
        page = await uow.callbacks.list(
            principal.tenant_id, status=status, case_id=case_id, limit=limit, cursor=cursor
        )
    return PageOut[CallbackOut](
        items=[CallbackOut.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/callbacks/{callback_id}", summary="A callback with its calls")
async def get_callback(callback_id: str, principal: CurrentPrincipal, db: DB) -> CallbackDetailOut:
    authorize(principal, Permission.READ_CASES)
    async with db.uow(write=False) as uow:
        callback = scoped(
            principal, await uow.callbacks.get(principal.tenant_id, callback_id), "callback"
        )
        calls = await uow.calls.of_callback(principal.tenant_id, callback.id)
    return CallbackDetailOut(
        **CallbackOut.of(callback).model_dump(), calls=[CallOut.of(c) for c in calls]
    )


@router.post(
    "/v1/callbacks/{callback_id}/call",
    status_code=202,
    summary="Call the customer now (through the provider, connecting you)",
)
async def call_now(callback_id: str, principal: CurrentPrincipal, db: DB) -> CallOut:
    return CallOut.of(await do_call_now(db, principal, callback_id))


@router.post("/v1/callbacks/{callback_id}/cancel", summary="Cancel a callback")
async def cancel_callback(callback_id: str, principal: CurrentPrincipal, db: DB) -> CallbackOut:
    return CallbackOut.of(await do_cancel_callback(db, principal, callback_id))
